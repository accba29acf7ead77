"""A Google Sheets v4 sandbox: spreadsheet metadata, values of a range, and Google's OAuth.

- `POST /token` (oauth2.googleapis.com's shape): `{access_token, expires_in,
  scope, token_type}` (+ `refresh_token` for a code); errors
  `{"error": "invalid_grant", "error_description": ...}`;
- `GET /v4/spreadsheets/{id}` with an optional `fields` mask
  (`fields=sheets.properties` → `sheets[].properties {sheetId, title, index, ...}`);
- `GET /v4/spreadsheets/{id}/values/{range}`: `{range, majorDimension, values}`,
  trailing empty cells and rows left out (ragged rows, no `values` at all for
  an empty range); `valueRenderOption=UNFORMATTED_VALUE` gives numbers and
  booleans as JSON ones, the default FORMATTED_VALUE gives strings;
- errors `{"error": {"code", "message", "status"}}`: 401 UNAUTHENTICATED (unknown
  or expired token), 403 PERMISSION_DENIED (a private spreadsheet not shared
  with the token's user, or no credentials at all), 404 NOT_FOUND, 400
  INVALID_ARGUMENT "Unable to parse range: ...", 429 RESOURCE_EXHAUSTED past
  `reads_per_minute` per user or through `throttle_next`.

A "user" is a grant: a refresh token (and every access token it yields) or a
static access token; `share(spreadsheet_id, token)` lets that user read a
private spreadsheet.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tools.sandboxes.a1 import (
    RangeError,
    apply_mask,
    column_letters,
    parse_mask,
    parse_range,
    quote_title,
)
from tools.sandboxes.common import AccessToken, RollingWindow, Sandbox
from tools.sandboxes.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from tools.sandboxes.wire import Request, Response, Route, route

Cell = str | int | float | bool | None
SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
MIN_ROWS, MIN_COLUMNS = 1000, 26  # a new sheet's grid
SPREADSHEETS = r"/v4/spreadsheets/(?P<id>[^/]+)"


def google_error(code: int, message: str, status: str, **extra: Any) -> Response:
    return Response(code, {"error": {"code": code, "message": message, "status": status, **extra}})


@dataclass
class Sheet:
    title: str
    sheet_id: int
    rows: list[list[Cell]]

    @property
    def row_count(self) -> int:
        return max(MIN_ROWS, len(self.rows))

    @property
    def column_count(self) -> int:
        return max(MIN_COLUMNS, *(len(row) for row in self.rows)) if self.rows else MIN_COLUMNS


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    private: bool = False
    shared_with: set[str] = field(default_factory=set)  # grants that may read it


def _formatted(value: Cell) -> Cell:
    """FORMATTED_VALUE with the default number format: what the cell shows, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _trimmed(lines: list[list[Cell]]) -> list[list[Cell]]:
    """Trailing empty cells of each line, then trailing empty lines, left out (as Google does)."""
    out: list[list[Cell]] = []
    for line in lines:
        end = len(line)
        while end and line[end - 1] in ("", None):
            end -= 1
        out.append(["" if cell is None else cell for cell in line[:end]])
    while out and not out[-1]:
        out.pop()
    return out


class GoogleSheetsSandbox(Sandbox):
    """Google Sheets' read API on loopback; `start()` returns the base URL for both
    sheets.googleapis.com and oauth2.googleapis.com."""

    name = "google-sheets"
    provider_title = "Google Sheets"
    oauth_path = "/token"
    content_type = "application/json; charset=UTF-8"

    oauth_errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "client_id": (401, "invalid_client", "The OAuth client was not found."),
        "client_secret": (401, "invalid_client", "Unauthorized"),
        "code": (400, "invalid_grant", "Malformed auth code."),
        "redirect_uri": (400, "redirect_uri_mismatch", "Bad Request"),
        "refresh_token": (400, "invalid_grant", "Token has been expired or revoked."),
        "grant_type": (400, "unsupported_grant_type", "Invalid grant_type"),
    }

    def __init__(self, *, client_id: str = GOOGLE_CLIENT_ID,
                 client_secret: str = GOOGLE_CLIENT_SECRET, token_ttl_seconds: float = 3599,
                 access_tokens: Iterable[str] = (), refresh_tokens: Iterable[str] = (),
                 reads_per_minute: int | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret,
                         token_ttl_seconds=token_ttl_seconds, static_tokens=access_tokens,
                         refresh_tokens=refresh_tokens, host=host, port=port)
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.reads_per_minute = reads_per_minute
        self._quota: dict[str, RollingWindow] = {}  # per user, as Google's per-user quota

    # -- test helpers ------------------------------------------------------------------

    def add_spreadsheet(self, spreadsheet_id: str, sheets: Mapping[str, Sequence[Sequence[Cell]]],
                        *, title: str | None = None, private: bool = False) -> None:
        """A spreadsheet of `sheets` (title → rows, in tab order); rows may be ragged."""
        tabs = [Sheet(name, 0 if index == 0 else zlib.crc32(name.encode()) % 2_000_000_000,
                      [list(row) for row in rows]) for index, (name, rows) in
                enumerate(sheets.items())]
        with self.lock:
            self.spreadsheets[spreadsheet_id] = Spreadsheet(
                spreadsheet_id, title or spreadsheet_id, tabs, private)

    def share(self, spreadsheet_id: str, token: str) -> None:
        """Let the user behind `token` (a refresh, static or issued access token) read it."""
        with self.lock:
            access = self._access.get(token)
            self.spreadsheets[spreadsheet_id].shared_with.add(access.grant if access else token)

    def throttle_next(self, count: int = 1) -> None:
        """The next `count` API requests answer Google's 429 RESOURCE_EXHAUSTED."""
        self.fail_next(429, self._quota_body(), count=count)

    # -- plumbing ----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [route("GET", SPREADSHEETS, self._spreadsheet),
                route("GET", SPREADSHEETS + r"/values/(?P<range>.+)", self._values)]

    def token_body(self, access: AccessToken, refresh_token: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": access.token,
                                "expires_in": int(self.token_ttl_seconds), "scope": SCOPE,
                                "token_type": "Bearer"}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return body

    def unauthorized(self, problem: str, token: AccessToken | None) -> Response:
        if problem == "missing":
            return google_error(403, "The request is missing a valid API key.",
                                "PERMISSION_DENIED")
        reason = "ACCESS_TOKEN_EXPIRED" if problem == "expired" else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
        response = google_error(
            401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "UNAUTHENTICATED", details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                         "reason": reason, "domain": "googleapis.com",
                                         "metadata": {"service": "sheets.googleapis.com"}}])
        response.headers["WWW-Authenticate"] = ('Bearer realm="https://accounts.google.com/", '
                                                'error="invalid_token"')
        return response

    def not_found(self, request: Request) -> Response:
        return google_error(404, "Requested entity was not found.", "NOT_FOUND")

    def bad_request(self, message: str) -> Response:
        return google_error(400, message, "INVALID_ARGUMENT")

    def _quota_body(self) -> dict[str, Any]:
        return {"error": {
            "code": 429, "status": "RESOURCE_EXHAUSTED",
            "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests "
                       "per minute per user' of service 'sheets.googleapis.com' for consumer "
                       "'project_number:000000000000'.",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                         "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                         "metadata": {"service": "sheets.googleapis.com",
                                      "quota_limit": "ReadRequestsPerMinutePerUser"}}]}}

    def before_api(self, request: Request) -> Response | None:
        if self.reads_per_minute is None or request.grant is None:
            return None
        window = self._quota.setdefault(request.grant, RollingWindow(self.reads_per_minute, 60))
        return None if window.allow(self.now()) else Response(429, self._quota_body())

    def _readable(self, request: Request) -> tuple[Spreadsheet | None, Response | None]:
        spreadsheet = self.spreadsheets.get(request.params["id"])
        if spreadsheet is None:
            return None, self.not_found(request)
        if spreadsheet.private and request.grant not in spreadsheet.shared_with:
            return None, google_error(403, "The caller does not have permission",
                                      "PERMISSION_DENIED")
        return spreadsheet, None

    # -- endpoints ---------------------------------------------------------------------

    def _spreadsheet(self, request: Request) -> Response:
        spreadsheet, refused = self._readable(request)
        if spreadsheet is None:
            return refused or self.not_found(request)
        body = {"spreadsheetId": spreadsheet.spreadsheet_id,
                "properties": {"title": spreadsheet.title, "locale": "en_US",
                               "timeZone": "Etc/GMT"},
                "sheets": [{"properties": {
                    "sheetId": sheet.sheet_id, "title": sheet.title, "index": index,
                    "sheetType": "GRID", "gridProperties": {"rowCount": sheet.row_count,
                                                            "columnCount": sheet.column_count}}}
                    for index, sheet in enumerate(spreadsheet.sheets)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/"
                                  f"{spreadsheet.spreadsheet_id}/edit"}
        mask = request.arg("fields")
        if mask:
            try:
                return Response(200, apply_mask(body, parse_mask(mask)))
            except ValueError:
                return self.bad_request(f"Invalid field selection {mask}")
        return Response(200, body)

    def _values(self, request: Request) -> Response:
        spreadsheet, refused = self._readable(request)
        if spreadsheet is None:
            return refused or self.not_found(request)
        text = request.params["range"]
        sheets = {sheet.title: sheet for sheet in spreadsheet.sheets}
        try:
            title, bounds = parse_range(text, list(sheets))
        except RangeError as error:
            return self.bad_request(str(error))
        sheet = sheets[title]
        top = bounds.first_row or 0
        left = bounds.first_col or 0
        bottom = min(sheet.row_count - 1, sheet.row_count - 1 if bounds.last_row is None
                     else bounds.last_row)
        right = min(sheet.column_count - 1, sheet.column_count - 1 if bounds.last_col is None
                    else bounds.last_col)
        lines = [row[left:right + 1] for row in sheet.rows[top:bottom + 1]]
        if request.arg("valueRenderOption", "FORMATTED_VALUE") != "UNFORMATTED_VALUE":
            lines = [[_formatted(cell) for cell in line] for line in lines]
        else:  # Sheets keeps doubles and writes a whole one as an integer: 3001, not 3001.0
            lines = [[int(cell) if isinstance(cell, float) and cell.is_integer() else cell
                      for cell in line] for line in lines]
        dimension = request.arg("majorDimension", "ROWS")
        if dimension not in ("ROWS", "COLUMNS"):
            return self.bad_request(f"Invalid value at 'major_dimension' ({dimension})")
        if dimension == "COLUMNS":
            width = max((len(line) for line in lines), default=0)
            lines = [[line[c] if c < len(line) else None for line in lines] for c in range(width)]
        cells = f"{column_letters(left)}{top + 1}"
        if (bottom, right) != (top, left):  # Google writes a single cell as "B2", not "B2:B2"
            cells += f":{column_letters(right)}{bottom + 1}"
        body: dict[str, Any] = {"range": f"{quote_title(title)}!{cells}",
                                "majorDimension": dimension}
        if values := _trimmed(lines):
            body["values"] = values
        return Response(200, body)


__all__ = ["Cell", "GoogleSheetsSandbox", "Sheet", "Spreadsheet"]

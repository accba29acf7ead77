"""Google Sheets API v4: a spreadsheet's sheet titles and one sheet's values.

429 and 5xx are retried with exponential back-off (1, 2, 4, 8 s); 401, 403,
404 and an unknown sheet become SheetsError with a code the import shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from chalicelib.adapters.retrying_http import GaveUp, send_with_retries
from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import LeadpipeError
from chalicelib.domain.sheet_source import a1_sheet_range
from chalicelib.provider_settings import provider_apps


class SheetsError(LeadpipeError):
    """Google refused or failed; `code` says why, for the import's error."""

    status = 400


class SheetsUnauthorized(SheetsError):
    code = "sheets_unauthorized"


_ERRORS: dict[int, tuple[type[SheetsError], str, str]] = {
    401: (SheetsUnauthorized, "sheets_unauthorized",
          "Google did not accept the access token (expired or revoked)"),
    403: (SheetsError, "sheets_forbidden",
          "The account behind the token may not read this spreadsheet (share it with it)"),
    404: (SheetsError, "spreadsheet_not_found", "No spreadsheet has this id"),
}


class GoogleSheets:
    def __init__(self, http: SafeHttp | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._http = http or SafeHttp()
        self._sleep = sleep

    def sheet_titles(self, spreadsheet_id: str, token: str) -> list[str]:
        body = self._get(f"/v4/spreadsheets/{spreadsheet_id}",
                         {"fields": "sheets.properties"}, token)
        sheets = sorted((s.get("properties", {}) for s in body.get("sheets", [])),
                        key=lambda p: int(p.get("index", 0)))
        return [str(p.get("title", "")) for p in sheets]

    def values(self, spreadsheet_id: str, title: str, token: str) -> list[list[Any]]:
        body = self._get(f"/v4/spreadsheets/{spreadsheet_id}/values/{a1_sheet_range(title)}",
                         {"valueRenderOption": "UNFORMATTED_VALUE",
                          "dateTimeRenderOption": "FORMATTED_STRING",
                          "majorDimension": "ROWS"}, token)
        values = body.get("values", [])
        return [list(row) for row in values if isinstance(row, list)]

    def _get(self, path: str, params: dict[str, str], token: str) -> dict[str, Any]:
        url = provider_apps()[Provider.GOOGLE_SHEETS].api_url + path
        # Back-off only: Retry-After is not read. SafeHttp's refusal goes through as it is.
        response = send_with_retries(self._http, "GET", url, params=params,
                                     headers={"Authorization": f"Bearer {token}"},
                                     sleep=self._sleep, gave_up=_gave_up,
                                     honours_retry_after=lambda status: False)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        raise _error(response)


def _gave_up(end: GaveUp) -> SheetsError:
    if end.exception is not None:
        return SheetsError(f"Google Sheets did not answer ({type(end.exception).__name__})",
                           code="sheets_unavailable")
    return SheetsError(f"Google Sheets kept answering {end.status} after {end.retries} retries",
                       code="sheets_rate_limited" if end.status == 429 else "sheets_unavailable")


def _error(response: requests.Response) -> SheetsError:
    try:
        message = str(response.json().get("error", {}).get("message", ""))
    except ValueError:
        message = ""
    if response.status_code == 400 and "Unable to parse range" in message:
        return SheetsError("The spreadsheet has no sheet with this name", code="sheet_not_found")
    kind, code, text = _ERRORS.get(response.status_code, (
        SheetsError, "sheets_error", f"Google Sheets answered {response.status_code}"))
    return kind(text, code=code, details={"status": response.status_code})

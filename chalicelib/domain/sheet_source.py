"""A Google Sheet as an import's source: the request's fields, the range, the cells.

Pure: parsing `{"source": "google_sheets", ...}`, quoting a sheet name for an
A1 range, and turning UNFORMATTED_VALUE cells (numbers as JSON numbers,
booleans, strings; trailing empty cells omitted) into the text cells every
other source gives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalicelib.domain.errors import FieldError, ValidationFailed

SOURCE = "google_sheets"
# Google's ids are URL-safe base64-ish; a URL pasted whole is accepted too.
_ID = re.compile(r"[A-Za-z0-9_-]{10,200}\Z")
_FROM_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]{10,200})")
MAX_SHEET_NAME = 100


@dataclass(frozen=True)
class SheetSource:
    spreadsheet_id: str
    sheet_name: str | None
    connection_id: str | None
    access_token: str | None


def parse_sheet_source(payload: Mapping[str, Any]) -> SheetSource:
    errors: list[FieldError] = []
    raw_id = payload.get("spreadsheet_id")
    spreadsheet_id = None
    if isinstance(raw_id, str):
        found = _FROM_URL.search(raw_id)
        candidate = found.group(1) if found else raw_id.strip()
        spreadsheet_id = candidate if _ID.match(candidate) else None
    if spreadsheet_id is None:
        errors.append(FieldError("spreadsheet_id", "invalid_spreadsheet_id",
                                 "spreadsheet_id is a Google Sheets id (or its URL)"))
    sheet = payload.get("sheet_name")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()
                              or len(sheet) > MAX_SHEET_NAME):
        errors.append(FieldError("sheet_name", "invalid_type",
                                 f"sheet_name is a sheet's title (1 to {MAX_SHEET_NAME} "
                                 "characters)"))
    connection_id = payload.get("connection_id")
    token = payload.get("access_token")
    if (connection_id is None) == (token is None):
        errors.append(FieldError("connection_id", "credentials_required",
                                 "give exactly one of connection_id or access_token"))
    elif connection_id is not None and (not isinstance(connection_id, str)
                                        or not connection_id.startswith("cn_")):
        errors.append(FieldError("connection_id", "invalid_type", "connection_id is cn_..."))
    elif token is not None and (not isinstance(token, str) or not token.strip()
                                or len(token) > 4096):
        errors.append(FieldError("access_token", "invalid_type", "access_token is a string"))
    if errors or spreadsheet_id is None:
        raise ValidationFailed(errors)
    return SheetSource(spreadsheet_id, sheet.strip() if isinstance(sheet, str) else None,
                       connection_id if isinstance(connection_id, str) else None,
                       token.strip() if isinstance(token, str) else None)


def a1_sheet_range(title: str) -> str:
    """A whole sheet as an A1 range, quoted and URL-encoded: 'Q1 ''Hot'' Leads'."""
    return quote("'" + title.replace("'", "''") + "'", safe="")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # A phone typed as a number arrives as 14155550134.0 in some clients.
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def text_rows(values: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Rows of text, each as long as the longest (Sheets omits trailing empties)."""
    width = max((len(row) for row in values), default=0)
    return [[cell_text(v) for v in row] + [""] * (width - len(row)) for row in values]

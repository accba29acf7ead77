"""Leads → CSV, safe to open in a spreadsheet.

A cell that starts with = + - @ (or tab / carriage return) is run as a formula
by Excel, Sheets and LibreOffice; such cells get a leading apostrophe (OWASP's
advice). Plain numbers such as E.164 phones (+14155550134) are left as they are:
they evaluate to themselves, and mangling every phone would hurt round trips.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from chalicelib.domain.lead import Lead

STANDARD_COLUMNS = (
    "id", "first_name", "last_name", "email", "emails", "phone", "phone_extension", "phones",
    "company", "job_title", "linkedin_url", "location", "notes", "tags", "status",
    "email_status", "email_status_reason", "created_at", "updated_at",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A signed number a spreadsheet reads as a number, never as a formula. Anything
# else after a sign ("-1-1", "+1 (415) 555-0134") is arithmetic to Excel.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
LIST_SEPARATOR = ";"


def inert_cell(value: str) -> str:
    """The one function every CSV/XLSX cell we write goes through: never a formula.

    Spreadsheets skip leading spaces before a formula (" =1+1"), so the check
    is made after trimming them; the apostrophe keeps the cell as written.
    """
    start = value.lstrip(" ")
    if start.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(start):
        return "'" + value
    return value


def export_cell(value: object) -> str:
    """A lead value as every export writes it (lists joined), never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return inert_cell(LIST_SEPARATOR.join(str(v) for v in value))
    return inert_cell(str(value))


def custom_columns(custom_keys: Iterable[str]) -> list[tuple[str, str]]:
    """(header, key) for each custom field; a key equal to a standard column is prefixed."""
    return [(f"custom.{k}" if k in STANDARD_COLUMNS else k, k) for k in sorted(set(custom_keys))]


def iter_csv(leads: Iterable[Lead], custom_keys: Iterable[str]) -> Iterator[str]:
    """Yield the CSV text chunk by chunk: the header, then one line per lead."""
    extra = custom_columns(custom_keys)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*STANDARD_COLUMNS, *(header for header, _ in extra)])
    for lead in leads:
        row = [export_cell(getattr(lead, column)) for column in STANDARD_COLUMNS]
        row.extend(export_cell(lead.custom_fields.get(key)) for _, key in extra)
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

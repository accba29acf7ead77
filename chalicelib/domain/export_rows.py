"""The rows of a background export: written part by part, laid out once at the end.

A part is written before the export knows every custom field of the list (a
later part may hold a new one), so a part's row is the standard cells followed
by one cell holding the lead's custom cells as a JSON object. The conversion,
knowing every key by then, lays each row out in the final columns and encodes
it as CSV or as a sheet's XML (domain/export_xlsx.py packs the sheets into an
.xlsx). Every cell goes through `inert_cell` when the part is written: what
the conversion moves around is already safe to open in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.csv_export import (
    STANDARD_COLUMNS,
    custom_columns,
    export_cell,
    inert_cell,
)
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lead import Lead

MAX_COLUMNS = 200
MAX_COLUMN_LENGTH = 200
EXPORT_FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CUSTOM_PREFIX = "custom."


def part_row(lead: Lead) -> list[str]:
    """One lead in a part: its standard cells, then its custom cells as JSON."""
    custom = {key: export_cell(value) for key, value in lead.custom_fields.items()}
    return [*(export_cell(getattr(lead, c)) for c in STANDARD_COLUMNS),
            json.dumps(custom, separators=(",", ":"), ensure_ascii=False)]


def part_csv(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """Rows as CSV bytes, about 64 KiB at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


@dataclass(frozen=True)
class Layout:
    """The final columns: (header, standard column index or None, custom key or None)."""

    columns: tuple[tuple[str, int | None, str | None], ...]

    @classmethod
    def of(cls, custom_keys: Iterable[str], wanted: Sequence[str] | None) -> Layout:
        if wanted is None:  # as the synchronous export: standard, then custom sorted
            return cls((*((c, i, None) for i, c in enumerate(STANDARD_COLUMNS)),
                        *((header, None, key) for header, key in custom_columns(custom_keys))))
        chosen: list[tuple[str, int | None, str | None]] = []
        for name in wanted:
            if name in STANDARD_COLUMNS:
                chosen.append((name, STANDARD_COLUMNS.index(name), None))
            else:
                chosen.append((name, None, name.removeprefix(CUSTOM_PREFIX)))
        return cls(tuple(chosen))

    def header_cells(self) -> list[str]:
        return [inert_cell(header) for header, _, _ in self.columns]

    def header(self) -> bytes:
        return csv_line(self.header_cells())

    def cells(self, part_row: list[str]) -> list[str]:
        """A part's row (standard cells, custom JSON) → the final row's cells."""
        custom: dict[str, Any] = json.loads(part_row[-1]) if part_row else {}
        return [part_row[index] if index is not None else str(custom.get(key or "", ""))
                for _, index, key in self.columns]

    def lay_out(self, part_lines: Iterable[str]) -> Iterator[bytes]:
        """A part's CSV text lines → the final rows' bytes (one at a time)."""
        for row in csv.reader(part_lines):
            yield csv_line(self.cells(row))


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()


def parse_columns(raw: Any) -> tuple[str, ...] | None:
    """`columns` of an export request: standard names, custom keys (or `custom.<key>`)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_COLUMNS or not all(
            isinstance(c, str) and 0 < len(c.strip()) <= MAX_COLUMN_LENGTH for c in raw):
        raise ValidationFailed([FieldError(
            "columns", "invalid_type",
            f"columns is an array of 1 to {MAX_COLUMNS} column names "
            f"(each 1 to {MAX_COLUMN_LENGTH} characters)")])
    return tuple(dict.fromkeys(c.strip() for c in raw))


def export_filename(list_name: str, list_id: str, fmt: str = "csv") -> str:
    """`<list name>.<format>` with only characters safe in a Content-Disposition header."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in " ._-") else "_"
                   for ch in list_name).strip(" ._")
    return f"{safe[:100] or list_id}.{fmt}"

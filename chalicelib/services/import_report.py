"""An import's error report: one CSV part per chunk in S3, streamed back as one file.

Rows that were rejected, or saved with warnings, with their codes and reasons
and the row's own cells (made inert: a report is opened in spreadsheets).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from chalicelib.domain.csv_export import inert_cell
from chalicelib.domain.errors import FieldError
from chalicelib.services.ports import FileStore


@dataclass(frozen=True)
class ReportRow:
    number: int  # the row's number in the source; -1 for a line about many rows
    cells: Sequence[str]
    errors: Sequence[FieldError] = ()
    warnings: Sequence[FieldError] = ()


class ErrorReport:
    def __init__(self, files: FileStore) -> None:
        self._files = files

    @staticmethod
    def part_key(import_id: str, number: int) -> str:
        return f"errors/{import_id}/{number:07d}.csv"

    def write_part(self, import_id: str, number: int, rows: Sequence[ReportRow]) -> None:
        """The report lines of one chunk (written again, identically, on redelivery)."""
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in sorted(rows, key=lambda r: r.number):
            outcome = "rejected" if row.errors else "saved_with_warnings"
            problems = row.errors or row.warnings
            writer.writerow([inert_cell(str(cell)) for cell in (
                row.number if row.number >= 0 else "", outcome,
                ";".join(dict.fromkeys(p.code for p in problems)),
                "; ".join(f"{p.field}: {p.message}" for p in problems),
                *row.cells,
            )])
        self._files.put_bytes(self.part_key(import_id, number), buffer.getvalue().encode())

    def stream(self, import_id: str, headers: Sequence[str]) -> Iterator[str]:
        buffer = io.StringIO()
        # The file's own header cells are user data too: made inert like the rest.
        csv.writer(buffer, lineterminator="\r\n").writerow(
            [inert_cell(h) for h in ("row", "outcome", "codes", "reason", *headers)])
        yield buffer.getvalue()
        for key in sorted(self._files.keys(f"errors/{import_id}/")):
            data = self._files.get_bytes(key)
            if data:
                yield data.decode()

"""An export's files in S3: its parts, the segments converted from them, the packed file.

Parts (exports/<id>/part-*.csv) hold rows before the columns are known.
Segments (exports/<id>/seg-*.bin) hold the final format: CSV lines, or a
piece of a sheet's deflated XML (domain/export_xlsx.py). Each conversion step
reads the parts from where the last segment stopped ("<part>:<row>"), so
memory stays flat however many rows, and a run stops at its deadline. Packing
copies the segments into exports/<id>.<format> and removes parts and
segments, which would otherwise keep a second copy of the leads for a day.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import NotFound
from chalicelib.domain.export_rows import CONTENT_TYPES, Layout, csv_line
from chalicelib.domain.export_xlsx import (
    SHEET_END,
    SHEET_ROWS,
    Deflater,
    SheetXml,
    ZipEntry,
    deflated,
    package,
    sheet_entry_name,
    workbook_files,
)
from chalicelib.domain.ids import new_id
from chalicelib.services.ports import FileStore

if TYPE_CHECKING:
    from chalicelib.services.exports import ExportRecord, ExportStore

_COPY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ExportPart:
    """One part as recorded: its object, and where the next part starts (None: the last)."""

    number: int
    key: str
    rows: int
    bytes: int
    end: str | None
    custom_keys: tuple[str, ...]


@dataclass(frozen=True)
class ExportSegment:
    """One converted piece as recorded. Sizes and CRC-32 are the sheet's so far (xlsx)."""

    number: int
    key: str
    sheet: int
    rows: int
    sheet_rows: int
    crc: int
    raw: int
    packed: int
    sheet_done: bool
    next: str | None  # "<part>:<row>" where the next segment starts; None: every row is in


@dataclass(frozen=True)
class Step:
    """The next step of a written export: `segment<n>` or `pack`, and what it works from."""

    name: str
    parts: list[ExportPart]
    segments: list[ExportSegment]


class ExportFiles:
    def __init__(self, store: ExportStore, files: FileStore) -> None:
        self._store = store
        self._files = files

    @staticmethod
    def final_key(export_id: str, fmt: str) -> str:
        return f"exports/{export_id}.{fmt}"

    @staticmethod
    def part_key(export_id: str, number: int) -> str:
        # Each delivery its own name: two deliveries never write over each other.
        return f"exports/{export_id}/part-{number:06d}-{new_id('pt')[3:]}.csv"

    def keys_of(self, export_id: str) -> list[str]:
        """Every object of an export: parts, segments, the packed file."""
        return [*self._files.keys(f"exports/{export_id}/"),
                *self._files.keys(f"exports/{export_id}.")]

    def erase(self, export_id: str, list_id: str) -> None:
        """The export's files, then its records (a crash between leaves the records,
        so the export is found again and the erasure finished)."""
        for key in self.keys_of(export_id):
            self._files.delete(key)
        self._store.delete_export(export_id, list_id)

    def put(self, key: str, chunks: Iterable[bytes], fmt: str = "csv") -> int:
        """Stream `chunks` to `key` (multipart: one 8 MiB part in memory); bytes written."""
        size = [0]

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                size[0] += len(chunk)
                yield chunk

        self._files.put_stream(key, counted(), content_type=CONTENT_TYPES[fmt], metadata={})
        return size[0]

    def next_step(self, record: ExportRecord) -> Step:
        parts = self._store.parts(record.id)
        if not parts or [p.number for p in parts] != list(range(1, len(parts) + 1)) \
                or parts[-1].end is not None:
            raise RuntimeError(f"export {record.id} has parts missing: retried later")
        segments = self._store.segments(record.id)
        if segments and segments[-1].next is None:
            return Step("pack", parts, segments)
        return Step(f"segment{len(segments) + 1}", parts, segments)

    # --- conversion -------------------------------------------------------------------
    def convert(self, record: ExportRecord, step: Step, deadline: float) -> bool:
        """Write the next segment until the deadline (one row at least); False if a racing
        delivery recorded that segment first."""
        previous = step.segments[-1] if step.segments else None
        new_sheet = previous is None or previous.sheet_done
        sheet = 1 if previous is None else previous.sheet + int(previous.sheet_done)
        done = 0 if new_sheet or previous is None else previous.sheet_rows
        xlsx = record.format == "xlsx"
        layout = Layout.of({k for p in step.parts for k in p.custom_keys}, record.columns)
        sheet_xml = SheetXml(len(layout.columns))
        state: dict[str, Any] = {"rows": 0, "next": None, "full": False}

        def lines() -> Iterator[bytes]:
            if new_sheet:
                yield sheet_xml.start(layout.header_cells()) if xlsx else layout.header()
            start = _cursor(previous.next) if previous and previous.next else (1, 0)
            for where, row in self._rows_from(step.parts, start):
                if xlsx and done + state["rows"] >= SHEET_ROWS:
                    state["next"], state["full"] = where, True
                    break
                if state["rows"] and time.monotonic() > deadline:
                    state["next"] = where
                    break
                cells = layout.cells(row)
                state["rows"] += 1
                yield sheet_xml.row(done + state["rows"] + 1, cells) if xlsx else csv_line(cells)
            if xlsx and (state["next"] is None or state["full"]):
                yield SHEET_END

        deflater = Deflater(*((0, 0, 0) if new_sheet or previous is None else
                              (previous.crc, previous.raw, previous.packed)))

        def stored() -> Iterator[bytes]:
            for chunk in lines():
                out = deflater.feed(chunk) if xlsx else chunk
                if out:
                    yield out
            if xlsx:
                yield deflater.end(last=state["next"] is None or state["full"])

        number = len(step.segments) + 1
        key = f"exports/{record.id}/seg-{number:06d}-{new_id('sg')[3:]}.bin"
        size = self.put(key, stored())
        before = 0 if new_sheet or previous is None else previous.packed
        segment = ExportSegment(
            number, key, sheet, state["rows"], done + state["rows"], deflater.crc,
            deflater.raw if xlsx else before + size, deflater.packed if xlsx else before + size,
            state["next"] is None or state["full"], state["next"])
        try:
            recorded = self._store.record_segment(record.id, segment)
        except NotFound:  # erased with its list meanwhile: leave nothing behind
            self._files.delete(key)
            raise
        if recorded:
            return True
        self._files.delete(key)  # another delivery's segment stands; it goes on from there
        return False

    def _rows_from(self, parts: Sequence[ExportPart],
                   start: tuple[int, int]) -> Iterator[tuple[str, list[str]]]:
        """Each part row from `start` (part, row), with its own cursor."""
        for part in parts:
            if part.number < start[0] or not part.rows:
                continue
            skip = start[1] if part.number == start[0] else 0
            text = io.TextIOWrapper(self._files.open_stream(part.key), encoding="utf-8",
                                    newline="")
            for index, row in enumerate(csv.reader(text)):
                if index >= skip:
                    yield f"{part.number}:{index}", row

    # --- packing ------------------------------------------------------------------------
    def pack(self, record: ExportRecord, step: Step) -> None:
        """Copy the segments into the export's file, complete it, drop parts and segments."""
        segments = step.segments
        if record.format == "xlsx":
            sheets = [list(group) for _, group in groupby(segments, key=lambda s: s.sheet)]
            entries = [ZipEntry(sheet_entry_name(n), s[-1].crc, s[-1].raw, s[-1].packed)
                       for n, s in enumerate(sheets, start=1)]
            files = [deflated(name, data) for name, data in workbook_files(len(sheets))]
            chunks = package(files, entries, lambda i: self._copy(sheets[i]))
        else:
            chunks = self._copy(segments)
        size = self.put(self.final_key(record.id, record.format), chunks, record.format)
        self._store.finish(record.id, "completed", rows=sum(p.rows for p in step.parts),
                           size=size, finished_at=utc_now_iso())
        for key in [p.key for p in step.parts] + [s.key for s in segments]:
            self._files.delete(key)

    def _copy(self, segments: Sequence[ExportSegment]) -> Iterator[bytes]:
        for segment in segments:
            stream = self._files.open_stream(segment.key)
            while chunk := stream.read(_COPY_BYTES):
                yield chunk


def _cursor(text: str) -> tuple[int, int]:
    part, _, row = text.partition(":")
    return int(part), int(row)

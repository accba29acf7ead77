"""Rows of an uploaded CSV, spreadsheet or JSON file, every cell as a string.

CSV is streamed: memory holds one row at a time (plus small read buffers),
whatever the file size. Spreadsheets are not: the reader (calamine) loads the
chosen sheet whole, which is why zip-based ones pass `check_zip_spreadsheet`
first and why upload sizes must be capped before this point.

Row numbers are what a user sees when opening the file: the 1-based physical
line where a CSV row starts (a quoted cell spanning three lines makes the next
row's number jump by three), or the spreadsheet row number. Blank rows (no
cell with anything but whitespace) are skipped; numbering is not disturbed.

JSON (arrays and JSON Lines) is read by `json_rows`, in two streaming passes
over a seekable stream; see there for its numbering (header row 0) and for
`Row.problem`, which only JSON records carry so far.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from chalicelib.domain.file_format import (
    JSON_KINDS,
    SPREADSHEET_KINDS,
    FileFormat,
    UnreadableFile,
)
from chalicelib.domain.spreadsheet_checks import check_xlsx_sheets, check_zip_spreadsheet

# The csv module refuses cells over 128 KiB by default; long notes pasted into
# a cell are legitimate, so the limit is raised and length rules are left to the
# caller. The limit is process-wide in the csv module; it is only ever raised.
MAX_CELL_CHARS = 16 * 1024 * 1024
# A physical line longer than this cannot be a sane row (it would need a couple
# of cells at the cell limit); refusing it keeps memory bounded when a file has
# no line breaks the reader recognises.
MAX_LINE_CHARS = 2 * MAX_CELL_CHARS


@dataclass(frozen=True)
class Row:
    # 1-based physical line where the row starts (CSV, JSON Lines), sheet row
    # number, or 1-based position of the record in a JSON array (header: 0).
    number: int
    cells: list[str]
    # A reason code when the row's record could not be read at all (a JSON
    # line that is not JSON...: json_rows.ROW_PROBLEMS); its cells are then
    # empty and the row is to be rejected with this code and message.
    problem: str | None = None
    problem_message: str | None = None


def iter_rows(stream: BinaryIO, fmt: FileFormat, sheet: str | None = None) -> Iterator[Row]:
    """Rows of a CSV or JSON file (`sheet` ignored) or of one sheet of a spreadsheet.

    JSON needs a seekable stream: its columns take a first pass over the file.
    """
    if fmt.kind == "csv":
        return iter_csv_rows(stream, fmt)
    if fmt.kind in SPREADSHEET_KINDS:
        return iter_sheet_rows(stream, fmt, sheet)
    if fmt.kind in JSON_KINDS:
        # Imported here: json_rows builds Rows, so it imports this module.
        from chalicelib.domain.json_rows import read_json_rows  # noqa: PLC0415

        return read_json_rows(stream, fmt)
    raise ValueError(f"unknown file kind {fmt.kind!r}")


def iter_csv_rows(stream: BinaryIO, fmt: FileFormat) -> Iterator[Row]:
    """Stream the rows of a CSV read from the stream's current position.

    Undecodable bytes become U+FFFD, NUL characters are dropped, and line ends
    may be \\r\\n, \\n or \\r, mixed. A first line "sep=;" is skipped. A quote
    left open at the end of the file (csv module behaviour) makes the rest of
    the file, newlines included, the last cell of one final row; past
    MAX_CELL_CHARS that is `cell_too_large`.
    The stream is left open.
    """
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)
    # newline="": the csv module needs line ends as they are, so that quoted
    # newlines survive; universal line splitting still applies.
    text = io.TextIOWrapper(stream, encoding=fmt.encoding or "utf-8", errors="replace",
                            newline="")
    try:
        reader = csv.reader(_physical_lines(text), delimiter=fmt.delimiter or ",")
        lines_read = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _csv_error(exc, lines_read + 1) from exc
            number, lines_read = lines_read + 1, reader.line_num
            if number == 1 and lines_read == 1 and _is_sep_line(cells):
                continue
            if not _is_blank(cells):
                yield Row(number, cells)
    finally:
        # Without this, the wrapper would close the caller's stream when collected.
        text.detach()


def iter_sheet_rows(stream: BinaryIO, fmt: FileFormat, sheet: str | None = None) -> Iterator[Row]:
    """Rows of one sheet: the named one, else the first visible worksheet.

    The workbook is opened and checked at the call, so a bad file or an
    unknown sheet raises here rather than at the first row.
    """
    if fmt.kind in ("xlsx", "ods"):
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        check_zip_spreadsheet(stream, size)
        if fmt.kind == "xlsx":
            check_xlsx_sheets(stream)
    data = _load_sheet(stream, sheet)
    return _sheet_rows(data)


def split_header(rows: Iterable[Row]) -> tuple[list[str], Iterator[Row]]:
    """The first non-blank row's cells, and an iterator over the rows after it."""
    iterator = iter(rows)
    for row in iterator:
        if not _is_blank(row.cells):
            header = list(row.cells)
            # A BOM the decoder did not remove (e.g. a UTF-8 file with two)
            # would stop the first column from matching its name.
            header[0] = header[0].lstrip("\ufeff")
            return header, iterator
    raise UnreadableFile("The file has no header row: it contains no data", code="empty_file")


def _physical_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """One string per physical line, so that csv.reader.line_num counts physical lines."""
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS:
            raise UnreadableFile(
                f"A line of the file is longer than {MAX_LINE_CHARS} characters",
                code="row_too_large", details={"max_chars": MAX_LINE_CHARS},
            )
        yield line.replace("\x00", "") if "\x00" in line else line


def _csv_error(exc: csv.Error, line: int) -> UnreadableFile:
    if "field larger than field limit" in str(exc):
        return UnreadableFile(
            f"A cell starting on line {line} or after is longer than {MAX_CELL_CHARS} "
            "characters (often a quote that is never closed)",
            code="cell_too_large", details={"line": line, "max_chars": MAX_CELL_CHARS},
        )
    return UnreadableFile(f"The CSV cannot be read near line {line}: {exc}",
                          code="malformed_csv", details={"line": line})


def _is_sep_line(cells: list[str]) -> bool:
    # Excel's "sep=;" first line (see file_format) declares the delimiter; it
    # is not the header. Split on that delimiter it reads as ["sep=", ""].
    return len(cells) == 2 and cells[0].lower() == "sep=" and cells[1] == ""


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _load_sheet(stream: BinaryIO, sheet: str | None) -> CalamineSheet:
    try:
        workbook = CalamineWorkbook.from_filelike(stream)
    except PasswordError as exc:
        raise UnreadableFile("The spreadsheet is password-protected; remove the password "
                             "and upload it again", code="password_protected") from exc
    except CalamineError as exc:
        raise _corrupt(exc) from exc
    except BaseException as exc:
        if _is_panic(exc):
            raise _corrupt(exc) from exc
        raise
    with workbook:
        name = _choose_sheet(workbook, sheet)
        try:
            return workbook.get_sheet_by_name(name)
        except CalamineError as exc:
            raise _corrupt(exc) from exc
        except BaseException as exc:
            if _is_panic(exc):
                raise _corrupt(exc) from exc
            raise


def _choose_sheet(workbook: CalamineWorkbook, sheet: str | None) -> str:
    names = list(workbook.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise UnreadableFile(f"The spreadsheet has no sheet named {sheet!r}",
                                 code="sheet_not_found",
                                 details={"sheet": sheet, "available": names})
        return sheet
    # A hidden first sheet (lookup tables) or a chart sheet is not what the user
    # means by "the sheet"; the first one they can see and type in is.
    for meta in workbook.sheets_metadata:
        if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
            return meta.name
    if not names:
        raise UnreadableFile("The spreadsheet has no sheets", code="empty_file")
    return names[0]


def _sheet_rows(data: CalamineSheet) -> Iterator[Row]:
    if data.start is None:  # an empty sheet; calamine's row iterator needs a start
        return
    # calamine yields empty rows for the ones above the used area, so the
    # position in the iteration is the sheet row number (pinned by a test).
    for number, values in enumerate(data.iter_rows(), start=1):
        cells = [cell_text(value) for value in values]
        if not _is_blank(cells):
            yield Row(number, cells)


def cell_text(value: object) -> str:
    """A spreadsheet value as the user would type it.

    Integral floats lose ".0" (a phone 4155550134 is stored as a float), other
    floats keep the shortest repr that round-trips, dates and times are ISO
    8601, durations [h]:mm:ss as Excel shows them, booleans TRUE/FALSE.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    return str(value)


def _duration_text(value: dt.timedelta) -> str:
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"


def _is_panic(exc: BaseException) -> bool:
    # A Rust panic inside calamine surfaces as pyo3's PanicException, which
    # derives from BaseException; on a malformed file it means "corrupt".
    return type(exc).__name__ == "PanicException"


def _corrupt(exc: BaseException) -> UnreadableFile:
    return UnreadableFile("The spreadsheet is damaged or not a valid spreadsheet file",
                          code="corrupt_spreadsheet", details={"reason": str(exc)[:200]})

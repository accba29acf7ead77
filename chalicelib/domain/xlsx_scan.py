"""What an xlsx's sheets expand to, measured by streaming their XML.

calamine (row_reader) builds the chosen sheet whole: every cell with a value,
a slot for each cell of the range they span, and its own copy of the shared
string a cell points at. A 74 KB file of 150k cells pointing at one 10 KB
shared string therefore asks for 1.5 GB. `measure_xlsx` reads the same parts
with expat, element by element, keeping only counters and one length per
shared string, so `spreadsheet_checks` can refuse such a file before anything
is built.

The rules follow calamine 0.37 (python-calamine 0.9.1), so that what is
measured is what it would build: parts are found by case-insensitive name
(backslashes read as slashes); elements match by local name, attributes by
exact name; a cell without `r` takes the next column of its row and a row
without `r` follows the previous one; a cell without a value is dropped and
does not widen the range; a shared string is the first non-phonetic <t> of
its <si>, or all of them once a rich-text <r> was seen, and an <si> with
neither is skipped (which shifts the indexes after it).
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

from chalicelib.domain.file_format import UnreadableFile

SHARED_STRINGS = "xl/sharedstrings.xml"
SHEET_FOLDERS = ("xl/worksheets/", "xl/dialogsheets/", "xl/chartsheets/")
# Cell types whose value calamine keeps as a string (the others are numbers,
# booleans and error codes, held inline in the cell).
_STRING_TYPES = frozenset({"s", "str", "inlineStr", "d"})
# A shared-string index is a few digits; more is not an index, and is not kept.
_MAX_INDEX_CHARS = 20
_READ_BYTES = 1 << 16
_REF = re.compile(r"\$?([A-Za-z]*)\$?([0-9]+)")
# Beyond this many letters or digits a reference is past any sheet's end;
# it is measured as _HUGE rather than parsed (int() refuses 4,300 digits).
_MAX_REF_CHARS = 12
_HUGE = 10**12
# XML 1.0 forbids these C0 controls, so expat stops at them, but calamine
# reads them as text and some exporters write them. Each becomes a space:
# one byte for one, so no length measured changes. (Not for UTF-16 parts.)
_CONTROLS = bytes(range(1, 9)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_SPACES = bytes.maketrans(_CONTROLS, b" " * len(_CONTROLS))


@dataclass(frozen=True)
class SheetSize:
    part: str
    rows: int  # furthest row holding a value (1-based), or declared by <dimension>
    columns: int  # furthest column, likewise
    cells: int  # cells holding a value
    string_cells: int  # of which strings (calamine allocates each one)
    text_bytes: int  # UTF-8 bytes of those strings, a shared one counted at each use


@dataclass(frozen=True)
class WorkbookSize:
    shared_strings: int
    shared_string_bytes: int
    sheets: tuple[SheetSize, ...]


def measure_xlsx(archive: zipfile.ZipFile) -> WorkbookSize:
    """Measure every sheet part and the shared strings, in memory bounded by their count.

    Raises UnreadableFile(corrupt_spreadsheet) for a part that is not XML,
    and for one declaring entities (no spreadsheet does; they only make
    small text large).
    """
    lengths = array("I")
    for info in archive.infolist():
        if _normalised(info.filename) == SHARED_STRINGS:
            lengths = _longest(lengths, _shared_string_lengths(archive, info))
    sheets = tuple(_measure_sheet(archive, info, lengths) for info in archive.infolist()
                   if _normalised(info.filename).startswith(SHEET_FOLDERS))
    return WorkbookSize(shared_strings=len(lengths), shared_string_bytes=sum(lengths),
                        sheets=sheets)


def _normalised(name: str) -> str:
    return name.replace("\\", "/").lower()


def _longest(first: array[int], second: array[int]) -> array[int]:
    # Two parts whose names differ only in case: which one calamine takes
    # depends on the archive's order, so each index counts at its longer.
    if len(first) < len(second):
        first, second = second, first
    for index, length in enumerate(second):
        first[index] = max(first[index], length)
    return first


def _shared_string_lengths(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> array[int]:
    lengths = array("I")
    in_si = rich = done = phonetic = in_t = False
    length = taken = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal in_si, rich, done, phonetic, in_t, length, taken
        local = name.rpartition(":")[2]
        if local == "si":
            in_si, rich, done, phonetic, length = True, False, False, False, 0
        elif not in_si or done:
            return
        elif local == "r":
            rich = True
        elif local == "rPh":
            phonetic = True
        elif local == "t" and not phonetic:
            in_t, taken = True, 0

    def end(name: str) -> None:
        nonlocal in_si, done, phonetic, in_t, length
        local = name.rpartition(":")[2]
        if local == "si" and in_si:
            if rich or done:
                lengths.append(length)
            in_si = False
        elif local == "rPh":
            phonetic = False
        elif local == "t" and in_t:
            in_t = False
            length += taken
            done = not rich

    def text(data: str) -> None:
        nonlocal taken
        if in_t:
            taken += _utf8_length(data)

    _parse(archive, info, start, end, text)
    return lengths


def _measure_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                   shared: array[int]) -> SheetSize:
    """One sheet part's size, its cells placed as calamine places them.

    Closures rather than a class: expat calls them a few times per cell, and
    their variables are cheaper to reach than attributes.
    """
    in_data = False  # inside <sheetData>, where calamine looks for cells
    row = column = 0  # calamine's running position, 0-based
    cell_row = cell_column = -1  # position of the open <c>; -1: none open
    kind: str | None = None
    capture = has_value = False
    cell_text, index = 0, ""
    max_row = max_column = declared_rows = declared_columns = 0
    cells = string_cells = text_bytes = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_data, row, column, cell_row, cell_column, kind, capture, has_value
        nonlocal cell_text, index, declared_rows, declared_columns
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c" and in_data:
            if ref := attrs.get("r"):
                cell_row, column = _position(ref)
            else:
                cell_row = row
            cell_column, kind = column, attrs.get("t")
            has_value, cell_text, index = False, 0, ""
        elif name in ("v", "t"):
            capture = cell_row >= 0
        elif name == "row" and in_data:
            if ref := attrs.get("r"):
                row = _position(ref, column=False)[0]
        elif name == "sheetData":
            in_data = True
        elif name == "dimension" and not in_data and "ref" in attrs:
            for corner in attrs["ref"].split(":"):
                corner_row, corner_column = _position(corner)
                declared_rows = max(declared_rows, corner_row + 1)
                declared_columns = max(declared_columns, corner_column + 1)
        else:
            capture = False
            has_value = has_value or (name == "is" and cell_row >= 0)

    def end(name: str) -> None:
        nonlocal row, column, cell_row, capture, max_row, max_column
        nonlocal cells, string_cells, text_bytes
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c" and cell_row >= 0:
            if has_value:
                cells += 1
                max_row = max(max_row, cell_row + 1)
                max_column = max(max_column, cell_column + 1)
                if kind == "s":
                    string_cells += 1
                    digits = index.strip()
                    number = int(digits) if digits.isascii() and digits.isdigit() else -1
                    text_bytes += shared[number] if 0 <= number < len(shared) else 0
                elif kind in _STRING_TYPES:
                    string_cells += 1
                    text_bytes += cell_text
            cell_row = -1
            column += 1
        elif name in ("v", "t"):
            capture = False
        elif name == "row" and in_data:
            row += 1
            column = 0
        elif name == "sheetData" and in_data:
            raise _SheetDataEnd

    def text(data: str) -> None:
        nonlocal has_value, cell_text, index
        if capture:
            has_value = True
            if kind == "s":
                if len(index) < _MAX_INDEX_CHARS:
                    index += data
            elif kind in _STRING_TYPES:
                cell_text += _utf8_length(data)

    with suppress(_SheetDataEnd):  # calamine reads no further either
        _parse(archive, info, start, end, text)
    return SheetSize(part=info.filename, rows=max(max_row, declared_rows),
                     columns=max(max_column, declared_columns), cells=cells,
                     string_cells=string_cells, text_bytes=text_bytes)


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


class _SheetDataEnd(Exception):
    """The end of <sheetData>: nothing after it is a cell."""


def _position(ref: str, *, column: bool = True) -> tuple[int, int]:
    """0-based (row, column) of "B12" (with `column` False, also of "12"); (0, 0) if unreadable.

    No upper bound: calamine takes any number of letters and digits, so a
    huge reference must measure huge.
    """
    match = _REF.fullmatch(ref.strip())
    if match is None or (column and not match[1]):
        return 0, 0  # calamine refuses the sheet; nothing to measure
    letters, digits = match[1].upper(), match[2].lstrip("0")
    if len(letters) > _MAX_REF_CHARS or len(digits) > _MAX_REF_CHARS:
        return _HUGE, _HUGE
    number = 0
    for letter in letters:
        number = number * 26 + (ord(letter) - 64)
    return max(int(digits or "0") - 1, 0), max(number - 1, 0)


def _parse(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
           start: Callable[[str, dict[str, str]], None], end: Callable[[str], None],
           text: Callable[[str], None]) -> None:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.EntityDeclHandler = _refuse_entities
    try:
        with archive.open(info) as part:
            _feed(parser, part)
    except expat.ExpatError as exc:
        raise UnreadableFile("The spreadsheet is damaged or not a valid spreadsheet file",
                             code="corrupt_spreadsheet",
                             details={"part": info.filename, "reason": str(exc)[:200]}) from exc


def _feed(parser: expat.XMLParserType, part: IO[bytes]) -> None:
    first = part.read(_READ_BYTES)
    utf16 = first.startswith((b"\xff\xfe", b"\xfe\xff"))
    chunk = first
    while chunk:
        parser.Parse(chunk if utf16 else chunk.translate(_SPACES), False)
        chunk = part.read(_READ_BYTES)
    parser.Parse(b"", True)


def _refuse_entities(name: str, *_args: object) -> None:
    raise expat.ExpatError(f"declares the entity {name!r}")

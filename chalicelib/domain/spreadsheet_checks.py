"""Checks a zip-based spreadsheet (xlsx, ods) passes before a reader opens it.

Spreadsheet readers load the chosen sheet whole, so a small upload must not
be able to ask for gigabytes: `check_zip_spreadsheet` refuses a zip bomb (or
a file that is no zip at all) from its central directory, and
`check_xlsx_extent` refuses an xlsx whose sheets span more cells than any
lead list does.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from typing import BinaryIO

from chalicelib.domain.file_format import UnreadableFile

# Below this many uncompressed bytes the compression ratio is not checked.
_RATIO_FLOOR = 1024 * 1024

# Cells a sheet may span (rows x columns of its used range). Readers build the
# dense range, so a 5 KB file with one cell at XFD1048576 would otherwise ask
# for 16384 x 1048576 cells. 20M cells is far beyond any lead list's shape.
MAX_SHEET_CELLS = 20_000_000
_CELL_REF = re.compile(rb'<(?:\w+:)?(?:c|dimension)\b[^>]*?\br(?:ef)?="\$?([A-Z]{1,3})\$?(\d{1,7})'
                       rb'(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')


def check_zip_spreadsheet(
    data_head: bytes | BinaryIO,
    total_size: int,
    *,
    max_uncompressed: int = 200 * 1024 * 1024,
    max_ratio: int = 200,
) -> None:
    """Refuse a zip-based spreadsheet (xlsx, ods) that is a zip bomb or not a zip at all.

    Reads only the central directory: give the whole file as bytes, or a
    seekable binary file (its position is restored afterwards). `total_size`
    is the size of the file as uploaded. The sizes checked are the ones the
    archive declares; the spreadsheet reader is trusted to stop at them.
    """
    if isinstance(data_head, bytes | bytearray | memoryview):
        fileobj: BinaryIO = io.BytesIO(bytes(data_head))
        restore: int | None = None
    else:
        fileobj = data_head
        restore = fileobj.tell()
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            struct.error, NotImplementedError) as exc:
        raise UnreadableFile("The spreadsheet is damaged or not a valid spreadsheet file",
                             code="corrupt_spreadsheet") from exc
    finally:
        if restore is not None:
            fileobj.seek(restore)

    uncompressed = sum(info.file_size for info in infos)
    compressed = total_size if total_size > 0 else sum(info.compress_size for info in infos)
    details = {"uncompressed_bytes": uncompressed, "max_uncompressed_bytes": max_uncompressed}
    if uncompressed > max_uncompressed:
        raise UnreadableFile("The spreadsheet is too large once uncompressed",
                             code="spreadsheet_too_large", details=details)
    # Small archives are let through whatever their ratio: expanding them costs
    # nothing, and a tiny sheet of repeated rows can compress very well.
    if uncompressed > _RATIO_FLOOR and uncompressed > max_ratio * max(compressed, 1):
        raise UnreadableFile(
            "The spreadsheet expands far more than a real spreadsheet does",
            code="spreadsheet_too_large",
            details={**details, "ratio": uncompressed // max(compressed, 1),
                     "max_ratio": max_ratio},
        )


def check_xlsx_extent(stream: BinaryIO, *, max_cells: int = MAX_SHEET_CELLS) -> None:
    """Refuse an xlsx whose worksheets span more than `max_cells` cells.

    Streams each worksheet's XML (already bounded by check_zip_spreadsheet)
    and takes the furthest row and column of its <dimension> and cell refs.
    """
    start = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            for name in archive.namelist():
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue
                max_row = max_col = 0
                tail = b""
                with archive.open(name) as sheet:
                    while chunk := sheet.read(1 << 20):
                        data = tail + chunk
                        for match in _CELL_REF.finditer(data):
                            for col, row in ((match[1], match[2]), (match[3], match[4])):
                                if col and row:
                                    max_col = max(max_col, _column_number(col))
                                    max_row = max(max_row, int(row))
                        tail = data[-256:]
                if max_row * max_col > max_cells:
                    raise UnreadableFile(
                        f"A sheet spans {max_row} rows x {max_col} columns; at most "
                        f"{max_cells} cells are read", code="spreadsheet_too_large",
                        details={"rows": max_row, "columns": max_col})
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("The spreadsheet is damaged", code="corrupt_spreadsheet") from exc
    finally:
        stream.seek(start)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number

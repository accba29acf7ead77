"""Checks a zip-based spreadsheet (xlsx, ods) passes before a reader opens it.

Spreadsheet readers load the chosen sheet whole, so a small upload must not
be able to ask for gigabytes: `check_zip_spreadsheet` refuses a zip bomb (or
a file that is no zip at all) from its central directory, and
`check_xlsx_sheets` refuses an xlsx a sheet of which spans more cells than
any lead list does, or would expand to more than the reader can hold (cells
pointing at a long shared string: each gets its own copy).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import BinaryIO

from chalicelib.domain.file_format import UnreadableFile
from chalicelib.domain.xlsx_scan import SheetSize, WorkbookSize, measure_xlsx

# Below this many uncompressed bytes the compression ratio is not checked.
_RATIO_FLOOR = 1024 * 1024

# Cells a sheet may span (rows x columns of its used range). Readers build the
# dense range, so a 5 KB file with one cell at XFD1048576 would otherwise ask
# for 16384 x 1048576 cells. 20M cells is far beyond any lead list's shape.
MAX_SHEET_CELLS = 20_000_000

# What calamine holds to read one sheet, measured on python-calamine 0.9.1:
# a 32-byte slot for each cell of the range the cells span (20M slots: 626 MB
# RSS), a 40-byte (position, value) entry for each cell with a value while the
# range is built, and for each string (a cell's, and each shared string, held
# for as long as the workbook is open) its bytes plus about 32 of header and
# allocator rounding (2M cells of 12-byte shared strings: 287 MB RSS, estimated
# 320 MB).
_RANGE_SLOT_BYTES = 32
_CELL_ENTRY_BYTES = 40
_STRING_BYTES = 32
# The estimate a sheet may reach. The analysing and splitting functions have
# 1 GB (infra/app_model.py) and use ~220 MB before reading a sheet; this
# leaves ~300 MB for the rows being converted and for the estimate's error,
# and still reads 3M short-string cells (100k leads x 30 columns). A 74 KB
# file of 150k cells each pointing at one 10 KB shared string (1.5 GB) is
# refused, where it used to take the reader past the function's memory.
MAX_SHEET_READ_BYTES = 512 * 1024 * 1024
# What a damaged archive raises while a part is read.
# (RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               NotImplementedError, RuntimeError)


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


def check_xlsx_sheets(stream: BinaryIO, *, max_cells: int = MAX_SHEET_CELLS,
                      max_read_bytes: int = MAX_SHEET_READ_BYTES) -> None:
    """Refuse an xlsx a sheet of which spans more than `max_cells` cells
    (`spreadsheet_too_large`) or would take more than `max_read_bytes` to
    read (`file_too_complex`).

    Streams the sheets and shared strings (their sizes already bounded by
    check_zip_spreadsheet) in memory bounded by the number of shared strings;
    the stream's position is restored.
    """
    start = stream.tell()
    try:
        with zipfile.ZipFile(stream) as archive:
            workbook = measure_xlsx(archive)
    except _ZIP_ERRORS as exc:
        raise UnreadableFile("The spreadsheet is damaged", code="corrupt_spreadsheet") from exc
    finally:
        stream.seek(start)
    for sheet in workbook.sheets:
        if sheet.rows * sheet.columns > max_cells:
            raise UnreadableFile(
                f"A sheet spans {sheet.rows} rows x {sheet.columns} columns; at most "
                f"{max_cells} cells are read", code="spreadsheet_too_large",
                details={"rows": sheet.rows, "columns": sheet.columns})
        needed = read_bytes(sheet, workbook)
        if needed > max_read_bytes:
            raise UnreadableFile(
                "A sheet expands to more than can be read: too many cells or too much "
                "repeated text for its size", code="file_too_complex",
                details={"cells": sheet.cells, "text_bytes": sheet.text_bytes,
                         "estimated_bytes": needed, "max_bytes": max_read_bytes})


def read_bytes(sheet: SheetSize, workbook: WorkbookSize) -> int:
    """What calamine holds to read `sheet`, by the measured costs above."""
    return (sheet.rows * sheet.columns * _RANGE_SLOT_BYTES
            + sheet.cells * _CELL_ENTRY_BYTES
            + sheet.text_bytes + sheet.string_cells * _STRING_BYTES
            + workbook.shared_string_bytes + workbook.shared_strings * _STRING_BYTES)

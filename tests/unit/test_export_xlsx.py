"""domain/export_xlsx: a sheet deflated in pieces over several runs packs into a valid .xlsx."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from chalicelib.domain.export_xlsx import (
    SHEET_END,
    ZIP64_LIMIT,
    Deflater,
    SheetXml,
    ZipEntry,
    column_letters,
    deflated,
    package,
    sheet_entry_name,
    workbook_files,
)

HEADER = ["email", "notes", "score"]
ROWS = [["a@example.com", "x & <y> \"q\"", "'=1+1"], ["", " padded ", "_x0041_"],
        ["b@example.com", "line\nbreak\u0001", "é" * 40_000]]


def _workbook(rows: list[list[str]], *, runs: int, zip64_at: int = ZIP64_LIMIT) -> bytes:
    """The sheet's XML cut into `runs` pieces, each deflated by a fresh Deflater."""
    sheet = SheetXml(len(HEADER))
    chunks = [sheet.start(HEADER), *(sheet.row(i + 2, r) for i, r in enumerate(rows)),
              SHEET_END]
    cut = [chunks[len(chunks) * i // runs:len(chunks) * (i + 1) // runs] for i in range(runs)]
    pieces: list[bytes] = []
    state = (0, 0, 0)
    for i, run in enumerate(cut):
        deflater = Deflater(*state)
        pieces += [deflater.feed(c) for c in run] + [deflater.end(last=i == runs - 1)]
        state = (deflater.crc, deflater.raw, deflater.packed)
    entry = ZipEntry(sheet_entry_name(1), *state)
    files = [deflated(name, data) for name, data in workbook_files(1)]
    return b"".join(package(files, [entry], lambda _: pieces, zip64_at=zip64_at))


@pytest.mark.parametrize("runs", [1, 2, 5])
@pytest.mark.parametrize("zip64_at", [ZIP64_LIMIT, 16])
def test_pieces_from_several_runs_read_back_as_written(runs: int, zip64_at: int):
    data = _workbook(ROWS, runs=runs, zip64_at=zip64_at)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Leads"]
    got = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert got[0] == HEADER
    assert got[1] == ROWS[0]  # escaped markup and the inert apostrophe, as they were
    assert got[2] == ["", " padded ", "_x005F_x0041_"]  # Excel's escape, kept literal
    assert got[3][1] == "line\nbreak"  # what XML cannot carry is dropped
    assert got[3][2] == "é" * 32_767  # cut to Excel's cell limit


def test_the_pack_refuses_pieces_that_disagree_with_their_record():
    files = [deflated(name, data) for name, data in workbook_files(1)]
    entry = ZipEntry(sheet_entry_name(1), 0, 10, 99)
    with pytest.raises(ValueError, match="99 recorded"):
        b"".join(package(files, [entry], lambda _: [b"short"]))


def test_column_letters():
    letters = column_letters(703)
    assert letters[:3] == ["A", "B", "C"] and letters[25:28] == ["Z", "AA", "AB"]
    assert letters[701:] == ["ZZ", "AAA"]

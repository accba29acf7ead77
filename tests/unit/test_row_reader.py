"""Tests for chalicelib.domain.row_reader: CSV streaming, spreadsheet rows, the header."""

from __future__ import annotations

import datetime as dt
import gc
import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import BinaryIO, cast

import openpyxl
import pytest

from chalicelib.domain.file_format import FileFormat, UnreadableFile, sniff
from chalicelib.domain.row_reader import (
    MAX_CELL_CHARS,
    Row,
    cell_text,
    iter_csv_rows,
    iter_rows,
    iter_sheet_rows,
    split_header,
)
from tests.unit.test_file_format import make_ods, make_xlsx

CSV = FileFormat(kind="csv", encoding="utf-8", delimiter=",")


def _rows(data: bytes, fmt: FileFormat = CSV) -> list[tuple[int, list[str]]]:
    return [(row.number, row.cells) for row in iter_csv_rows(io.BytesIO(data), fmt)]


class CountingReader(io.BufferedIOBase):
    """A binary stream that records the largest read asked of it."""

    def __init__(self, raw: io.BufferedIOBase | io.RawIOBase) -> None:
        super().__init__()
        self._raw = raw
        self.max_read = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the reader asked for the whole file")
        self.max_read = max(self.max_read, size)
        data = self._raw.read(size) or b""
        self.bytes_read += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)


# --- CSV --------------------------------------------------------------------------------------

def test_physical_line_numbers_with_quoted_newlines_and_blank_lines():
    data = (
        b"name,notes\r\n"           # 1
        b"Bob,\"line one\r\n"       # 2
        b"line two\r\n"             # 3
        b"line three\"\r\n"         # 4
        b"\r\n"                     # 5 blank
        b",,\r\n"                   # 6 blank cells only
        b"  ,\t\r\n"                # 7 whitespace only
        b"Ann,plain\r\n"            # 8
        b"Cy,\"a\nb\"\n"            # 9-10
        b"Di,last"                  # 11, no final newline
    )
    assert _rows(data) == [
        (1, ["name", "notes"]),
        (2, ["Bob", "line one\r\nline two\r\nline three"]),
        (8, ["Ann", "plain"]),
        (9, ["Cy", "a\nb"]),
        (11, ["Di", "last"]),
    ]


def test_carriage_return_only_line_endings():
    data = b"name,email\rBob,b@x.co\r\rAnn,\"two\rlines\"\rCy,c@x.co\r"
    assert _rows(data) == [
        (1, ["name", "email"]),
        (2, ["Bob", "b@x.co"]),
        (4, ["Ann", "two\rlines"]),
        (6, ["Cy", "c@x.co"]),
    ]


def test_mixed_line_endings():
    data = b"a,b\r\n1,2\n3,4\r5,6\r\n"
    assert _rows(data) == [(1, ["a", "b"]), (2, ["1", "2"]), (3, ["3", "4"]), (4, ["5", "6"])]


def test_nul_bytes_are_dropped():
    data = b"na\x00me,email\n\x00Bob,b@x\x00.co\n\x00\x00\n" + b"Ann,\"a\x00\nb\"\n"
    assert _rows(data) == [(1, ["name", "email"]), (2, ["Bob", "b@x.co"]), (4, ["Ann", "a\nb"])]


def test_a_one_megabyte_cell():
    big = "x" * (1024 * 1024)
    data = f'name,notes\nBob,"{big}"\nAnn,{big}\nCy,short\n'.encode()
    rows = _rows(data)
    assert [number for number, _ in rows] == [1, 2, 3, 4]
    assert rows[1][1][1] == big
    assert rows[2][1][1] == big


def test_a_cell_over_the_limit_is_refused_not_a_crash():
    data = b'name,notes\nBob,"' + b"x" * (MAX_CELL_CHARS + 10) + b'"\n'
    with pytest.raises(UnreadableFile) as excinfo:
        _rows(data)
    assert excinfo.value.code == "cell_too_large"
    assert excinfo.value.details["line"] == 2


def test_unterminated_quote_at_eof_yields_the_rest_as_a_last_row():
    data = b'name,notes\nBob,"never closed\nAnn,x\nCy,y\n'
    assert _rows(data) == [
        (1, ["name", "notes"]),
        (2, ["Bob", "never closed\nAnn,x\nCy,y\n"]),
    ]


def test_ragged_rows_are_returned_as_they_are():
    assert _rows(b"a,b,c\n1\n1,2,3,4\n") == [
        (1, ["a", "b", "c"]), (2, ["1"]), (3, ["1", "2", "3", "4"])]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings_round_trip_through_sniff(encoding):
    text = "First Name;Notes\r\nZoë;5€ “quoted”\r\nRené;\"a;b\r\nc\"\r\n"
    data = text.encode(encoding)
    fmt = sniff(data)
    assert fmt.encoding == encoding
    assert _rows(data, fmt) == [
        (1, ["First Name", "Notes"]),
        (2, ["Zoë", "5€ “quoted”"]),
        (3, ["René", "a;b\r\nc"]),
    ]


def test_excel_unicode_text_with_tabs():
    text = "Email\tPhone\r\nz@x.co\t+1 415 555 0134\r\n"
    data = text.encode("utf-16")
    fmt = sniff(data)
    assert _rows(data, fmt) == [(1, ["Email", "Phone"]), (2, ["z@x.co", "+1 415 555 0134"])]


def test_undecodable_bytes_become_replacement_characters():
    data = b"name\nJos\xe9\n"
    assert _rows(data) == [(1, ["name"]), (2, ["Jos\ufffd"])]


def test_the_stream_is_left_open():
    stream = io.BytesIO(b"a,b\n1,2\n3,4\n")
    rows = iter_csv_rows(stream, CSV)
    assert next(rows).cells == ["a", "b"]
    del rows  # abandoned half way: the generator is finalised
    gc.collect()
    assert not stream.closed
    assert len(list(iter_csv_rows(io.BytesIO(stream.getvalue()), CSV))) == 3
    list(iter_csv_rows(stream, CSV))
    assert not stream.closed


LINE = b"Firstname Lastname,someone@example.com,+14155550134,\"Acme, Inc.\",notes notes\n"


def _write_big_csv(path: Path, megabytes: int) -> int:
    """Write a header and enough data rows to pass the size; return the data row count."""
    count = megabytes * 1024 * 1024 // len(LINE) + 1
    with path.open("wb") as out:
        out.write(b"name,email,phone,company,notes\n")
        for _ in range(count // 1000):
            out.write(LINE * 1000)
        out.write(LINE * (count % 1000))
    return count


def test_streams_a_20_mb_file_in_small_reads(tmp_path: Path):
    path = tmp_path / "big.csv"
    count = _write_big_csv(path, 20)
    size = path.stat().st_size
    with path.open("rb", buffering=0) as raw:
        fmt = sniff(raw.read(1024 * 1024), path.name)
        raw.seek(0)
        stream = CountingReader(raw)
        header, rows = split_header(iter_csv_rows(cast(BinaryIO, stream), fmt))
        seen = 0
        last = None
        for row in rows:
            seen += 1
            last = row
    assert header == ["name", "email", "phone", "company", "notes"]
    assert seen == count
    assert last is not None
    assert last.number == count + 1
    assert last.cells[3] == "Acme, Inc."
    assert stream.bytes_read == size
    assert stream.max_read <= 64 * 1024


def test_memory_stays_flat(tmp_path: Path):
    # Smaller than the streaming test: tracemalloc slows everything down.
    path = tmp_path / "big.csv"
    count = _write_big_csv(path, 4)
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            seen = sum(1 for _ in iter_csv_rows(stream, CSV))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == count + 1
    assert peak < 1024 * 1024  # a fraction of the 4 MB file


def test_a_line_without_line_breaks_longer_than_the_limit_is_refused(monkeypatch):
    import chalicelib.domain.row_reader as row_reader

    monkeypatch.setattr(row_reader, "MAX_LINE_CHARS", 1000)
    with pytest.raises(UnreadableFile) as excinfo:
        _rows(b"a,b\n" + b"x," * 1000 + b"\n")
    assert excinfo.value.code == "row_too_large"


# --- spreadsheets -----------------------------------------------------------------------------

def _xlsx(sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_rows(data: bytes, sheet: str | None = None) -> list[tuple[int, list[str]]]:
    fmt = sniff(data)
    return [(row.number, row.cells) for row in iter_sheet_rows(io.BytesIO(data), fmt, sheet)]


def test_sheet_values_are_converted_as_a_user_expects():
    data = _xlsx({"Leads": [
        ["name", "phone", "score", "active", "met", "signed_up", "call_at", "duration", "n"],
        ["Bob", 4155550134.0, 0.1, True, dt.date(2024, 3, 1),
         dt.datetime(2024, 3, 1, 12, 30, 5), dt.time(9, 15), dt.timedelta(hours=30, minutes=5),
         3],
        ["Ann", -2.0, 1234.5678, False, None, None, None, None, 1e20],
    ]})
    assert _sheet_rows(data) == [
        (1, ["name", "phone", "score", "active", "met", "signed_up", "call_at", "duration", "n"]),
        (2, ["Bob", "4155550134", "0.1", "TRUE", "2024-03-01", "2024-03-01T12:30:05",
             "09:15:00", "30:05:00", "3"]),
        (3, ["Ann", "-2", "1234.5678", "FALSE", "", "", "", "", "100000000000000000000"]),
    ]


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), ("x", "x"), (True, "TRUE"), (False, "FALSE"), (7, "7"), (7.0, "7"),
    (-0.0, "0"), (0.30000000000000004, "0.30000000000000004"), (1.5e-7, "1.5e-07"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 600000), "2024-01-02T03:04:05.600000"),
    (dt.timedelta(seconds=-90), "-0:01:30"), (float("nan"), "nan"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_sheet_row_numbers_count_leading_blank_rows():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B3"] = "email"
    sheet["B5"] = "a@x.co"
    sheet["C6"] = "only c"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _sheet_rows(buffer.getvalue()) == [
        (3, ["email", ""]), (5, ["a@x.co", ""]), (6, ["", "only c"])]


def test_first_visible_sheet_by_default_and_a_chosen_sheet():
    data = _xlsx({"Lookup": [["hidden"]], "Leads": [["email"], ["a@x.co"]],
                  "Other": [["phone"], [4155550134]]}, hidden=("Lookup",))
    assert _sheet_rows(data) == [(1, ["email"]), (2, ["a@x.co"])]
    assert _sheet_rows(data, "Other") == [(1, ["phone"]), (2, ["4155550134"])]
    assert _sheet_rows(data, "Lookup") == [(1, ["hidden"])]


def test_unknown_sheet_lists_the_available_ones():
    data = _xlsx({"Leads": [["email"]], "Other": [["x"]]})
    with pytest.raises(UnreadableFile) as excinfo:
        iter_sheet_rows(io.BytesIO(data), FileFormat(kind="xlsx"), "Contacts")
    assert excinfo.value.code == "sheet_not_found"
    assert excinfo.value.details == {"sheet": "Contacts", "available": ["Leads", "Other"]}


def test_empty_sheet_has_no_rows():
    data = _xlsx({"Empty": []})
    assert _sheet_rows(data) == []
    with pytest.raises(UnreadableFile) as excinfo:
        split_header(iter_sheet_rows(io.BytesIO(data), FileFormat(kind="xlsx")))
    assert excinfo.value.code == "empty_file"


def test_ods_rows():
    data = make_ods([["email", "phone"], ["a@x.co", "4155550134"]])
    assert _sheet_rows(data) == [(1, ["email", "phone"]), (2, ["a@x.co", "4155550134"])]


def test_truncated_xlsx_is_corrupt():
    data = make_xlsx()[:-200]
    with pytest.raises(UnreadableFile) as excinfo:
        iter_rows(io.BytesIO(data), FileFormat(kind="xlsx"))
    assert excinfo.value.code == "corrupt_spreadsheet"


def test_a_zip_without_a_workbook_is_corrupt():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/nothing.xml", "<x/>")
    with pytest.raises(UnreadableFile) as excinfo:
        iter_rows(io.BytesIO(buffer.getvalue()), FileFormat(kind="xlsx"))
    assert excinfo.value.code == "corrupt_spreadsheet"


def test_ole2_that_is_not_a_workbook_is_corrupt():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)
    with pytest.raises(UnreadableFile) as excinfo:
        iter_rows(io.BytesIO(data), sniff(data, "x.xls"))
    assert excinfo.value.code == "corrupt_spreadsheet"


def test_zip_bomb_is_refused_before_calamine_opens_it():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(20 * 1024 * 1024))
    with pytest.raises(UnreadableFile) as excinfo:
        iter_rows(io.BytesIO(buffer.getvalue()), FileFormat(kind="xlsx"))
    assert excinfo.value.code == "spreadsheet_too_large"


# --- iter_rows and split_header ---------------------------------------------------------------

def test_iter_rows_dispatches_on_kind():
    csv_rows = list(iter_rows(io.BytesIO(b"email\na@x.co\n"), CSV))
    assert csv_rows == [Row(1, ["email"]), Row(2, ["a@x.co"])]
    sheet_rows = list(iter_rows(io.BytesIO(make_xlsx()), FileFormat(kind="xlsx")))
    assert sheet_rows == [Row(1, ["email", "phone"]), Row(2, ["a@b.co", "4155550134"])]
    with pytest.raises(ValueError):
        iter_rows(io.BytesIO(b""), FileFormat(kind="pdf"))


def test_iter_rows_dispatches_json_kinds(tmp_path: Path):
    # JSON reads the file twice (columns, then rows): a real, seekable file
    path = tmp_path / "leads.json"
    path.write_bytes(b'[{"email": "a@x.co", "address": {"city": "L"}}, {"email": "b@x.co"}]')
    with path.open("rb") as stream:
        rows = list(iter_rows(stream, sniff(path.read_bytes(), path.name)))
    assert rows == [Row(0, ["email", "address.city"]), Row(1, ["a@x.co", "L"]),
                    Row(2, ["b@x.co", ""])]
    lines = io.BytesIO(b'{"email": "a@x.co"}\n{oops\n')
    header, data = split_header(iter_rows(lines, FileFormat(kind="jsonl", encoding="utf-8")))
    assert header == ["email"]
    assert [(row.number, row.cells, row.problem) for row in data] == [
        (1, ["a@x.co"], None), (2, [], "invalid_json")]


def test_a_row_has_no_problem_unless_it_says_so():
    row = Row(3, ["a"])
    assert (row.problem, row.problem_message) == (None, None)
    assert Row(3, [], problem="invalid_json", problem_message="m") != Row(3, [])


def test_split_header():
    data = b"\n\n,,\nname,email\nBob,b@x.co\n\nAnn,a@x.co\n"
    header, rows = split_header(iter_csv_rows(io.BytesIO(data), CSV))
    assert header == ["name", "email"]
    assert list(rows) == [Row(5, ["Bob", "b@x.co"]), Row(7, ["Ann", "a@x.co"])]


def test_split_header_drops_a_stray_bom():
    header, rows = split_header(iter([Row(1, ["\ufeffemail", "phone"])]))
    assert header == ["email", "phone"]
    assert list(rows) == []


def test_split_header_skips_blank_rows_it_is_given():
    header, _ = split_header(iter([Row(1, ["", " "]), Row(2, ["email"])]))
    assert header == ["email"]


@pytest.mark.parametrize("data", [b"\n\n\r\n", b",,,\n , \n"])
def test_split_header_without_any_row(data):
    with pytest.raises(UnreadableFile) as excinfo:
        split_header(iter_csv_rows(io.BytesIO(data), CSV))
    assert excinfo.value.code == "empty_file"


def test_excel_sep_line_is_skipped_but_counted():
    data = b"sep=;\r\nname;email\r\nBob;b@x.co\r\n"
    fmt = sniff(data)
    assert _rows(data, fmt) == [(2, ["name", "email"]), (3, ["Bob", "b@x.co"])]
    # Only on line 1, and only declaring the delimiter in use.
    assert _rows(b"a,b\nsep=,\n") == [(1, ["a", "b"]), (2, ["sep=", ""])]
    assert _rows(b"sep=;\na,b\n") == [(1, ["sep=;"]), (2, ["a", "b"])]

"""What an xlsx's sheets expand to (domain/xlsx_scan) and the limits on it (spreadsheet_checks)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from chalicelib.domain.file_format import FileFormat, UnreadableFile
from chalicelib.domain.row_reader import iter_rows, split_header
from chalicelib.domain.spreadsheet_checks import (
    MAX_SHEET_READ_BYTES,
    check_xlsx_sheets,
    check_zip_spreadsheet,
    read_bytes,
)
from chalicelib.domain.xlsx_scan import SheetSize, measure_xlsx
from tests.xlsx_parts import MAIN, minimal_xlsx, shared_string_bomb

XLSX = FileFormat(kind="xlsx")


def _measure(data: bytes) -> SheetSize:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (sheet,) = measure_xlsx(archive).sheets
    return sheet


def _refusal(data: bytes) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as excinfo:
        check_xlsx_sheets(io.BytesIO(data))
    return excinfo.value


# --- the memory bomb of issue 10 ------------------------------------------------------------


def test_cells_pointing_at_one_long_shared_string_are_refused_as_too_complex():
    # GIVEN 150k cells without r= pointing at one 10 KB shared string, padded
    data = shared_string_bomb()
    assert len(data) < 80_000
    check_zip_spreadsheet(data, len(data))  # the ratio check lets it through
    # WHEN it is checked, THEN what it expands to (1.5 GB) is refused
    error = _refusal(data)
    assert error.code == "file_too_complex"
    assert error.details["cells"] == 150_000
    assert error.details["text_bytes"] == 150_000 * 10_000
    assert error.details["max_bytes"] == MAX_SHEET_READ_BYTES


def test_the_reader_refuses_it_before_calamine_builds_the_sheet():
    stream = io.BytesIO(shared_string_bomb())
    stream.seek(0)
    with pytest.raises(UnreadableFile) as excinfo:
        iter_rows(stream, XLSX)
    assert excinfo.value.code == "file_too_complex"


def test_the_budget_is_the_sheet_not_the_string():
    # The same string used by 1,000 cells is 10 MB: a sheet is free to repeat text.
    data = shared_string_bomb(cells=1_000)
    check_xlsx_sheets(io.BytesIO(data))
    assert _measure(data).text_bytes == 10_000_000


def test_rows_without_r_cannot_hide_a_huge_range():
    # One 200-cell row, then 200k one-cell rows: 40M slots, and no r= for a
    # regex to see. calamine places them by position, so the check does too.
    rows = "<row>" + "<c><v>1</v></c>" * 200 + "</row>" + "<row><c><v>1</v></c></row>" * 200_000
    data = minimal_xlsx(rows, padding=40_000)
    check_zip_spreadsheet(data, len(data))
    error = _refusal(data)
    assert error.code == "spreadsheet_too_large"
    assert (error.details["rows"], error.details["columns"]) == (200_001, 200)


def test_a_reference_with_thousands_of_digits_is_huge_not_a_crash():
    data = minimal_xlsx(f'<row><c r="A{"9" * 5000}"><v>1</v></c></row>')
    assert _refusal(data).code == "spreadsheet_too_large"


def test_a_large_ordinary_workbook_passes_and_reads():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["email", "first_name", "company", "phone", "notes"])
    for i in range(20_000):
        sheet.append([f"lead{i}@example.com", f"Name {i}", f"Company {i % 300}",
                      4155550000 + i, "called twice, no answer " * 4])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    check_xlsx_sheets(io.BytesIO(data))
    header, rows = split_header(iter_rows(io.BytesIO(data), XLSX))
    assert header[0] == "email" and sum(1 for _ in rows) == 20_000


# --- measuring as calamine reads ------------------------------------------------------------


def test_shared_string_indexes_follow_calamine():
    # An <si> with no text is skipped by calamine, shifting the indexes after
    # it; a rich string is all its runs, phonetic text left out.
    sst = (f'<sst xmlns="{MAIN}"><si/><si><t>{"a" * 1000}</t></si>'
           '<si><r><t>ab</t></r><r><t>cd</t></r><rPh><t>zzzzzz</t></rPh></si>'
           '<si><t>é</t><t>ignored</t></si></sst>')
    rows = '<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="s"><v>2</v></c></row>'
    sheet = _measure(minimal_xlsx(rows, sst_xml=sst))
    assert sheet.text_bytes == 1000 + 4 + 2
    assert sheet.string_cells == 3


def test_prefixed_elements_and_inline_strings_count():
    rows = ('<x:row><x:c t="inlineStr"><x:is><x:t>hello</x:t></x:is></x:c>'
            '<x:c t="str"><x:f>A1</x:f><x:v>formula text</x:v></x:c>'
            '<x:c><x:v>42</x:v></x:c></x:row>')
    worksheet = f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{rows}</x:sheetData></x:worksheet>'
    sheet = _measure(minimal_xlsx("", worksheet_xml=worksheet))
    assert (sheet.rows, sheet.columns, sheet.cells) == (1, 3, 3)
    assert (sheet.string_cells, sheet.text_bytes) == (2, len("hello") + len("formula text"))


def test_control_characters_in_cells_are_measured_not_refused():
    # XML forbids them, calamine reads them, some exporters write them.
    rows = '<row><c t="inlineStr"><is><t>a\x0bb\x01</t></is></c></row>'
    assert _measure(minimal_xlsx(rows)).text_bytes == 4


def test_entity_declarations_are_refused():
    worksheet = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
                 f'<worksheet xmlns="{MAIN}"><sheetData><row><c t="str"><v>&a;</v></c></row>'
                 "</sheetData></worksheet>")
    assert _refusal(minimal_xlsx("", worksheet_xml=worksheet)).code == "corrupt_spreadsheet"


def test_a_sheet_that_is_not_xml_is_corrupt():
    worksheet = f'<worksheet xmlns="{MAIN}"><sheetData><row><c><v>1</v></row>'
    assert _refusal(minimal_xlsx("", worksheet_xml=worksheet)).code == "corrupt_spreadsheet"


def test_a_lying_dimension_still_counts_as_before():
    worksheet = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1048576"/>'
                 '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>')
    assert _refusal(minimal_xlsx("", worksheet_xml=worksheet)).code == "spreadsheet_too_large"


def test_the_estimate_is_linear_in_what_calamine_holds():
    sheet = SheetSize(part="s", rows=10, columns=2, cells=15, string_cells=5, text_bytes=100)
    with zipfile.ZipFile(io.BytesIO(minimal_xlsx("", ["abc"]))) as archive:
        workbook = measure_xlsx(archive)
    assert read_bytes(sheet, workbook) == 20 * 32 + 15 * 40 + 100 + 5 * 32 + 3 + 32


# --- the measure agrees with calamine on where cells land -----------------------------------

_cell = st.tuples(st.booleans(), st.integers(0, 5), st.sampled_from(["value", "empty"]))
_row = st.tuples(st.one_of(st.none(), st.integers(1, 40)), st.lists(_cell, max_size=6))


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row, min_size=1, max_size=8))
def test_positions_match_calamine(rows):
    # Rows and cells with and without r=, and cells with no value, in any mix.
    xml = []
    for row_number, cells in rows:
        attrs = f' r="{row_number}"' if row_number else ""
        parts = []
        for with_ref, column, content in cells:
            ref = f' r="{_column_letters(column)}{row_number}"' if with_ref and row_number else ""
            parts.append(f"<c{ref}><v>7</v></c>" if content == "value" else f"<c{ref}/>")
        xml.append(f"<row{attrs}>{''.join(parts)}</row>")
    data = minimal_xlsx("".join(xml))
    measured = _measure(data)
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    read = workbook.get_sheet_by_name("Leads")
    values = sum(1 for row in read.to_python() for value in row if value != "")
    # Two cells on one position are both held while the range is built: the
    # measure counts both, the range keeps the last.
    assert measured.cells >= values
    if read.end is None or values == 0:
        assert measured.cells == 0
    else:
        assert (measured.rows, measured.columns) == (read.end[0] + 1, read.end[1] + 1)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_any_sheet_or_shared_strings_bytes_pass_or_are_refused_never_crash(sheet, sst):
    # A worker must end a hostile file `failed`, not die on it (issue 10).
    prefix = f'<worksheet xmlns="{MAIN}"><sheetData><row>'.encode()
    data = minimal_xlsx("", worksheet_xml=(prefix + sheet).decode("latin-1"),
                        sst_xml=(b"<sst><si><t>" + sst).decode("latin-1"))
    try:
        check_xlsx_sheets(io.BytesIO(data))
    except UnreadableFile as exc:
        assert exc.code in ("corrupt_spreadsheet", "spreadsheet_too_large", "file_too_complex")

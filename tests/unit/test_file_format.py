"""Tests for chalicelib.domain.file_format: sniffing uploads and refusing zip bombs."""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from chalicelib.domain.errors import LeadpipeError
from chalicelib.domain.file_format import (
    JSON_KINDS,
    KINDS,
    SAMPLE_SIZE,
    SPREADSHEET_KINDS,
    FileFormat,
    UnreadableFile,
    sniff,
)
from chalicelib.domain.spreadsheet_checks import check_zip_spreadsheet

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _code(excinfo: pytest.ExceptionInfo[UnreadableFile]) -> str:
    return excinfo.value.code


def make_xlsx(rows: list[list[object]] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows or [["email", "phone"], ["a@b.co", 4155550134]]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_ods(rows: list[list[str]] | None = None) -> bytes:
    """A minimal valid ODS: stored `mimetype` first, then manifest and content."""
    rows = rows or [["email", "phone"], ["a@b.co", "4155550134"]]
    body = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{cell}</text:p>'
            "</table:table-cell>" for cell in row) + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Leads">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS_MIMETYPE,
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- errors -----------------------------------------------------------------------------------

def test_unreadable_file_is_a_400_leadpipe_error():
    error = UnreadableFile("x", code="empty_file")
    assert isinstance(error, LeadpipeError)
    assert error.status == 400
    assert error.code == "empty_file"


# --- encodings --------------------------------------------------------------------------------

def test_utf8():
    fmt = sniff("name,email\nJosé Müller,jose@example.com\n".encode(), "leads.csv")
    assert fmt == FileFormat(kind="csv", encoding="utf-8", delimiter=",")


def test_ascii_is_reported_as_utf8():
    assert sniff(b"name,email\nBob,bob@example.com\n").encoding == "utf-8"


def test_utf8_bom():
    fmt = sniff(codecs.BOM_UTF8 + "name;email\nZoë;z@example.com\n".encode())
    assert fmt == FileFormat(kind="csv", encoding="utf-8-sig", delimiter=";")


def test_utf16_with_bom_and_tabs_as_excel_unicode_text():
    text = "First Name\tLast Name\tEmail\r\nZoë\tO'Brien, Jr\tz@example.com\r\n"
    fmt = sniff(text.encode("utf-16"), "export.txt")
    assert fmt == FileFormat(kind="csv", encoding="utf-16", delimiter="\t")
    # Explicitly little-endian, as Windows Excel writes it, and big-endian.
    for data in (codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                 codecs.BOM_UTF16_BE + text.encode("utf-16-be")):
        assert sniff(data) == FileFormat(kind="csv", encoding="utf-16", delimiter="\t")
        assert data.decode("utf-16") == text


def test_utf16_without_bom():
    text = "name,email\r\nBob,bob@example.com\r\n"
    assert sniff(text.encode("utf-16-le")).encoding == "utf-16-le"
    assert sniff(text.encode("utf-16-be")).encoding == "utf-16-be"


def test_utf32_with_bom():
    assert sniff("name,email\nBob,b@x.co\n".encode("utf-32")).encoding == "utf-32"


def test_cp1252_windows_excel_export():
    text = "name;note\nRené Ærø;costs 5€ – “quoted” ‘single’\nZoë;ok\n"
    data = text.encode("cp1252")
    fmt = sniff(data, "Leads.csv")
    assert fmt == FileFormat(kind="csv", encoding="cp1252", delimiter=";")
    assert data.decode(fmt.encoding or "") == text


def test_latin1_text_decodes_the_same_as_cp1252():
    # Latin-1 text without C1 bytes decodes identically under cp1252, the
    # normal answer; what matters is that the text comes out right.
    text = "name,city\nJosé,Málaga\nFrançois,Besançon\n"
    data = text.encode("latin-1")
    fmt = sniff(data)
    assert fmt.encoding == "cp1252"
    assert data.decode(fmt.encoding) == text


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    data = "name,city\nJosé,Málaga\n".encode("latin-1") + b"Bob,A\x81B\n"
    fmt = sniff(data)
    assert fmt.encoding == "latin-1"
    assert fmt.delimiter == ","


# --- delimiters -------------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_with_quoted_fields_holding_other_delimiters_and_newlines(delimiter):
    others = "".join(d for d in (",", ";", "\t", "|") if d != delimiter)
    rows = [
        ["name", "email", "notes"],
        ["Bob", "bob@example.com", f"likes {others} a lot"],
        ["Ann", "ann@example.com", f"two\nlines {others}"],
        ["Cy", "cy@example.com", f'said ""hi"" {others}\r\nand left'],
        ["Di", "di@example.com", "plain"],
    ]
    lines = []
    for row in rows:
        cells = [f'"{cell}"' if any(c in cell for c in others + '\n"') else cell for cell in row]
        lines.append(delimiter.join(cells))
    data = ("\r\n".join(lines) + "\r\n").encode()
    assert sniff(data).delimiter == delimiter


def test_decimal_commas_in_a_semicolon_file():
    data = b"Name;Amount;Rate\nBob;1,5;2,25\nAnn;3,75;4,0\nCy;10;0,5\n"
    assert sniff(data).delimiter == ";"


def test_commas_in_a_tab_file():
    data = b"Name\tEmail\nDoe, John\tj@x.co\nRoe, Ann\ta@x.co\n"
    assert sniff(data).delimiter == "\t"


def test_single_column_defaults_to_comma():
    assert sniff(b"email\na@x.co\nb@x.co\n").delimiter == ","
    assert sniff(b"email").delimiter == ","


def test_ragged_rows_still_pick_the_common_count():
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n"
    assert sniff(data).delimiter == ","


def test_only_the_first_rows_are_examined():
    head = b"a;b;c\n" + b"1;2;3\n" * 60
    tail = b"x,y\n" * 10_000
    assert sniff(head + tail).delimiter == ";"


def test_tsv_name_breaks_a_tie_for_tab():
    data = b"a,b\tc\n1,2\t3\n"  # two columns either way
    assert sniff(data, "leads.csv").delimiter == ","
    assert sniff(data, "leads.tsv").delimiter == "\t"


def test_unterminated_quote_under_a_wrong_delimiter_does_not_break_sniffing():
    # With ";" as delimiter the second line opens a quote that never closes and
    # swallows the sample (over the csv module's default field limit).
    data = b'name,notes\nBob,x\n"Ann;x",y\n' + b"Cy,z\n" * 40_000
    assert sniff(data).delimiter == ","


# --- truncated samples ------------------------------------------------------------------------

def test_sample_cut_in_the_middle_of_a_multibyte_character():
    data = b"name,note\n" + "Zoë,5€ fee\n".encode() * 100_000
    cut = data.index("€".encode(), SAMPLE_SIZE - 100) + 1  # one byte into "€" (3 bytes)
    sample = data[:cut]
    with pytest.raises(UnicodeDecodeError):
        sample.decode("utf-8")
    assert sniff(sample) == FileFormat(kind="csv", encoding="utf-8", delimiter=",")


def test_sample_cut_in_the_middle_of_a_utf16_character():
    data = "name\temail\r\n".encode("utf-16") + "Zoë\tz@x.co\r\n".encode("utf-16-le") * 10
    assert len(data) % 2 == 0
    assert sniff(data[:-1]) == FileFormat(kind="csv", encoding="utf-16", delimiter="\t")


def test_sample_cut_in_the_middle_of_a_row_and_of_a_quoted_field():
    data = b'name;email;notes\nBob;b@x.co;"one, two\nthree"\nAnn;a@x.co;"four, fi'
    assert sniff(data).delimiter == ";"
    data = b"name|email|notes\nBob|b@x.co|x\nAnn|a@x.co|y\nCy|c@"
    assert sniff(data).delimiter == "|"


# --- empty files ------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"",
    b"   ",
    b"\r\n\r\n\t \n",
    codecs.BOM_UTF8,
    codecs.BOM_UTF8 + b" \n",
    codecs.BOM_UTF16_LE,
    " \r\n".encode("utf-16"),
])
def test_empty_and_whitespace_only_files(data):
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.csv")
    assert _code(excinfo) == "empty_file"


# --- not text ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "detected"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), "PNG"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG"),
    (b"GIF89a\x01\x00\x01\x00", "GIF"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
])
def test_other_file_types_by_magic_bytes(data, detected):
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.csv")
    assert _code(excinfo) == "unsupported_file_type"
    assert detected in excinfo.value.details["detected"]


def test_zip_of_a_csv_is_not_a_spreadsheet():
    data = make_zip({"leads.csv": b"name,email\nBob,b@x.co\n"})
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.zip")
    assert _code(excinfo) == "unsupported_file_type"
    assert "ZIP" in excinfo.value.message


def test_word_document_is_not_a_spreadsheet():
    data = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.xlsx")
    assert _code(excinfo) == "unsupported_file_type"


def test_html_saved_as_xls_is_refused():
    data = b"<html><body><table><tr><td>name</td></tr></table></body></html>"
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "report.xls")
    assert _code(excinfo) == "unsupported_file_type"


def test_random_bytes_named_csv():
    data = random.Random(1234).randbytes(64 * 1024)
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.csv")
    assert _code(excinfo) == "not_a_text_file"


def test_random_bytes_named_xlsx_are_a_corrupt_spreadsheet():
    data = random.Random(99).randbytes(4096)
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.xlsx")
    assert _code(excinfo) == "corrupt_spreadsheet"


def test_many_nul_bytes():
    data = b"name,email\nBob,b@x.co\n" + bytes(4096)
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.csv")
    assert _code(excinfo) == "not_a_text_file"


def test_a_few_stray_control_characters_are_tolerated():
    data = b"name,email\n" + b"Bob,b@x.co\n" * 200 + b"A\x00n\x01n,a@x.co\n"
    assert sniff(data).kind == "csv"


# --- spreadsheets -----------------------------------------------------------------------------

def test_xlsx_by_magic_bytes_whatever_the_name():
    data = make_xlsx()
    assert sniff(data[:SAMPLE_SIZE], "leads.xlsx") == FileFormat(kind="xlsx")
    assert sniff(data, "leads.csv") == FileFormat(kind="xlsx")
    assert sniff(data) == FileFormat(kind="xlsx")


def test_xlsx_named_by_extension_when_the_sample_shows_no_xl_entry():
    # A large first entry pushes the xl/ entries out of the sample.
    data = make_zip({"[Content_Types].xml": random.Random(5).randbytes(64 * 1024)})
    assert sniff(data[:4096], "leads.xlsx") == FileFormat(kind="xlsx")
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data[:4096], "leads.zip")
    assert _code(excinfo) == "unsupported_file_type"


def test_ods_by_its_mimetype_entry():
    data = make_ods()
    assert sniff(data, "leads.ods") == FileFormat(kind="ods")
    assert sniff(data, "leads.csv") == FileFormat(kind="ods")


def test_opendocument_text_is_not_a_spreadsheet():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(buffer.getvalue(), "leads.ods")
    assert _code(excinfo) == "unsupported_file_type"


def test_xls_by_ole2_magic_only():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert sniff(data, "leads.xls") == FileFormat(kind="xls")
    assert sniff(data, "") == FileFormat(kind="xls")


# --- check_zip_spreadsheet --------------------------------------------------------------------

def test_a_normal_xlsx_passes_and_the_position_is_restored():
    data = make_xlsx([["n", "v"], *([f"name {i}", i] for i in range(2000))])
    check_zip_spreadsheet(data, len(data))
    stream = io.BytesIO(data)
    stream.seek(7)
    check_zip_spreadsheet(stream, len(data))
    assert stream.tell() == 7


def test_ods_passes():
    data = make_ods()
    check_zip_spreadsheet(io.BytesIO(data), len(data))


def test_zip_bomb_over_the_uncompressed_limit(tmp_path: Path):
    path = tmp_path / "bomb.xlsx"
    chunk = bytes(1024 * 1024)
    # Written in chunks: 300 MB of zeros deflate to about 300 KB on disk.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w") as entry:
        for _ in range(300):
            entry.write(chunk)
    size = path.stat().st_size
    assert size < 2 * 1024 * 1024
    with path.open("rb") as stream:
        assert sniff(stream.read(SAMPLE_SIZE), path.name).kind == "xlsx"
        stream.seek(0)
        with pytest.raises(UnreadableFile) as excinfo:
            check_zip_spreadsheet(stream, size)
    assert _code(excinfo) == "spreadsheet_too_large"
    assert excinfo.value.details["uncompressed_bytes"] == 300 * 1024 * 1024


def test_zip_bomb_by_compression_ratio():
    # 20 MB is under the size limit but compresses about 1000:1.
    data = make_zip({"xl/worksheets/sheet1.xml": bytes(20 * 1024 * 1024)})
    with pytest.raises(UnreadableFile) as excinfo:
        check_zip_spreadsheet(data, len(data))
    assert _code(excinfo) == "spreadsheet_too_large"
    assert excinfo.value.details["ratio"] > 200
    check_zip_spreadsheet(data, len(data), max_ratio=10_000)


def test_small_archives_are_not_held_to_the_ratio():
    data = make_zip({"xl/worksheets/sheet1.xml": bytes(512 * 1024)})
    check_zip_spreadsheet(data, len(data))


def test_custom_uncompressed_limit():
    data = make_xlsx()
    with pytest.raises(UnreadableFile) as excinfo:
        check_zip_spreadsheet(data, len(data), max_uncompressed=1000)
    assert _code(excinfo) == "spreadsheet_too_large"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_zip_is_corrupt(cut):
    data = make_xlsx()
    truncated = data[: int(len(data) * cut)]
    assert sniff(truncated, "leads.xlsx").kind == "xlsx"
    with pytest.raises(UnreadableFile) as excinfo:
        check_zip_spreadsheet(io.BytesIO(truncated), len(truncated))
    assert _code(excinfo) == "corrupt_spreadsheet"


def test_not_a_zip_is_corrupt():
    with pytest.raises(UnreadableFile) as excinfo:
        check_zip_spreadsheet(b"name,email\n", 11)
    assert _code(excinfo) == "corrupt_spreadsheet"


# --- Excel's sep= line ------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_declared_delimiter_line(delimiter):
    # The rows alone would say ","; the declaration wins, as in Excel.
    data = f"sep={delimiter}\r\nname,email\r\nBob,b@x.co\r\n".encode()
    assert sniff(data).delimiter == delimiter
    assert sniff(codecs.BOM_UTF8 + data.replace(b"sep", b"SEP")).delimiter == delimiter


def test_sep_prefix_without_a_delimiter_is_just_data():
    assert sniff(b"sep=x,b\n1,2\n").delimiter == ","


def test_mac_roman_accents_are_text_not_binary():
    # Mac Roman "é" is 0x8E and "è" 0x8F (undefined in cp1252): decoded as
    # latin-1 they become C1 controls, which must not read as binary garbage.
    data = b"name,city\n" + "Hélène,Orléans è\n".encode("mac_roman") * 50
    fmt = sniff(data)
    assert fmt.kind == "csv"
    assert fmt.encoding == "latin-1"


# --- JSON ---------------------------------------------------------------------------------------

def _json_code(data: bytes, filename: str) -> str:
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, filename)
    return _code(excinfo)


def test_json_kinds_are_kinds():
    assert {"json", "jsonl"} == JSON_KINDS
    assert {"csv", *SPREADSHEET_KINDS, *JSON_KINDS} == KINDS


@pytest.mark.parametrize("filename", ["leads.json", "LEADS.JSON", "leads.jsonl", "a.ndjson"])
@pytest.mark.parametrize("data", [
    b'[{"email": "a@x.co"}]',
    b'\n\t  [\n  {"email": "a@x.co"}\n]\n',
    b"[]",
    b"[",  # a cut or broken array is still an array: the reader says what is wrong
])
def test_an_array_named_like_json(data, filename):
    assert sniff(data, filename) == FileFormat(kind="json", encoding="utf-8")


@pytest.mark.parametrize("filename", ["leads.jsonl", "leads.ndjson", "leads.json"])
def test_one_object_a_line(filename):
    data = b'{"email": "a@x.co"}\n{"email": "b@x.co"}\r\n\n  {"email": "c@x.co"}\n'
    assert sniff(data, filename) == FileFormat(kind="jsonl", encoding="utf-8")


def test_a_jsonl_sample_cut_in_the_middle_of_a_line():
    line = b'{"email": "someone@example.com", "notes": "' + b"n" * 200 + b'"}\n'
    data = line * (SAMPLE_SIZE // len(line) + 10)
    assert sniff(data[:SAMPLE_SIZE], "leads.json").kind == "jsonl"


@pytest.mark.parametrize("data", [
    b'{"email": "a@x.co"}',
    b'{"email": "a@x.co"}\n',
    b'{\n  "email": "a@x.co",\n  "name": "Ada"\n}\n',  # pretty-printed
    b'{"a": 1}\n{"b":\n 2}\n',  # a record over two lines
    b'"a@x.co"',
    b"42",
    b"-1.5e3",
    b"true",
    b"null",
])
def test_a_json_file_that_is_not_an_array_of_objects(data):
    assert _json_code(data, "leads.json") == "json_not_array"
    with pytest.raises(UnreadableFile) as excinfo:
        sniff(data, "leads.json")
    assert excinfo.value.message == (
        "The JSON file must be an array of objects or one object per line")


def test_jsonl_holding_anything_is_jsonl():
    # its lines become row problems (invalid_json, not_an_object), not a refusal here
    assert sniff(b'"a"\n42\n', "leads.jsonl").kind == "jsonl"
    assert sniff(b"email\na@x.co\n", "leads.ndjson").kind == "jsonl"


@pytest.mark.parametrize("filename", ["leads.csv", "leads.txt", "leads", "leads.tsv"])
@pytest.mark.parametrize("data", [b'[{"email": "a@x.co"}]\n', b'{"email": "a@x.co"}\n{"e": 1}\n'])
def test_json_bytes_under_another_name_stay_csv(data, filename):
    assert sniff(data, filename).kind == "csv"


def test_a_csv_named_json_stays_csv():
    fmt = sniff(b"email,name\na@x.co,Ada\n", "export.json")
    assert fmt == FileFormat(kind="csv", encoding="utf-8", delimiter=",")


@pytest.mark.parametrize(("data", "encoding"), [
    (codecs.BOM_UTF8 + b'[{"name": "Zo\xc3\xab"}]', "utf-8-sig"),
    ('[{"name": "Zoë"}]'.encode("utf-16"), "utf-16"),
    (codecs.BOM_UTF16_BE + '{"a": 1}\n{"a": 2}\n'.encode("utf-16-be"), "utf-16"),
    ('[{"name": "Zoë"}]'.encode("utf-16-le"), "utf-16-le"),  # no BOM
    ('[{"name": "Zoë"}]'.encode("utf-32"), "utf-32"),
    (b'[{"name": "Caf\xe9"}]', "utf-8"),  # not UTF-8: read as UTF-8, the byte replaced
])
def test_json_encodings(data, encoding):
    assert sniff(data, "leads.json").encoding == encoding


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b" \n\n", "empty_file"),
    (codecs.BOM_UTF8, "empty_file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), "unsupported_file_type"),
    (random.Random(5).randbytes(4096), "not_a_text_file"),
])
def test_what_is_not_json_at_all_named_json(data, code):
    assert _json_code(data, "leads.json") == code


def test_a_spreadsheet_named_json_is_a_spreadsheet():
    assert sniff(make_xlsx(), "leads.json").kind == "xlsx"

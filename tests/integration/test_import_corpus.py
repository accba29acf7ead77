"""A corpus of malformed and hostile import files, each with the exact outcome it must get.

Every case goes through the real pipeline over in-process moto: create the
import, upload with the presigned POST, let the event pump deliver the S3 and
SQS messages, start it (or auto_start), and read the import, its error report
and the list back through the API. Files are built in code; nothing binary is
committed.

After every case the same invariants are checked (see `_check_invariants`):
the import is never left analysing/running, saved + duplicates + invalid ==
total_rows, every rejected row is in the error report, the (fresh) list holds
exactly the saved leads, no API call answered 5xx and no queue handler crashed.

The upload aimed at another import's key is covered by
tests/integration/test_imports.py::test_upload_to_another_imports_key_is_refused
and is not repeated here. S3 enforces each form's policy here as on AWS
(tools/s3_post_policy.py), so an oversize file is refused at upload; the
"over the size limit" case lowers only the analyser's own limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from chalicelib.bootstrap import services
from tests.integration.conftest import Api
from tests.integration.test_imports import upload, wait_status
from tests.json_corpus import JSON_CASES, case_kwargs
from tests.xlsx_parts import shared_string_bomb

FINISHED = ("completed", "completed_with_errors", "failed")
SETTLED = ("ready", *FINISHED)
MB = 1024 * 1024

# --- expectations ---------------------------------------------------------------

Report = dict[int, tuple[str, str]]  # row number -> (outcome, codes) in the error report


def rejected(codes: str) -> tuple[str, str]:
    return ("rejected", codes)


def warned(codes: str) -> tuple[str, str]:
    return ("saved_with_warnings", codes)


Check = Callable[[Api, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes | Callable[[Path], bytes]
    filename: str = "leads.csv"
    identity: str = "email"
    mapping: dict[str, str | None] | None = None
    auto_start: bool = False
    sheet: str | None = None
    max_bytes: int | None = None  # monkeypatched analyser limit (S3 would refuse a form's)
    setup: Callable[[pytest.MonkeyPatch], None] | None = None  # other monkeypatching
    # Outcome: either S3 refuses the upload with this code (the form's policy) ...
    refused: str | None = None
    # ... or the import fails with this error code ...
    failed: str | None = None
    # ... or it stays ready because POST /start answers 400 with this code ...
    not_startable: str | None = None
    start_mapping: dict[str, str | None] | None = None  # then started with this mapping
    # ... or it finishes with these exact counts and report rows.
    status: str = "completed"
    counts: tuple[int, int, int] | None = None  # (saved, duplicates, invalid)
    report: Report = field(default_factory=dict)
    check: Check | None = None  # further assertions on the list / the finished job
    xfail: str | None = None


# --- helpers --------------------------------------------------------------------


def _leads(api: Api, lid: str) -> list[dict[str, Any]]:
    response = api.get(f"/lists/{lid}/leads?limit=200")
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]  # type: ignore[no-any-return]


def _lead(api: Api, lid: str, key: str, value: str) -> dict[str, Any]:
    matches = [lead for lead in _leads(api, lid) if lead[key] == value]
    assert len(matches) == 1, (value, [lead[key] for lead in _leads(api, lid)])
    return matches[0]


def _report_rows(api: Api, import_id: str) -> list[dict[str, str]]:
    response = api.get(f"/imports/{import_id}/errors")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    # A report repeats a row's cells, 1 MB notes included (the csv module's
    # default limit is 128 KB; the product raises it the same way).
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    reader = csv.DictReader(io.StringIO(response.body.decode(), newline=""))
    assert reader.fieldnames is not None
    assert reader.fieldnames[:4] == ["row", "outcome", "codes", "reason"]
    return list(reader)


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _xlsx(rows: list[list[Any]], title: str = "Leads") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _small_xlsx() -> bytes:
    # Phones typed into Excel become numbers: an int, and a float as calamine
    # hands back for most numeric cells.
    return _xlsx([["Email", "First Name", "Phone", "Company"],
                  ["ada@example.com", "Ada", 4155550134, "Engines"],
                  ["grace@example.com", "Grace", 4155550199.0, None],
                  ["bad@@example.com", "Bad", 4155550111, None]])


def _hidden_first_sheet() -> bytes:
    workbook = openpyxl.Workbook()
    lookup = workbook.active
    assert lookup is not None
    lookup.title = "Lookup"
    lookup.append(["email"])
    lookup.append(["hidden@example.com"])
    lookup.sheet_state = "hidden"
    leads = workbook.create_sheet("Leads")
    leads.append(["Email", "Name"])
    leads.append(["ada@example.com", "Ada Lovelace"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip_bomb(tmp_path: Path) -> bytes:
    """An .xlsx whose sheet entry declares 300 MB of zeros (about 300 KB on disk)."""
    path = tmp_path / "bomb.xlsx"
    chunk = b"\0" * MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(300):
                entry.write(chunk)
    return path.read_bytes()


def _docx_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _junk(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


# --- checks on particular cases ------------------------------------------------


def _check_no_header(api: Api, lid: str, job: dict[str, Any]) -> None:
    # The first data row was read as the header: its values are column names,
    # and that person is not imported (only the second row is).
    assert job["file"]["columns"] == ["ada@example.com", "Ada"]
    assert [lead["email"] for lead in _leads(api, lid)] == ["grace@navy.mil"]


def _check_blank_header(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["columns"] == ["a@example.com", "Ada", "column_3"]
    assert [lead["email"] for lead in _leads(api, lid)] == ["b@example.com"]


def _check_padded(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert _lead(api, lid, "email", "b@example.com")["first_name"] is None
    assert _lead(api, lid, "email", "c@example.com")["first_name"] == "C"


def _check_duplicate_headers(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["columns"] == ["Email", "Email (2)", "first_name"]
    assert job["mapping"] == {"Email": "email", "Email (2)": "emails", "first_name": "first_name"}
    lead = _lead(api, lid, "email", "a@example.com")
    assert lead["emails"] == ["a.other@example.com"]


def _check_wide(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert len(job["file"]["columns"]) == 10_000
    assert job["mapping"]["email"] == "email"
    assert sorted(lead["email"] for lead in _leads(api, lid)) == ["a@example.com", "b@example.com"]


def _check_huge_optional(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert _lead(api, lid, "email", "a@example.com")["notes"] is None  # dropped, not truncated
    assert _lead(api, lid, "email", "b@example.com")["notes"] == "short"


def _check_mixed_endings(api: Api, lid: str, job: dict[str, Any]) -> None:
    names = {lead["email"]: lead["first_name"] for lead in _leads(api, lid)}
    assert names == {"a@example.com": "A", "b@example.com": "B", "c@example.com": "C"}


def _check_nuls(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert _lead(api, lid, "email", "a@example.com")["first_name"] == "Ada"
    assert _lead(api, lid, "email", "b@example.com")["first_name"] == "Bob"


def _check_cp1252_fallback(api: Api, lid: str, job: dict[str, Any]) -> None:
    # One byte that is not UTF-8 makes the whole sample cp1252: the stray byte
    # reads right ("Café"), and the genuine UTF-8 "ë" of the other row becomes
    # mojibake. No row is lost; this is the documented order of evidence.
    assert job["file"]["encoding"] == "cp1252"
    assert _lead(api, lid, "email", "bad@example.com")["first_name"] == "Café"
    assert _lead(api, lid, "email", "zoe@example.com")["first_name"] == "Zo\u00c3\u00ab"


def _check_latin1_fallback(api: Api, lid: str, job: dict[str, Any]) -> None:
    # 0x81 is undefined in cp1252, so latin-1 is used; the C1 control it
    # decodes to is no text, so the cell keeps U+FFFD where it was (domain/text).
    assert job["file"]["encoding"] == "latin-1"
    assert _lead(api, lid, "email", "bad@example.com")["first_name"] == "X\ufffdY"
    assert _lead(api, lid, "email", "zoe@example.com")["first_name"] == "Zo\u00c3\u00ab"


def _check_replacement(api: Api, lid: str, job: dict[str, Any]) -> None:
    # The bad byte lies past the sniffed first megabyte: the file stays UTF-8
    # and the reader turns the byte into U+FFFD.
    assert job["file"]["encoding"] == "utf-8"
    assert _lead(api, lid, "email", "c@example.com")["first_name"] == "Caf\ufffd"


def _check_formulas(api: Api, lid: str, job: dict[str, Any]) -> None:
    lead = _lead(api, lid, "email", "a@example.com")
    assert lead["first_name"] == '=HYPERLINK("http://evil.example/","click")'  # stored as typed
    export = api.get(f"/lists/{lid}/export")
    assert export.status_code == 200
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(export.body.decode(), newline=""))}
    a = rows["a@example.com"]
    assert a["first_name"] == '\'=HYPERLINK("http://evil.example/","click")'
    assert a["company"] == "'+cmd|' /C calc'!A0"
    assert a["job_title"] == "'@SUM(1+1)"
    assert a["notes"] == "'-2+3"
    assert a["phone"] == "+14155550134"  # a plain number is left alone
    assert rows["'=cmd@example.com"]["first_name"] == "Eve"  # a formula in the identity too
    # the error report's echoed cells are inert as well
    report = {r["row"]: r for r in _report_rows(api, job["id"])}
    assert report["4"]["first_name"] == "'=1+1"


def _check_real_xlsx(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["kind"] == "xlsx"
    assert _lead(api, lid, "email", "ada@example.com")["phone"] == "+14155550134"
    assert _lead(api, lid, "email", "grace@example.com")["phone"] == "+14155550199"


def _check_utf16(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["encoding"] == "utf-16" and job["file"]["delimiter"] == "\t"
    zoe = _lead(api, lid, "email", "zoe@example.com")
    assert zoe["first_name"] == "Zoë" and zoe["company"] == "Müller GmbH"


def _check_utf16_bomless(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["encoding"] == "utf-16-le"
    assert _lead(api, lid, "email", "zoe@example.com")["first_name"] == "Zoë"


def _check_cp1252_semicolons(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["encoding"] == "cp1252" and job["file"]["delimiter"] == ";"
    ada = _lead(api, lid, "email", "ada@example.com")
    assert ada["company"] == "Café Société"
    assert ada["notes"] == "“smart” quotes – 5€"


def _check_bom(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["columns"][0] == "Email"
    assert job["mapping"]["Email"] == "email"
    assert _lead(api, lid, "email", "ada@example.com")["first_name"] == "Ada"


def _check_quoted_newlines(api: Api, lid: str, job: dict[str, Any]) -> None:
    # CR is dropped from stored text, LF kept
    assert _lead(api, lid, "email", "a@example.com")["notes"] == "line one\nline two\nline three"
    assert _lead(api, lid, "email", "b@example.com")["notes"] == "x"


def _check_swallowed(api: Api, lid: str, job: dict[str, Any]) -> None:
    # What the unclosed quote swallowed ended up in b's notes (csv semantics).
    assert _lead(api, lid, "email", "b@example.com")["notes"] == (
        "never closed\nc@example.com,C\nd@example.com,D")


def _check_dupes(api: Api, lid: str, job: dict[str, Any]) -> None:
    report = {r["row"]: r["reason"] for r in _report_rows(api, job["id"])}
    assert all("(row 2)" in reason for reason in report.values())
    assert [lead["email"] for lead in _leads(api, lid)] == ["ada@example.com"]


def _check_linkedin(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert [lead["linkedin_url"] for lead in _leads(api, lid)] == [
        "https://www.linkedin.com/in/ada-lovelace"]


def _check_phones(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert [lead["phone"] for lead in _leads(api, lid)] == ["+14155550134"]


def _check_long_headers(api: Api, lid: str, job: dict[str, Any]) -> None:
    # over-long headers cannot be custom field keys: those columns are ignored
    assert [len(c) for c in job["file"]["columns"]] == [5, 50_000, 50_006]
    assert list(job["mapping"].values()) == ["email", None, None]
    assert _lead(api, lid, "email", "a@example.com")["custom_fields"] == {}


def _check_status_words(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert _lead(api, lid, "email", "a@example.com")["status"] == "new"
    assert _lead(api, lid, "email", "b@example.com")["status"] == "replied"


def _check_many_tags(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert _lead(api, lid, "email", "a@example.com")["tags"] == []
    assert _lead(api, lid, "email", "b@example.com")["tags"] == ["vip", "q1"]


def _check_xlsx_named_csv(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["file"]["kind"] == "xlsx"  # the bytes decide, not the name


def _check_hidden_sheet(api: Api, lid: str, job: dict[str, Any]) -> None:
    ada = _lead(api, lid, "email", "ada@example.com")
    assert (ada["first_name"], ada["last_name"]) == ("Ada", "Lovelace")


def _check_override(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert job["mapping"] == {"email": None, "backup": "email"}
    assert [lead["email"] for lead in _leads(api, lid)] == ["b@example.com"]


def _check_utf16_big_preview(api: Api, lid: str, job: dict[str, Any]) -> None:
    # Only rows wholly inside the analysed first MB are sampled: row 2.
    summary = job["sample_summary"]
    assert [p["row"] for p in job["preview"]] == [2]
    assert summary["rows_sampled"] == 1 and summary["invalid"] == 0, summary


def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 2)


def _check_blank_lines(api: Api, lid: str, job: dict[str, Any]) -> None:
    assert [lead["email"] for lead in _leads(api, lid)] == ["a@example.com"]


def _two_mb_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands for the real 32M-character limit, which only a file over the default
    # 10 MB upload cap can reach (the cap is a setting: LEADPIPE_MAX_UPLOAD_BYTES).
    from chalicelib.domain import row_reader

    monkeypatch.setattr(row_reader, "MAX_LINE_CHARS", 2 * MB)


# --- the corpus -----------------------------------------------------------------

_WIDE_ROW = "," * 9_999
_WIDE_ROWS = _WIDE_ROW + "a@example.com\n" + _WIDE_ROW + "b@example.com\n"

CASES: list[Case] = [
    # --- nothing to import -------------------------------------------------------
    # 0 bytes is under the form's content-length-range: S3 refuses it, as on AWS
    Case("empty_file", b"", refused="EntityTooSmall"),
    Case("whitespace_only", b"  \n\t\t\n \r\n   ", failed="empty_file"),
    Case("only_a_utf8_bom", codecs.BOM_UTF8, failed="empty_file"),
    Case("only_a_utf16_bom_and_newlines", codecs.BOM_UTF16_LE + "\r\n\r\n".encode("utf-16-le"),
         failed="empty_file"),
    Case("header_only", b"email,first_name\r\n", counts=(0, 0, 0)),
    Case("header_only_auto_start", b"email,first_name\n", auto_start=True, counts=(0, 0, 0)),
    # --- not a CSV at all ----------------------------------------------------------
    Case("binary_garbage_named_csv", _junk(4096, seed=1234), failed="not_a_text_file"),
    Case("png_named_csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _junk(2048, seed=7),
         failed="unsupported_file_type"),
    Case("pdf_named_csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
         + _junk(1024, seed=8), failed="unsupported_file_type"),
    Case("gzip_named_csv", b"\x1f\x8b\x08\x00" + _junk(512, seed=9),
         failed="unsupported_file_type"),
    Case("html_table_named_xls", b"<html><table><tr><td>email</td></tr>"
         b"<tr><td>a@example.com</td></tr></table></html>", filename="leads.xls",
         failed="unsupported_file_type"),
    Case("docx_named_xlsx", _docx_like(), filename="leads.xlsx", failed="unsupported_file_type"),
    Case("many_nul_bytes", b"email,notes\na@example.com," + b"\x00" * 50 + b"\n",
         failed="not_a_text_file"),
    # --- hostile spreadsheets --------------------------------------------------------
    Case("zip_bomb_xlsx", _zip_bomb, filename="leads.xlsx", failed="spreadsheet_too_large"),
    Case("shared_string_bomb_xlsx", lambda _path: shared_string_bomb(), filename="leads.xlsx",
         failed="file_too_complex"),
    Case("truncated_xlsx", _small_xlsx()[: len(_small_xlsx()) // 2], filename="leads.xlsx",
         failed="corrupt_spreadsheet"),
    Case("ole2_magic_and_junk_xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _junk(4096, seed=3),
         filename="leads.xls", failed="corrupt_spreadsheet"),
    Case("empty_xlsx", _xlsx([]), filename="leads.xlsx", failed="empty_file"),
    Case("xlsx_unknown_sheet", _small_xlsx(), filename="leads.xlsx", sheet="Nope",
         failed="sheet_not_found"),
    Case("real_xlsx_numeric_phones", _small_xlsx(), filename="leads.xlsx", auto_start=True,
         counts=(2, 0, 1), report={4: rejected("invalid_email")}, check=_check_real_xlsx),
    Case("xlsx_hidden_first_sheet", _hidden_first_sheet(), filename="leads.xlsx",
         auto_start=True, counts=(1, 0, 0), check=_check_hidden_sheet),
    Case("xlsx_named_csv", _small_xlsx(), filename="leads.csv", auto_start=True,
         counts=(2, 0, 1), report={4: rejected("invalid_email")}, check=_check_xlsx_named_csv),
    # --- size -------------------------------------------------------------------------
    Case("over_the_size_limit", b"email\n" + b"x@example.com\n" * 20, max_bytes=100,
         failed="file_too_large"),
    Case("refused_line_past_the_analysed_megabyte",
         # Analysis reads the first MB only; the over-long line after it is met by
         # split(), whose UnreadableFile the SQS wrapper drops as a poison message.
         b"email,notes\na@example.com," + b"n" * (MB + 100) + b"\nb@example.com,"
         + b"x" * (3 * MB) + b"\n", setup=_two_mb_lines, auto_start=True,
         failed="row_too_large"),
    # --- encodings ----------------------------------------------------------------------
    Case("utf16le_bom_tabs_excel_unicode_text",
         codecs.BOM_UTF16_LE + ("Email\tFirst Name\tCompany\r\n"
                                "ada@example.com\tAda\tEngines\r\n"
                                "zoe@example.com\tZoë\tMüller GmbH\r\n"
                                "not-an-email\tX\t\r\n").encode("utf-16-le"),
         filename="leads.txt", auto_start=True, counts=(2, 0, 1),
         report={4: rejected("invalid_email")}, check=_check_utf16),
    Case("utf16le_without_bom", ("email,first_name\r\nzoe@example.com,Zoë\r\n"
                                 "ada@example.com,Ada\r\n").encode("utf-16-le"),
         auto_start=True, counts=(2, 0, 0), check=_check_utf16_bomless),
    Case("utf16le_over_one_mb_preview",
         codecs.BOM_UTF16_LE + ("email,notes\r\na@example.com," + "n" * 400_000
                                + "\r\nb@example.com," + "m" * 400_000
                                + "\r\nc@example.com,x\r\n").encode("utf-16-le"),
         counts=(3, 0, 0), report={2: warned("value_too_long"), 3: warned("value_too_long")},
         check=_check_utf16_big_preview),
    Case("cp1252_semicolons",
         _csv("E-mail;Prénom;Société;Notes\r\n"
              "ada@example.com;Ada;Café Société;“smart” quotes – 5€\r\n"
              "grace@example.com;Grâce;;\r\n", "cp1252"),
         auto_start=True, counts=(2, 0, 0), check=_check_cp1252_semicolons),
    Case("utf8_bom_header", codecs.BOM_UTF8 + b"Email,First Name\r\nada@example.com,Ada\r\n",
         auto_start=True, counts=(1, 0, 0), check=_check_bom),
    Case("utf8_double_bom_header", codecs.BOM_UTF8 * 2
         + b"Email,First Name\r\nada@example.com,Ada\r\n",
         auto_start=True, counts=(1, 0, 0), check=_check_bom),
    Case("invalid_utf8_byte_cp1252_fallback",
         b"email,first_name\nzoe@example.com,Zo\xc3\xab\nbad@example.com,Caf\xe9\n",
         auto_start=True, counts=(2, 0, 0), check=_check_cp1252_fallback),
    Case("invalid_utf8_byte_latin1_fallback",
         b"email,first_name\nzoe@example.com,Zo\xc3\xab\nbad@example.com,X\x81Y\n",
         auto_start=True, counts=(2, 0, 0), check=_check_latin1_fallback),
    Case("invalid_utf8_byte_after_the_sample",
         b"email,first_name,notes\na@example.com,A," + b"n" * (MB + 10)
         + b"\nc@example.com,Caf\xe9,\n",
         auto_start=True, counts=(2, 0, 0), report={2: warned("value_too_long")},
         check=_check_replacement),
    # --- CSV structure ----------------------------------------------------------------
    Case("no_header_first_row_is_data",
         # The first row becomes the header: its cells are no known column names,
         # so no column maps to email. The import stays ready and cannot start
         # until the user maps a column; mapped, the first person is still lost
         # (it was read as the header) and only the second row is imported.
         b"ada@example.com,Ada\ngrace@navy.mil,Grace\n",
         not_startable="identity_not_mapped",
         start_mapping={"ada@example.com": "email", "Ada": "first_name"},
         counts=(1, 0, 0), check=_check_no_header),
    Case("no_header_auto_start_does_not_start",
         b"ada@example.com,Ada\ngrace@navy.mil,Grace\n", auto_start=True,
         not_startable="identity_not_mapped"),
    Case("header_row_of_only_blanks",
         # A row of blank cells is a blank row and is skipped, so the first data
         # row becomes the header: the same outcome as a file with no header.
         b",,\na@example.com,Ada,\nb@example.com,Bob,\n",
         not_startable="identity_not_mapped", start_mapping={"a@example.com": "email"},
         counts=(1, 0, 0), check=_check_blank_header),
    Case("extremely_long_header_names",
         b"Email," + b"H" * 50_000 + b",Notes " + b"n" * 50_000 + b"\na@example.com,h,n\n",
         auto_start=True, counts=(1, 0, 0), check=_check_long_headers),
    Case("unterminated_quote_on_last_line",
         b'email,notes\na@example.com,fine\nb@example.com,"never closed\n',
         auto_start=True, counts=(2, 0, 0)),
    Case("unterminated_quote_mid_file_swallows_the_rest",
         # csv semantics (documented in row_reader): an open quote makes the rest
         # of the file one cell. Rows c and d are not rows any more: they end up
         # inside b's notes. total_rows is 2, not 4; nothing is reported.
         b'email,notes\na@example.com,fine\nb@example.com,"never closed\n'
         b"c@example.com,C\nd@example.com,D\n",
         auto_start=True, counts=(2, 0, 0), check=_check_swallowed),
    Case("ragged_rows",
         # the rejected ragged row does not claim a@example.com: row 5 is no duplicate
         b"email,first_name\na@example.com,A,EXTRA\nb@example.com\nc@example.com,C,,\n"
         b"a@example.com,again\n",
         auto_start=True, counts=(3, 0, 1), report={2: rejected("ragged_row")},
         check=_check_padded),
    Case("duplicate_header_names",
         b"Email,Email,first_name\na@example.com,a.other@example.com,A\n",
         auto_start=True, counts=(1, 0, 0), check=_check_duplicate_headers),
    Case("ten_thousand_columns",
         ("".join(f"c{i}," for i in range(9_999)) + "email\n" + _WIDE_ROWS).encode(),
         auto_start=True, counts=(2, 0, 0), check=_check_wide),
    Case("ten_thousand_columns_with_longer_names",
         ("".join(f"Survey question {i:05d} answer," for i in range(9_999)) + "email\n"
          + _WIDE_ROWS).encode(),
         auto_start=True, counts=(2, 0, 0), check=_check_wide),
    Case("long_custom_values_make_the_preview_too_big",
         ("email," + ",".join(f"field {i}" for i in range(60)) + "\n"
          + "".join(f"p{n}@example.com," + ",".join(["v" * 1000] * 60) + "\n"
                    for n in range(10))).encode(),
         auto_start=True, counts=(10, 0, 0)),
    Case("mixed_line_endings",
         b"email,first_name\r\na@example.com,A\nb@example.com,B\rc@example.com,C\r\nbad,D\n",
         auto_start=True, counts=(3, 0, 1), report={5: rejected("invalid_email")},
         check=_check_mixed_endings),
    Case("nul_bytes_inside_cells",
         b"email,first_name\na@example.com,A\x00da\nb@exa\x00mple.com,Bob\n",
         auto_start=True, counts=(2, 0, 0), check=_check_nuls),
    Case("quoted_newlines_in_notes",
         b'email,notes\na@example.com,"line one\nline two\r\nline three"\nb@example.com,x\n'
         b"not-an-email,y\n",
         # row numbers are physical lines: the quoted cell spans lines 2-4
         auto_start=True, counts=(2, 0, 1), report={6: rejected("invalid_email")},
         check=_check_quoted_newlines),
    Case("blank_lines_between_rows",
         b"email\n\n\na@example.com\n\n , \nbad\n",
         auto_start=True, counts=(1, 0, 1), report={7: rejected("invalid_email")},
         check=_check_blank_lines),
    # --- values ---------------------------------------------------------------------
    Case("one_mb_cell_in_optional_column",
         b"email,notes\na@example.com," + b"x" * MB + b"\nb@example.com,short\n",
         auto_start=True, counts=(2, 0, 0), report={2: warned("value_too_long")},
         check=_check_huge_optional),
    Case("one_mb_cell_in_identity_column",
         b"email,notes\n" + b"a" * MB + b"@example.com,n\nb@example.com,ok\n",
         auto_start=True, counts=(1, 0, 1), report={2: rejected("invalid_email")}),
    Case("formula_cells",
         b'email,first_name,company,job_title,notes,phone\n'
         b'a@example.com,"=HYPERLINK(""http://evil.example/"",""click"")",'
         b"+cmd|' /C calc'!A0,@SUM(1+1),-2+3,+1 415 555 0134\n"
         b"=cmd@example.com,Eve,,,,\n"
         b"not-an-email,=1+1,,,,\n",
         auto_start=True, counts=(2, 0, 1), report={4: rejected("invalid_email")},
         check=_check_formulas),
    Case("all_rows_one_person_in_different_case_and_spacing",
         b'Email,first_name\nAda@Example.com,A\n ada@example.com ,B\nADA@EXAMPLE.COM,C\n'
         b'"\tada@example.com\t",D\n',
         auto_start=True, counts=(1, 3, 0),
         report={3: rejected("duplicate_in_file"), 4: rejected("duplicate_in_file"),
                 5: rejected("duplicate_in_file")}, check=_check_dupes),
    Case("duplicates_across_chunks", setup=_small_chunks,
         data=b"email\na@example.com\nb@example.com\nA@example.com\nc@example.com\nbad\n"
              b"b@example.com\n",
         auto_start=True, counts=(3, 2, 1),
         report={4: rejected("duplicate_in_file"), 6: rejected("invalid_email"),
                 7: rejected("duplicate_in_file")}),
    Case("mapping_given_at_create_overrides_auto_map",
         b"email,backup\na@example.com,b@example.com\n",
         mapping={"email": None, "backup": "email", "not_in_file": "notes"},
         auto_start=True, counts=(1, 0, 0), check=_check_override),
    Case("identity_column_entirely_empty",
         b'email,first_name\n,A\n   ,B\n"",C\n',
         auto_start=True, counts=(0, 0, 3),
         report={2: rejected("missing_identity"), 3: rejected("missing_identity"),
                 4: rejected("missing_identity")}),
    Case("linkedin_company_pages_and_garbage", identity="linkedin_url",
         data=b"LinkedIn URL,Name\n"
              b"https://www.linkedin.com/in/ada-lovelace,Ada\n"
              b"https://www.linkedin.com/company/acme,Acme\n"
              b"not a url,Junk\n"
              b"https://evil.example/in/ada,Evil\n"
              b"javascript:alert(1),Xss\n"
              b"https://www.linkedin.com/pub/ada/1/2/3,Old\n"
              b"linkedin.com/in/Ada-Lovelace/,Again\n",
         auto_start=True, counts=(1, 1, 5),
         report={3: rejected("invalid_linkedin_url"), 4: rejected("invalid_linkedin_url"),
                 5: rejected("invalid_linkedin_url"), 6: rejected("invalid_linkedin_url"),
                 7: rejected("invalid_linkedin_url"), 8: rejected("duplicate_in_file")},
         check=_check_linkedin),
    Case("phone_list_unparseable_numbers", identity="phone",
         data=b"Phone,Name\n"
              b"+1 415 555 0134,Ada\n"
              b"hello,Bob\n"
              b"123,Cy\n"
              b"(415) 555-0134,Same\n"
              + b"9" * 100 + b",Long\n"
              b",Empty\n",
         auto_start=True, counts=(1, 1, 4),
         report={3: rejected("unparseable_phone"), 4: rejected("invalid_phone"),
                 5: rejected("duplicate_in_file"), 6: rejected("unparseable_phone"),
                 7: rejected("missing_identity")},
         check=_check_phones),
    Case("unknown_status_words", b"email,status\na@example.com,bogus\nb@example.com,Replied\n",
         auto_start=True, counts=(2, 0, 0), report={2: warned("invalid_status")},
         check=_check_status_words),
    Case("too_many_tags", b"email,tags\na@example.com," + ";".join(
        f"t{i}" for i in range(60)).encode() + b"\nb@example.com,vip;q1\n",
         auto_start=True, counts=(2, 0, 0), report={2: warned("too_many_values")},
         check=_check_many_tags),
]

# Hostile and malformed JSON / JSON Lines uploads (tests/json_corpus.py).
CASES += [Case(c.name, c.data, filename=c.filename, **case_kwargs(c.expected))
          for c in JSON_CASES]


def _params() -> Iterator[Any]:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.name, marks=marks)


# --- fixtures -------------------------------------------------------------------


@pytest.fixture
def checked_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The api fixture, failing any call that answers 5xx."""
    original = api.call

    def call(method: str, path: str, body: Any = None, **kw: Any) -> Any:
        response = original(method, path, body, **kw)
        assert response.status_code < 500, (method, path, response.status_code, response.body)
        return response

    monkeypatch.setattr(api, "call", call)
    return api


@pytest.fixture
def handler_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="leadpipe.sqs")
    return caplog


def _no_handler_crash(caplog: pytest.LogCaptureFixture) -> None:
    """No SQS handler crashed (retried: the pipeline's 5xx) or dropped a message."""
    crashes = [r for r in caplog.records
               if r.name == "leadpipe.sqs" and r.levelno >= logging.ERROR]
    assert not crashes, [(r.getMessage(), r.exc_text) for r in crashes]


# --- the test ---------------------------------------------------------------------


@pytest.mark.parametrize("case", list(_params()))
def test_corpus(case: Case, checked_api: Api, pump: Any, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch,
                handler_errors: pytest.LogCaptureFixture) -> None:
    api = checked_api
    if case.max_bytes is not None:
        monkeypatch.setattr(services().import_analyser._source._file, "_max_bytes", case.max_bytes)
    if case.setup is not None:
        case.setup(monkeypatch)
    data = case.data(tmp_path) if callable(case.data) else case.data
    lid = api.new_list(identity=case.identity)["id"]
    options: dict[str, Any] = {}
    if case.mapping is not None:
        options["mapping"] = case.mapping
    if case.auto_start:
        options["auto_start"] = True
    if case.sheet is not None:
        options["sheet"] = case.sheet
    if case.refused is not None:
        created = api.post(f"/lists/{lid}/imports", {"filename": case.filename}).json_body
        form = created["upload"]
        refusal = requests.post(form["url"], data=form["fields"],
                                files={"file": (case.filename, data)})
        assert f"<Code>{case.refused}</Code>" in refusal.text, refusal.text
        pump.drain()
        assert api.get(f"/imports/{created['id']}").json_body["status"] == "awaiting_upload"
        _no_handler_crash(handler_errors)
        return
    created = upload(api, lid, data, case.filename, **options)
    job = wait_status(api, pump, created["id"], *SETTLED)

    if case.failed is not None:
        assert job["status"] == "failed", job
        assert job["error"]["code"] == case.failed, job["error"]
    else:
        assert job["status"] != "failed", job["error"]
        if job["status"] == "ready":
            job = _start(api, pump, job, case)
    _check_invariants(api, pump, lid, job)
    if job["status"] in ("completed", "completed_with_errors"):
        assert case.counts is not None, job["counts"]
        assert job["status"] == case.status, job
        saved, duplicates, invalid = case.counts
        assert job["counts"] == {"saved": saved, "updated": 0, "unchanged": 0,
                                 "duplicates": duplicates, "invalid": invalid}
        report = {int(r["row"]): (r["outcome"], r["codes"])
                  for r in _report_rows(api, job["id"])}
        assert report == case.report
    if case.check is not None:
        case.check(api, lid, job)
    _no_handler_crash(handler_errors)


def _start(api: Api, pump: Any, job: dict[str, Any], case: Case) -> dict[str, Any]:
    if case.not_startable is not None:
        refused = api.post(f"/imports/{job['id']}/start", {})
        assert refused.status_code == 400, refused.json_body
        codes = {e["code"] for e in refused.json_body["error"]["details"]["errors"]}
        assert case.not_startable in codes
        summary_codes = {e["code"] for e in job["sample_summary"].get("mapping_errors", [])}
        assert case.not_startable in summary_codes
        assert api.get(f"/imports/{job['id']}").json_body["status"] == "ready"
        if case.start_mapping is None:
            return api.get(f"/imports/{job['id']}").json_body  # type: ignore[no-any-return]
    body = {"mapping": case.start_mapping} if case.start_mapping is not None else {}
    started = api.post(f"/imports/{job['id']}/start", body)
    assert started.status_code == 202, started.json_body
    return wait_status(api, pump, job["id"], *FINISHED)


def _check_invariants(api: Api, pump: Any, lid: str, job: dict[str, Any]) -> None:
    # never left half-way: one more drain changes nothing
    assert job["status"] in SETTLED, job
    pump.drain()
    again = api.get(f"/imports/{job['id']}").json_body
    assert again["status"] == job["status"] and again["counts"] == job["counts"]
    lead_count = api.get(f"/lists/{lid}").json_body["lead_count"]
    counts = job["counts"]
    if job["status"] in ("completed", "completed_with_errors"):
        assert counts["saved"] + counts["duplicates"] + counts["invalid"] == job["total_rows"]
        assert job["processed_rows"] == job["total_rows"] and job["progress"] == 100
        assert lead_count == counts["saved"]
        assert len(_leads(api, lid)) == counts["saved"]
        report = _report_rows(api, job["id"])
        rejected_rows = [r for r in report if r["outcome"] == "rejected"]
        assert len(rejected_rows) == counts["duplicates"] + counts["invalid"]
        assert all(r["codes"] for r in report)
    else:
        assert counts == {"saved": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "invalid": 0}
        assert lead_count == 0


# --- lifecycle cases that are not about the bytes -----------------------------


def test_start_before_analysis_is_409_import_not_ready(
        checked_api: Api, pump: Any, handler_errors: pytest.LogCaptureFixture) -> None:
    api = checked_api
    lid = api.new_list()["id"]
    # awaiting_upload: nothing uploaded yet
    waiting = api.post(f"/lists/{lid}/imports", {"filename": "a.csv"}).json_body
    refused = api.post(f"/imports/{waiting['id']}/start", {})
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "import_not_ready"
    assert refused.json_body["error"]["details"] == {"status": "awaiting_upload"}
    # uploaded, not analysed yet (the pump has not run)
    job = upload(api, lid, b"email\na@example.com\n")
    refused = api.post(f"/imports/{job['id']}/start", {})
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "import_not_ready"
    # failed: never startable
    bad = upload(api, lid, b" \n\n", "empty.csv")
    assert wait_status(api, pump, bad["id"], *SETTLED)["status"] == "failed"
    assert api.post(f"/imports/{bad['id']}/start", {}).status_code == 409
    # completed: starting again is refused, nothing is imported twice
    done = wait_status(api, pump, job["id"], *SETTLED)
    assert api.post(f"/imports/{done['id']}/start", {}).status_code == 202
    assert wait_status(api, pump, job["id"], *FINISHED)["counts"]["saved"] == 1
    again = api.post(f"/imports/{job['id']}/start", {})
    assert again.status_code == 409 and again.json_body["error"]["code"] == "import_not_ready"
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 1
    _no_handler_crash(handler_errors)


def test_second_upload_to_the_same_key_after_analysis_does_not_restart_it(
        checked_api: Api, pump: Any, handler_errors: pytest.LogCaptureFixture) -> None:
    # The presigned POST can be used again until it expires. A second upload
    # after analysis raises a new S3 event; analyse_upload ignores it because
    # the import is no longer awaiting_upload ("the first one stands"), so the
    # import stays ready with the first file's analysis and preview.
    api = checked_api
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email,first_name\nfirst@example.com,First\n")
    ready = wait_status(api, pump, job["id"], *SETTLED)
    assert ready["status"] == "ready"
    form = job["upload"]
    second = requests.post(form["url"], data=form["fields"],
                           files={"file": ("x.csv", b"email,first_name\nsecond@example.com,S\n"
                                                    b"third@example.com,T\n")})
    assert second.status_code in (200, 204)
    pump.drain()
    still = api.get(f"/imports/{job['id']}").json_body
    assert still["status"] == "ready"
    assert still["file"] == ready["file"] and still["preview"] == ready["preview"]
    assert still["updated_at"] == ready["updated_at"]
    _no_handler_crash(handler_errors)


def test_second_upload_after_analysis_is_not_what_gets_imported(
        checked_api: Api, pump: Any, handler_errors: pytest.LogCaptureFixture) -> None:
    api = checked_api
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email,first_name\nfirst@example.com,First\n")
    assert wait_status(api, pump, job["id"], *SETTLED)["status"] == "ready"
    form = job["upload"]
    requests.post(form["url"], data=form["fields"],
                  files={"file": ("x.csv", b"email,first_name\nsecond@example.com,S\n"
                                           b"third@example.com,T\n")})
    pump.drain()
    assert api.post(f"/imports/{job['id']}/start", {}).status_code == 202
    done = wait_status(api, pump, job["id"], *FINISHED)
    # the file that was analysed and previewed is the file that is imported
    assert [lead["email"] for lead in _leads(api, lid)] == ["first@example.com"]
    assert done["counts"] == {"saved": 1, "updated": 0, "unchanged": 0,
                              "duplicates": 0, "invalid": 0}
    _no_handler_crash(handler_errors)


# --- a sparse-sheet bomb, read in a child process ------------------------------

_READ_SHEET = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from chalicelib.domain.file_format import FileFormat, UnreadableFile
from chalicelib.domain.row_reader import iter_rows, split_header
with open(sys.argv[1], "rb") as stream:
    try:
        header, data = split_header(iter_rows(stream, FileFormat(kind="xlsx")))
        print("rows", sum(1 for _ in data))
    except UnreadableFile as exc:
        print("code", exc.code)
"""


def test_sparse_sheet_bomb_is_refused_not_fatal(tmp_path: Path) -> None:
    # Not run through the pipeline in this process: the abort would kill pytest.
    # The child runs the same reader the pipeline uses, with its address space capped.
    import subprocess
    import sys

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "email"
    sheet["A2"] = "a@example.com"
    sheet["XFD1048576"] = "x"
    path = tmp_path / "sparse.xlsx"
    workbook.save(path)
    assert path.stat().st_size < 10_000
    child = subprocess.run([sys.executable, "-c", _READ_SHEET, str(path)],
                           check=False, capture_output=True, text=True, timeout=60,
                           cwd=Path(__file__).resolve().parents[2])
    assert child.returncode == 0, (child.returncode, child.stderr[:200])
    assert child.stdout.split() == ["code", "spreadsheet_too_large"]

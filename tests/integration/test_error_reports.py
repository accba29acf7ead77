"""GET /imports/{id}/errors: small reports inline, larger ones a presigned link (303)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import boto3
import moto.s3.models
import pytest
import requests

from chalicelib.adapters import s3_files
from chalicelib.adapters.s3_files import S3Files
from chalicelib.config import get_settings
from chalicelib.services import import_report
from chalicelib.services.import_erasure import object_prefixes
from chalicelib.services.import_report import ErrorReport, InlineReport, ReportLink
from tests.integration.conftest import Api
from tests.integration.test_imports import upload, wait_status
from tools.embedded_aws import EmbeddedAws

# Rejected rows and formula cells, in the header and the rows: the report must
# keep every cell inert, inline or assembled.
CSV = (b'email,"=HYPERLINK(""http://x"")",notes\n'
       b'bad@@,  @SUM(A1),=1+1\n'
       b'ok@example.com,-1-1,fine\n'
       b'also bad,+cmd,"quoted, with comma"\n'
       b'ok2@example.com,x,y\n'
       b'third@@bad,=2+2,"line\nbreak"\n')


def test_local_stack_link_downloads_with_plain_http(monkeypatch: pytest.MonkeyPatch):
    # First in the file: the embedded AWS (make run's moto server) must run
    # before this module's in-process mock starts intercepting requests.
    server = EmbeddedAws().start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
        files = S3Files("leadpipe-report-check", "us-east-1")
        files.client.create_bucket(Bucket=files.bucket)
        report = ErrorReport(files, url_seconds=60)
        report.write_part("im_local", 1, [import_report.ReportRow(2, ["=evil()"])])
        # GIVEN the threshold below the report's size
        monkeypatch.setattr(import_report, "INLINE_REPORT_MAX_BYTES", 0)
        # WHEN it is asked for
        link = report.download("im_local", ["email"])
        # THEN the link points at the local server and downloads with plain HTTP
        assert isinstance(link, ReportLink) and link.url.startswith(server.url)
        got = requests.get(link.url, timeout=10)
        assert got.status_code == 200
        assert got.headers["Content-Disposition"] == 'attachment; filename="im_local-errors.csv"'
        assert got.content == (b"row,outcome,codes,reason,email\r\n"
                               b"2,saved_with_warnings,,,'=evil()\r\n")
    finally:
        server.stop()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.bootstrap import services

    # Two rows a chunk: the report is several parts, joined in order.
    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 2)


@pytest.fixture
def s3_writes() -> Iterator[list[str]]:
    """The S3 writes the API's own client makes (PutObject, CreateMultipartUpload)."""
    from chalicelib.bootstrap import services

    calls: list[str] = []
    events = services().imports._files.client.meta.events

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    for operation in ("PutObject", "CreateMultipartUpload", "UploadPart"):
        events.register(f"before-call.s3.{operation}", record, unique_id=f"count-{operation}")
    yield calls
    for operation in ("PutObject", "CreateMultipartUpload", "UploadPart"):
        events.unregister(f"before-call.s3.{operation}", unique_id=f"count-{operation}")


def finished_import(api: Api, pump: Any) -> str:
    job = upload(api, api.new_list()["id"], CSV, auto_start=True)
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors")
    assert done["counts"]["invalid"] == 3, done
    return str(job["id"])


def report_key(import_id: str) -> str:
    return ErrorReport.report_key(import_id)


def stored(key: str) -> bool:
    s3 = boto3.client("s3", region_name=get_settings().region)
    listed = s3.list_objects_v2(Bucket=get_settings().bucket_name, Prefix=key)
    return any(o["Key"] == key for o in listed.get("Contents", []))


def test_a_small_report_is_answered_inline(api: Api, pump: Any, small_chunks: None):
    import_id = finished_import(api, pump)
    # WHEN the report is asked for
    response = api.get(f"/imports/{import_id}/errors")
    # THEN it is the body itself, its cells inert, in row order across chunks
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{import_id}-errors.csv"')
    header, *rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert header == ["row", "outcome", "codes", "reason",
                      "email", "'=HYPERLINK(\"http://x\")", "notes"]
    assert [(r[0], r[1], r[4:]) for r in rows] == [
        ("2", "rejected", ["bad@@", "'  @SUM(A1)", "'=1+1"]),
        ("4", "rejected", ["also bad", "'+cmd", "quoted, with comma"]),
        ("6", "rejected", ["third@@bad", "'=2+2", "line\nbreak"]),
    ]
    assert not stored(report_key(import_id))  # nothing assembled for a small report


def test_a_large_report_is_a_link_to_the_same_bytes_assembled_once(
        api: Api, other_api: Api, pump: Any, small_chunks: None, s3_writes: list[str],
        monkeypatch: pytest.MonkeyPatch):
    import_id = finished_import(api, pump)
    inline = api.get(f"/imports/{import_id}/errors")
    assert inline.status_code == 200
    # GIVEN a threshold the report is over
    monkeypatch.setattr(import_report, "INLINE_REPORT_MAX_BYTES", 100)
    s3_writes.clear()
    # WHEN it is asked for
    response = api.get(f"/imports/{import_id}/errors")
    # THEN the answer is a 303 to a presigned link of the assembled report
    assert response.status_code == 303, response.body
    url = response.headers["Location"]
    assert f"/errors/{import_id}/report.csv" in url and "X-Amz-Expires=300" in url
    download = requests.get(url, timeout=10)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{import_id}-errors.csv"')
    assert download.headers["Content-Type"].startswith("text/csv")
    # byte for byte the inline report: header first, formula cells still inert
    assert download.content == inline.body
    assert s3_writes == ["PutObject"]
    # WHEN it is asked for again: the assembled object is reused, not written again
    again = api.get(f"/imports/{import_id}/errors")
    assert again.status_code == 303
    assert requests.get(again.headers["Location"], timeout=10).content == inline.body
    assert s3_writes == ["PutObject"]
    # another workspace does not learn of it
    assert other_api.get(f"/imports/{import_id}/errors").status_code == 404
    # WHEN the import is deleted THEN the assembled report goes with it
    assert any(report_key(import_id).startswith(p) for p in object_prefixes(import_id))
    assert stored(report_key(import_id))
    assert api.delete(f"/imports/{import_id}").status_code == 204
    assert not stored(report_key(import_id))
    assert api.get(f"/imports/{import_id}/errors").status_code == 404


def test_a_report_over_one_part_is_uploaded_in_parts_and_reassembled_when_it_changes(
        api: Api, pump: Any, small_chunks: None, s3_writes: list[str],
        monkeypatch: pytest.MonkeyPatch):
    from chalicelib.bootstrap import services

    import_id = finished_import(api, pump)
    inline = api.get(f"/imports/{import_id}/errors").body
    # GIVEN multipart parts of 64 bytes (S3 and moto want 5 MiB; lowered for the test)
    monkeypatch.setattr(import_report, "INLINE_REPORT_MAX_BYTES", 0)
    monkeypatch.setattr(s3_files, "MULTIPART_PART_BYTES", 64)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 64)
    s3_writes.clear()
    # WHEN the report is assembled
    response = api.get(f"/imports/{import_id}/errors")
    # THEN it took several parts and downloads whole
    assert response.status_code == 303
    assert s3_writes[0] == "CreateMultipartUpload" and s3_writes.count("UploadPart") > 2
    assert requests.get(response.headers["Location"], timeout=10).content == inline
    # WHEN a part is rewritten (a redelivered chunk reporting differently)
    report: ErrorReport = services().imports._report
    report.write_part(import_id, 1, [import_report.ReportRow(9, ["late@@", "", ""])])
    s3_writes.clear()
    relinked = api.get(f"/imports/{import_id}/errors")
    # THEN the report is assembled again, with the new part
    assert "CreateMultipartUpload" in s3_writes
    text = requests.get(relinked.headers["Location"], timeout=10).content.decode()
    assert "late@@" in text and text.startswith("row,outcome,codes,reason,")


def test_a_report_whose_json_encoding_would_not_fit_is_a_link(
        monkeypatch: pytest.MonkeyPatch, aws: None):
    # GIVEN a report under the size threshold whose non-ASCII cells grow
    # sixfold as JSON (\\uXXXX) past the response limit
    files = S3Files(get_settings().bucket_name, get_settings().region)
    report = ErrorReport(files)
    report.write_part("im_wide", 1, [import_report.ReportRow(2, ["é" * 2000])])
    monkeypatch.setattr(import_report, "RESPONSE_MAX_BYTES", 6000)
    # WHEN it is asked for THEN it is a link, not a body Lambda would refuse
    assert isinstance(report.download("im_wide", ["name"]), ReportLink)
    monkeypatch.setattr(import_report, "RESPONSE_MAX_BYTES", 60000)
    assert isinstance(report.download("im_wide", ["name"]), InlineReport)
    for key in list(files.keys("errors/im_wide/")):
        files.delete(key)

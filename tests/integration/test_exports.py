"""Exports of any size: POST /lists/{id}/exports runs on the jobs queue, GET /exports/{id}."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import boto3
import openpyxl
import pytest
import requests

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.domain.job_messages import ExportJob
from chalicelib.services import export_files
from tests.integration.conftest import Api


def _leads(api: Api, list_id: str, count: int, pump: Any) -> list[str]:
    """Leads with formula-like cells, verified (so they change no more while exported)."""
    emails = []
    for i in range(count):
        email = f"p{i}@example.com"
        response = api.post(f"/lists/{list_id}/leads", {
            "email": email, "first_name": f"=HYPERLINK(\"http://x/{i}\")",
            "notes": "-1-1" if i % 2 else "plain", "tags": ["vip"] if i % 3 == 0 else [],
            "custom_fields": {"score": i}})
        assert response.status_code == 201, response.json_body
        emails.append(email)
    pump.drain()
    return emails


def _finished(api: Api, export_id: str) -> dict[str, Any]:
    response = api.get(f"/exports/{export_id}")
    assert response.status_code == 200, response.json_body
    body: dict[str, Any] = response.json_body
    assert body["status"] == "completed", body
    return body


def _download(body: dict[str, Any]) -> bytes:
    got = requests.get(body["download_url"], timeout=10)
    assert got.status_code == 200
    return got.content


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def _workspace(api: Api) -> str:
    return services().auth.authenticate(f"Bearer {api.token}")


def test_a_filtered_export_runs_in_the_background_and_downloads(api: Api, pump: Any):
    # GIVEN a list whose leads hold formula-like cells
    lst = api.new_list(name='Q1 "Prospects"/EU')
    _leads(api, lst["id"], 6, pump)
    # WHEN the vip leads are exported
    started = api.post(f"/lists/{lst['id']}/exports", {"filter": {"tag": "vip"}})
    assert started.status_code == 202, started.json_body
    assert started.json_body["status"] == "running" and "download_url" not in started.json_body
    pump.drain()
    body = _finished(api, started.json_body["id"])
    # THEN the download is the header, then exactly the matching rows, cells inert
    got = requests.get(body["download_url"], timeout=10)
    assert got.headers["Content-Disposition"] == 'attachment; filename="Q1 _Prospects__EU.csv"'
    rows = _rows(got.content)
    sync_header = _rows(api.get(f"/lists/{lst['id']}/export").body)[0]
    assert rows[0] == sync_header and sync_header[-1] == "score"
    emails = rows[0].index("email")
    assert sorted(r[emails] for r in rows[1:]) == ["p0@example.com", "p3@example.com"]
    assert all(r[rows[0].index("first_name")].startswith("'=HYPERLINK") for r in rows[1:])
    assert {r[rows[0].index("notes")] for r in rows[1:]} == {"plain", "'-1-1"}
    assert body["rows"] == 2 and body["bytes"] == len(got.content)
    assert body["list_id"] == lst["id"] and body["finished_at"]


def test_an_unfiltered_export_is_the_synchronous_export_byte_for_byte(api: Api, pump: Any):
    lst = api.new_list()
    _leads(api, lst["id"], 4, pump)
    started = api.post(f"/lists/{lst['id']}/exports")
    assert started.status_code == 202
    pump.drain()
    assert _download(_finished(api, started.json_body["id"])) == \
        api.get(f"/lists/{lst['id']}/export").body


def test_chosen_columns_in_the_order_asked(api: Api, pump: Any):
    lst = api.new_list()
    _leads(api, lst["id"], 2, pump)
    started = api.post(f"/lists/{lst['id']}/exports",
                       {"columns": ["email", "score", "notes"], "format": "csv"})
    pump.drain()
    rows = _rows(_download(_finished(api, started.json_body["id"])))
    assert rows[0] == ["email", "score", "notes"]
    assert sorted(rows[1:]) == [["p0@example.com", "0", "plain"],
                                ["p1@example.com", "1", "'-1-1"]]


def test_an_export_over_many_job_runs_assembles_every_part_in_order(
        api: Api, pump: Any, monkeypatch: pytest.MonkeyPatch):
    # GIVEN a job budget of 0: each job run writes one lead's part
    monkeypatch.setattr(services().jobs, "_budget", 0)
    lst = api.new_list()
    emails = _leads(api, lst["id"], 7, pump)
    # WHEN the list is exported
    started = api.post(f"/lists/{lst['id']}/exports")
    pump.drain()
    export_id = started.json_body["id"]
    body = _finished(api, export_id)
    # THEN it took several parts, and holds every lead once, in the list's order
    parts = services().exports._store.parts(export_id)
    assert len(parts) >= 7 and [p.number for p in parts] == list(range(1, len(parts) + 1))
    data = _download(body)
    rows = _rows(data)
    assert sorted(r[rows[0].index("email")] for r in rows[1:]) == sorted(emails)
    assert data == api.get(f"/lists/{lst['id']}/export").body
    assert body["rows"] == 7


def test_a_job_delivered_twice_does_not_duplicate_rows(
        api: Api, pump: Any, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(services().jobs, "_budget", 0)
    lst = api.new_list()
    emails = _leads(api, lst["id"], 5, pump)
    started = api.post(f"/lists/{lst['id']}/exports")
    export_id = started.json_body["id"]
    first = ExportJob(_workspace(api), export_id, 1, None).to_body()
    # WHEN the first part's message is run before its queued copy is delivered
    services().jobs.run(first)
    # ...and a delivery racing the recorded one writes the part again
    exports = services().exports
    record = exports._store.get_export(export_id)
    assert record is not None
    raced = exports._write_part(record, ExportJob(record.workspace, export_id, 1, None),
                                deadline=0)
    assert raced == exports._store.get_part(export_id, 1)
    pump.drain()
    # ...and once more after the export completed
    services().jobs.run(first)
    pump.drain()
    # THEN every lead is exported once, and no part or segment is left behind
    # (the raced copy was dropped; the recorded ones went once the file was packed)
    body = _finished(api, export_id)
    rows = _rows(_download(body))
    assert sorted(r[rows[0].index("email")] for r in rows[1:]) == sorted(emails)
    assert body["rows"] == 5 and body["converted_rows"] == 5
    assert exports._store.parts(export_id) and exports._store.segments(export_id)
    assert list(exports._files.keys(f"exports/{export_id}/")) == []
    assert list(exports._files.keys(f"exports/{export_id}.")) == [f"exports/{export_id}.csv"]


def test_another_workspace_sees_no_export(api: Api, other_api: Api, pump: Any):
    lst = api.new_list()
    started = api.post(f"/lists/{lst['id']}/exports")
    pump.drain()
    assert other_api.get(f"/exports/{started.json_body['id']}").status_code == 404
    assert other_api.post(f"/lists/{lst['id']}/exports").status_code == 404
    assert api.get("/exports/ex_nothing").status_code == 404
    # an empty list exports its header alone
    rows = _rows(_download(_finished(api, started.json_body["id"])))
    assert len(rows) == 1 and rows[0][0] == "id"


def test_bad_requests(api: Api):
    lst = api.new_list()
    ods = api.post(f"/lists/{lst['id']}/exports", {"format": "ods"})
    assert ods.status_code == 400 and ods.json_body["error"]["code"] == "unsupported_format"
    bad_filter = api.post(f"/lists/{lst['id']}/exports", {"filter": {"status": "nope"}})
    assert bad_filter.status_code == 400
    assert api.post(f"/lists/{lst['id']}/exports", {"columns": []}).status_code == 400
    assert api.post(f"/lists/{lst['id']}/exports", {"sheet": 1}).status_code == 400


def _sheets(data: bytes) -> dict[str, list[list[str]]]:
    """Every sheet of an .xlsx as rows of text ("" for an empty cell), checked as a ZIP first."""
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: [["" if v is None else str(v) for v in row]
                          for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def test_an_xlsx_export_holds_the_csv_exports_cells(api: Api, pump: Any):
    # GIVEN a list whose leads hold formula-like cells and a custom field
    lst = api.new_list(name="Q1 Prospects")
    _leads(api, lst["id"], 5, pump)
    # WHEN it is exported as xlsx
    started = api.post(f"/lists/{lst['id']}/exports", {"format": "xlsx"})
    assert started.status_code == 202 and started.json_body["format"] == "xlsx"
    pump.drain()
    body = _finished(api, started.json_body["id"])
    got = requests.get(body["download_url"], timeout=10)
    # THEN it is a workbook of one sheet holding exactly the synchronous CSV's cells, inert
    assert got.headers["Content-Disposition"] == 'attachment; filename="Q1 Prospects.xlsx"'
    assert got.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheets = _sheets(got.content)
    csv_rows = _rows(api.get(f"/lists/{lst['id']}/export").body)
    assert list(sheets) == ["Leads"]
    assert sorted(sheets["Leads"][1:]) == sorted(csv_rows[1:])
    assert sheets["Leads"][0] == csv_rows[0]
    first_names = {r[csv_rows[0].index("first_name")] for r in sheets["Leads"][1:]}
    assert all(name.startswith("'=HYPERLINK") for name in first_names)
    assert body["rows"] == 5 and body["bytes"] == len(got.content)


def test_an_xlsx_export_over_many_runs_fills_sheets_and_survives_redelivery(
        api: Api, pump: Any, monkeypatch: pytest.MonkeyPatch):
    # GIVEN a job budget of 0 (a part a lead, a segment a row) and sheets of 3 rows
    monkeypatch.setattr(services().jobs, "_budget", 0)
    monkeypatch.setattr(export_files, "SHEET_ROWS", 3)
    lst = api.new_list()
    emails = _leads(api, lst["id"], 7, pump)
    started = api.post(f"/lists/{lst['id']}/exports",
                       {"format": "xlsx", "columns": ["email", "score"]})
    export_id = started.json_body["id"]
    # WHEN every message is delivered twice
    queue_url = pump_queue_url()
    sqs = boto3.client("sqs", region_name=get_settings().region)
    for _ in range(200):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
        if not got.get("Messages"):
            break
        [message] = got["Messages"]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        body = json.loads(message["Body"])
        services().jobs.run(body)
        services().jobs.run(body)
    pump.drain()
    # THEN the workbook holds every lead once over sheets of 3 rows, each with the header
    body = _finished(api, export_id)
    assert len(services().exports._store.segments(export_id)) >= 7
    sheets = _sheets(_download(body))
    assert list(sheets) == ["Leads", "Leads 2", "Leads 3"]
    assert all(rows[0] == ["email", "score"] for rows in sheets.values())
    assert [len(rows) - 1 for rows in sheets.values()] == [3, 3, 1]
    exported = [r for rows in sheets.values() for r in rows[1:]]
    assert sorted(r[0] for r in exported) == sorted(emails)
    assert sorted(int(r[1]) for r in exported) == list(range(7))
    assert body["rows"] == 7 and body["converted_rows"] == 7


def pump_queue_url() -> str:
    sqs = boto3.client("sqs", region_name=get_settings().region)
    return str(sqs.get_queue_url(QueueName=get_settings().queue_name("jobs"))["QueueUrl"])

"""Google Sheets imports against a loopback Sheets API (tools/sandboxes/google_sheets.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.provider_settings import provider_apps
from tests.integration.conftest import Api
from tests.integration.test_imports import wait_status
from tools.sandboxes.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from tools.sandboxes.google_sheets import GoogleSheetsSandbox

TOKEN = "ya29.test-sheets-reader-token"
SHEET_ID = "1TestSpreadsheet000000000000000000000000000"
ROWS: list[list[Any]] = [
    ["Email", "First name", "Phone", "Company", "VIP"],
    ["ada@example.com", "Ada", 14155550134, "Analytical Engines", True],
    ["grace@example.com", "Grace"],  # ragged: Google omits trailing empty cells
    ["not-an-email", "Bad", "", "", False],
    ["linus@example.com", "Linus", "+44 20 7946 0018", "Kernel Ltd"],
]


@pytest.fixture
def sheets(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleSheetsSandbox]:
    sandbox = GoogleSheetsSandbox(access_tokens=[TOKEN])
    url = sandbox.start()
    sandbox.add_spreadsheet(SHEET_ID, {"Summary": [["nothing", "here"]],
                                       "Q1 'Hot' Leads": ROWS})
    sandbox.share(SHEET_ID, TOKEN)
    monkeypatch.setenv("LEADPIPE_GOOGLE_SHEETS_API_URL", url)
    monkeypatch.setenv("LEADPIPE_GOOGLE_TOKEN_URL", f"{url}/token")
    monkeypatch.setenv("LEADPIPE_GOOGLE_CLIENT_ID", GOOGLE_CLIENT_ID)
    monkeypatch.setenv("LEADPIPE_GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET)
    provider_apps.cache_clear()
    yield sandbox
    sandbox.stop()
    provider_apps.cache_clear()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Sleeps of the Sheets client's back-off, recorded instead of waited."""
    from chalicelib.bootstrap import services

    slept: list[float] = []
    reader = services().import_analyser._source._others["google_sheets"]._reader
    monkeypatch.setattr(reader, "_sleep", slept.append)
    return slept


def create(api: Api, lid: str, **fields: Any) -> Any:
    return api.post(f"/lists/{lid}/imports", {"source": "google_sheets",
                                              "spreadsheet_id": SHEET_ID, **fields})


def test_a_named_sheet_is_analysed_previewed_and_imported_like_a_file(api: Api, pump, sheets):
    lid = api.new_list()["id"]
    created = create(api, lid, sheet_name="Q1 'Hot' Leads", access_token=TOKEN)
    assert created.status_code == 201, created.json_body
    job = created.json_body
    assert job["source"] == "google_sheets" and "upload" not in job
    assert TOKEN not in json.dumps(job)
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    assert ready["status"] == "ready", ready["error"]
    assert ready["file"]["sheet"] == "Q1 'Hot' Leads"
    assert ready["mapping"]["Email"] == "email" and ready["mapping"]["First name"] == "first_name"
    assert len(ready["preview"]) == 4
    assert TOKEN not in json.dumps(ready)
    # The sheet is pinned at analysis: an edit now does not change what is imported
    sheets.spreadsheets[SHEET_ID].sheets[1].rows.append(["late@example.com", "Late"])
    assert api.post(f"/imports/{job['id']}/start", {}).status_code == 202
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors")
    assert done["counts"]["saved"] == 3 and done["counts"]["invalid"] == 1
    leads = {lead["email"]: lead for lead in api.get(f"/lists/{lid}/leads").json_body["items"]}
    assert set(leads) == {"ada@example.com", "grace@example.com", "linus@example.com"}
    assert leads["ada@example.com"]["phone"] == "+14155550134"  # a number, not 1.4e10
    assert leads["linus@example.com"]["phone"] == "+442079460018"
    report = api.get(f"/imports/{job['id']}/errors").body.decode()
    assert "not-an-email" in report


def test_the_first_sheet_is_read_when_none_is_named(api: Api, pump, sheets):
    lid = api.new_list()["id"]
    job = create(api, lid, access_token=TOKEN).json_body
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    assert ready["file"]["sheet"] == "Summary"
    assert ready["file"]["columns"] == ["nothing", "here"]


def test_a_sheet_import_through_a_google_connection(api: Api, pump, sheets):
    refresh = sheets.issue_refresh_token()
    connection = api.post("/connections", {"provider": "google_sheets",
                                           "refresh_token": refresh}).json_body
    sheets.share(SHEET_ID, refresh)  # the user behind the refresh token may read it
    lid = api.new_list()["id"]
    job = create(api, lid, sheet_name="Q1 'Hot' Leads", connection_id=connection["id"],
                 auto_start=True).json_body
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors", "failed")
    assert done["status"] == "completed", done["error"]
    assert done["counts"]["saved"] == 3 and done["counts"]["invalid"] == 1


def test_google_errors_become_clear_import_errors(api: Api, pump, sheets, no_backoff):
    lid = api.new_list()["id"]
    cases = [({"access_token": "ya29.unknown-token"}, "sheets_unauthorized"),
             ({"access_token": TOKEN, "sheet_name": "No such tab"}, "sheet_not_found")]
    sheets.add_spreadsheet("1PrivateSpreadsheet0000000000000000000000000", {"A": [["x"]]},
                           private=True)
    for fields, code in cases:
        job = create(api, lid, **fields).json_body
        failed = wait_status(api, pump, job["id"], "failed", "ready")
        assert failed["status"] == "failed" and failed["error"]["code"] == code, failed
    private = api.post(f"/lists/{lid}/imports", {
        "source": "google_sheets", "access_token": TOKEN,
        "spreadsheet_id": "1PrivateSpreadsheet0000000000000000000000000"}).json_body
    assert wait_status(api, pump, private["id"], "failed")["error"]["code"] == "sheets_forbidden"
    missing = api.post(f"/lists/{lid}/imports", {
        "source": "google_sheets", "access_token": TOKEN,
        "spreadsheet_id": "1NoSuchSpreadsheet00000000000000000000000000"}).json_body
    assert wait_status(api, pump, missing["id"], "failed")["error"]["code"] == \
        "spreadsheet_not_found"


def test_429s_are_retried_with_backoff_then_succeed(api: Api, pump, sheets, no_backoff):
    lid = api.new_list()["id"]
    sheets.throttle_next(2)
    job = create(api, lid, sheet_name="Q1 'Hot' Leads", access_token=TOKEN).json_body
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    assert ready["status"] == "ready", ready["error"]
    assert no_backoff == [1.0, 2.0]
    sheets.throttle_next(10)
    job = create(api, lid, sheet_name="Q1 'Hot' Leads", access_token=TOKEN).json_body
    failed = wait_status(api, pump, job["id"], "failed", "ready")
    assert failed["error"]["code"] == "sheets_rate_limited"


def test_bad_sheet_import_requests_are_400(api: Api, other_api: Api, sheets):
    lid = api.new_list()["id"]
    for fields, code in (({}, "credentials_required"),
                         ({"access_token": TOKEN, "connection_id": "cn_x"},
                          "credentials_required"),
                         ({"access_token": TOKEN, "spreadsheet_id": "short"},
                          "invalid_spreadsheet_id"),
                         ({"access_token": TOKEN, "filename": "x.csv"}, "unknown_field")):
        response = api.post(f"/lists/{lid}/imports", {"source": "google_sheets",
                                                      "spreadsheet_id": SHEET_ID, **fields})
        assert response.status_code == 400, fields
        codes = [e["code"] for e in response.json_body["error"]["details"]["errors"]]
        assert code in codes, (fields, codes)
    unknown = api.post(f"/lists/{lid}/imports", {"source": "dropbox", "filename": "x.csv"})
    assert unknown.status_code == 400
    # Another workspace's connection is not found
    hubspot_like = other_api.post("/connections", {"provider": "google_sheets",
                                                   "access_token": TOKEN}).json_body
    foreign = create(api, lid, connection_id=hubspot_like["id"])
    assert foreign.status_code == 404


def test_a_token_google_refuses_is_refreshed_once_and_the_read_retried(api: Api, pump, sheets):
    refresh = sheets.issue_refresh_token()
    connection = api.post("/connections", {"provider": "google_sheets",
                                           "refresh_token": refresh}).json_body
    sheets.share(SHEET_ID, refresh)
    sheets.expire_access_tokens()  # revoked early: our copy still looks fresh
    token_calls = sheets.count("POST", "/token")
    lid = api.new_list()["id"]
    job = create(api, lid, sheet_name="Q1 'Hot' Leads", connection_id=connection["id"]).json_body
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    assert ready["status"] == "ready", ready["error"]
    assert sheets.count("POST", "/token") == token_calls + 1

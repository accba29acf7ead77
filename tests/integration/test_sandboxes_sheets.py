"""The Google Sheets sandbox (tools/sandboxes/google_sheets.py) over real HTTP.

Google's token endpoint, sheet titles through a fields mask, values of quoted
sheet names with ragged rows, and Google's error shapes and quota.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from tools.sandboxes.google_sheets import GoogleSheetsSandbox

SHEET_ID = "1SheetUnderTest"
HOT = "Q1 'Hot' Leads"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture
def sheets() -> Iterator[GoogleSheetsSandbox]:
    sandbox = GoogleSheetsSandbox(access_tokens=["ya29.test"])
    sandbox.add_spreadsheet(SHEET_ID, {
        "Leads": [["Name", "Email", "Score"], ["Ada", "ada@example.com", 42, "", None],
                  ["Bob", "", 3.5], [], ["Cy", None, None]],
        HOT: [["Name", "Deal size", "Qualified"], ["Ada", 1500.0, True], ["Bob", 2.25]],
    })
    sandbox.start()
    yield sandbox
    sandbox.stop()
    assert sandbox.errors == []


@pytest.fixture
def gs(sheets: GoogleSheetsSandbox) -> requests.Session:
    return _session("ya29.test")


def _values(client: requests.Session, base: str, sheet_range: str, spreadsheet: str = SHEET_ID,
            **params: str) -> requests.Response:
    path = f"/v4/spreadsheets/{spreadsheet}/values/{quote(sheet_range, safe='')}"
    return client.get(base + path, params=params, timeout=5)


def test_sheets_oauth_code_and_refresh(sheets):
    code = sheets.issue_code(REDIRECT)
    form = {"client_id": sheets.client_id, "client_secret": sheets.client_secret}
    first = requests.post(sheets.url + "/token", timeout=5, data={
        **form, "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert first.status_code == 200
    body = first.json()
    assert body["expires_in"] == 3599 and body["token_type"] == "Bearer" and body["scope"]
    refreshed = requests.post(sheets.url + "/token", timeout=5, data={
        **form, "grant_type": "refresh_token", "refresh_token": body["refresh_token"]}).json()
    assert set(refreshed) == {"access_token", "expires_in", "scope", "token_type"}
    assert _values(_session(refreshed["access_token"]), sheets.url, "Leads").status_code == 200
    refused = requests.post(sheets.url + "/token", timeout=5, data={
        **form, "grant_type": "refresh_token", "refresh_token": "1//unknown"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_sheets_titles_with_a_fields_mask(sheets, gs):
    answer = gs.get(f"{sheets.url}/v4/spreadsheets/{SHEET_ID}",
                    params={"fields": "sheets.properties"}, timeout=5)
    assert answer.status_code == 200 and list(answer.json()) == ["sheets"]
    titles = [s["properties"] for s in answer.json()["sheets"]]
    assert [(p["title"], p["index"]) for p in titles] == [("Leads", 0), (HOT, 1)]
    assert titles[0]["sheetId"] == 0 and isinstance(titles[1]["sheetId"], int)


def test_sheets_values_quoted_names_ragged_rows_and_numbers(sheets, gs):
    leads = _values(gs, sheets.url, "Leads", valueRenderOption="UNFORMATTED_VALUE").json()
    assert leads == {"range": "Leads!A1:Z1000", "majorDimension": "ROWS", "values": [
        ["Name", "Email", "Score"], ["Ada", "ada@example.com", 42], ["Bob", "", 3.5], [],
        ["Cy"]]}
    hot = _values(gs, sheets.url, "'Q1 ''Hot'' Leads'", valueRenderOption="UNFORMATTED_VALUE")
    assert hot.status_code == 200
    assert hot.json()["range"] == "'Q1 ''Hot'' Leads'!A1:Z1000"
    assert hot.json()["values"][1:] == [["Ada", 1500, True], ["Bob", 2.25]]
    formatted = _values(gs, sheets.url, "'Q1 ''Hot'' Leads'!B2:C3").json()
    assert formatted["range"] == "'Q1 ''Hot'' Leads'!B2:C3"
    assert formatted["values"] == [["1500", "TRUE"], ["2.25"]]
    assert "values" not in _values(gs, sheets.url, "Leads!D10:E20").json()


@pytest.mark.parametrize("sheet_range", ["Nope", "'Q1 'Hot' Leads'", "Leads!A:5", "'Unclosed"])
def test_sheets_unparseable_ranges_are_400(sheets, gs, sheet_range):
    answer = _values(gs, sheets.url, sheet_range)
    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                       "message": f"Unable to parse range: {sheet_range}"}}


def test_sheets_error_shapes_and_sharing(sheets, gs):
    sheets.add_spreadsheet("1Private", {"Sheet1": [["x"]]}, private=True)
    denied = _values(gs, sheets.url, "Sheet1", spreadsheet="1Private")
    assert denied.status_code == 403 and denied.json()["error"]["status"] == "PERMISSION_DENIED"
    sheets.share("1Private", "ya29.test")
    assert _values(gs, sheets.url, "Sheet1", spreadsheet="1Private").json()["values"] == [["x"]]
    missing = _values(gs, sheets.url, "Sheet1", spreadsheet="1Missing")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    stranger = _values(_session("ya29.forged"), sheets.url, "Leads")
    assert stranger.status_code == 401
    assert stranger.json()["error"]["status"] == "UNAUTHENTICATED"


def test_sheets_expired_token_and_quota():
    with GoogleSheetsSandbox(token_ttl_seconds=100, reads_per_minute=2) as sandbox:
        sandbox.add_spreadsheet(SHEET_ID, {"Leads": [["a"]]})
        access = requests.post(sandbox.url + "/token", timeout=5, data={
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": sandbox.issue_refresh_token()}).json()["access_token"]
        client = _session(access)
        assert [_values(client, sandbox.url, "Leads").status_code for _ in range(3)] == [
            200, 200, 429]
        limited = _values(client, sandbox.url, "Leads").json()["error"]
        assert limited["status"] == "RESOURCE_EXHAUSTED" and limited["code"] == 429
        sandbox.advance_clock(60)
        sandbox.throttle_next()
        assert _values(client, sandbox.url, "Leads").status_code == 429
        assert _values(client, sandbox.url, "Leads").status_code == 200
        sandbox.advance_clock(41)
        expired = _values(client, sandbox.url, "Leads")
        assert expired.status_code == 401
        assert expired.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"

"""The loopback sandboxes (tools/sandboxes) over real HTTP: the HubSpot one, the shared knobs,
and `python -m tools.sandboxes`. Salesforce and Google Sheets have their own files
(test_sandboxes_salesforce.py, test_sandboxes_sheets.py).

Each test starts its own sandbox on a free port; `requests` talks to it as a
client would talk to the provider.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from tools.sandboxes import credentials
from tools.sandboxes.hubspot import HubSpotSandbox

CONTACTS = "/crm/v3/objects/contacts"
SEARCH = CONTACTS + "/search"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


# -- HubSpot ---------------------------------------------------------------------------


@pytest.fixture
def hubspot() -> Iterator[HubSpotSandbox]:
    sandbox = HubSpotSandbox(private_app_tokens=["pat-test"])
    sandbox.start()
    yield sandbox
    sandbox.stop()
    assert sandbox.errors == []


@pytest.fixture
def hs(hubspot: HubSpotSandbox) -> requests.Session:
    return _session("pat-test")


def _hubspot_token(sandbox: HubSpotSandbox, **form: str) -> requests.Response:
    return requests.post(sandbox.url + "/oauth/v1/token", timeout=5,
                         data={"client_id": sandbox.client_id,
                               "client_secret": sandbox.client_secret, **form})


def test_hubspot_oauth_code_exchange_refresh_and_revocation(hubspot):
    # GIVEN the user consented in the browser
    code = hubspot.issue_code(REDIRECT)
    # WHEN the app exchanges the code
    tokens = _hubspot_token(hubspot, grant_type="authorization_code", code=code,
                            redirect_uri=REDIRECT)
    # THEN it gets HubSpot's token shape, and the access token opens the API
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    assert _session(body["access_token"]).get(hubspot.url + CONTACTS, timeout=5).ok
    # AND a code is good once
    again = _hubspot_token(hubspot, grant_type="authorization_code", code=code,
                           redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["status"] == "BAD_AUTH_CODE"
    # WHEN it refreshes: a new access token, the same refresh token back
    refreshed = _hubspot_token(hubspot, grant_type="refresh_token",
                               refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] == body["refresh_token"]
    assert refreshed.json()["access_token"] != body["access_token"]
    # WHEN the user disconnects the app: refresh fails, access tokens stop working
    hubspot.revoke(body["refresh_token"])
    refused = _hubspot_token(hubspot, grant_type="refresh_token",
                             refresh_token=body["refresh_token"])
    assert refused.status_code == 400 and refused.json()["status"] == "BAD_REFRESH_TOKEN"
    gone = _session(refreshed.json()["access_token"]).get(hubspot.url + CONTACTS, timeout=5)
    assert gone.status_code == 401 and gone.json()["category"] == "INVALID_AUTHENTICATION"


def test_hubspot_expired_token_is_401_expired_authentication():
    with HubSpotSandbox(token_ttl_seconds=60) as sandbox:
        access = _hubspot_token(sandbox, grant_type="refresh_token",
                                refresh_token=sandbox.issue_refresh_token()).json()["access_token"]
        client = _session(access)
        assert client.get(sandbox.url + CONTACTS, timeout=5).status_code == 200
        sandbox.advance_clock(61)
        expired = client.get(sandbox.url + CONTACTS, timeout=5)
        assert expired.status_code == 401
        assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
        assert "expired 1 second(s) ago" in expired.json()["message"]


def test_hubspot_list_pages_100_at_a_time(hubspot, hs):
    ids = hubspot.seed(250)
    seen, after, pages = [], None, 0
    while True:
        page = hs.get(hubspot.url + CONTACTS, timeout=5,
                      params={"limit": 100, "after": after, "properties": "email,hs_lead_status"})
        assert page.status_code == 200
        pages += 1
        seen += [c["id"] for c in page.json()["results"]]
        first = page.json()["results"][0]
        assert set(first["properties"]) == {"email", "hs_lead_status", "createdate",
                                            "hs_object_id", "lastmodifieddate"}
        if "paging" not in page.json():
            break
        after = page.json()["paging"]["next"]["after"]
    assert seen == ids and pages == math.ceil(250 / 100)
    assert hubspot.count("GET", CONTACTS) == pages
    assert [r.query.get("after") for r in hubspot.requests] == [None, ["1101"], ["1201"]]
    too_big = hs.get(hubspot.url + CONTACTS, params={"limit": 101}, timeout=5)
    assert too_big.status_code == 400 and too_big.json()["category"] == "VALIDATION_ERROR"


def _search(client: requests.Session, url: str, **body: object) -> requests.Response:
    return client.post(url + SEARCH, json=body, timeout=5)


def test_hubspot_search_by_lastmodifieddate_gte(hubspot, hs):
    ids = hubspot.seed(50)
    since = int(hubspot.now() * 1000)
    changed = [ids[7], ids[3], ids[40]]
    for contact_id in changed:
        hubspot.update_contact(contact_id, jobtitle="Promoted")
    filters = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since)}]
    found = _search(hs, hubspot.url, filterGroups=[{"filters": filters}], limit=200,
                    sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    properties=["jobtitle"])
    assert found.status_code == 200
    body = found.json()
    assert body["total"] == 3 and "paging" not in body
    assert [c["id"] for c in body["results"]] == sorted(changed, key=int)
    assert {c["properties"]["jobtitle"] for c in body["results"]} == {"Promoted"}
    logged = hubspot.requests[-1]
    assert (logged.method, logged.path, logged.status) == ("POST", SEARCH, 200)
    assert logged.body["filterGroups"][0]["filters"] == filters


def test_hubspot_search_refuses_to_page_past_10000(hubspot, hs):
    hubspot.seed(10_050)
    pages, after = 0, "0"
    while True:
        page = _search(hs, hubspot.url, limit=200, after=after)
        if page.status_code != 200:
            break
        pages += 1
        assert page.json()["total"] == 10_050
        after = page.json()["paging"]["next"]["after"]
    assert pages == 50 and after == "10000"
    assert page.status_code == 400 and page.json()["category"] == "VALIDATION_ERROR"
    # The way round the cap: a new search from past the last id seen.
    last_id = str(1000 + 10_000)
    rest = _search(hs, hubspot.url, limit=200, filterGroups=[{"filters": [
        {"propertyName": "hs_object_id", "operator": "GT", "value": last_id}]}])
    assert rest.json()["total"] == 50


def test_hubspot_archived_contacts_list_apart(hubspot, hs):
    ids = hubspot.seed(5)
    assert hs.delete(f"{hubspot.url}{CONTACTS}/{ids[1]}", timeout=5).status_code == 204
    hubspot.archive(ids[3])
    live = hs.get(hubspot.url + CONTACTS, timeout=5).json()["results"]
    assert [c["id"] for c in live] == [ids[0], ids[2], ids[4]]
    archived = hs.get(hubspot.url + CONTACTS, params={"archived": "true"}, timeout=5).json()
    assert [c["id"] for c in archived["results"]] == [ids[1], ids[3]]
    assert all(c["archived"] and c["archivedAt"] for c in archived["results"])
    assert _search(hs, hubspot.url, limit=10).json()["total"] == 3


def test_hubspot_batch_update_reports_errors_per_input(hubspot, hs):
    ids = hubspot.seed(3)
    answer = hs.post(hubspot.url + CONTACTS + "/batch/update", timeout=5, json={"inputs": [
        {"id": ids[0], "properties": {"hs_lead_status": "HOT"}},
        {"id": ids[1], "properties": {"hs_lead_status": "CONNECTED", "jobtitle": "CFO"}},
        {"id": "999999", "properties": {"jobtitle": "x"}}]})
    assert answer.status_code == 207
    body = answer.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 2
    assert [r["id"] for r in body["results"]] == [ids[1]]
    invalid, missing = body["errors"]
    assert invalid["category"] == "VALIDATION_ERROR" and invalid["context"] == {"ids": [ids[0]]}
    assert invalid["errors"][0]["code"] == "INVALID_OPTION"
    assert "HOT was not one of the allowed options" in invalid["message"]
    assert missing["category"] == "OBJECT_NOT_FOUND" and missing["context"] == {"ids": ["999999"]}
    assert hubspot.contacts[ids[1]].properties["hs_lead_status"] == "CONNECTED"
    assert hubspot.contacts[ids[0]].properties["hs_lead_status"] != "HOT"
    single = hs.patch(f"{hubspot.url}{CONTACTS}/{ids[2]}", timeout=5,
                      json={"properties": {"hs_lead_status": "HOT"}})
    assert single.status_code == 400 and single.json()["errors"][0]["code"] == "INVALID_OPTION"
    too_many = [{"id": ids[0], "properties": {}}] * 101
    refused = hs.post(hubspot.url + CONTACTS + "/batch/update", json={"inputs": too_many},
                      timeout=5)
    assert refused.status_code == 400


def test_hubspot_burst_limit_429_and_knobs():
    with HubSpotSandbox(private_app_tokens=["pat"], burst_limit=3) as sandbox:
        client = _session("pat")
        statuses = [client.get(sandbox.url + CONTACTS, timeout=5).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get(sandbox.url + CONTACTS, timeout=5)
        assert limited.json()["errorType"] == "RATE_LIMIT"
        assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert "Retry-After" not in limited.headers
        sandbox.advance_clock(10)
        fine = client.get(sandbox.url + CONTACTS, timeout=5)
        assert fine.status_code == 200 and fine.headers["X-HubSpot-RateLimit-Max"] == "3"
        sandbox.advance_clock(10)
        sandbox.throttle_next(2, retry_after=1)
        throttled = [client.get(sandbox.url + CONTACTS, timeout=5) for _ in range(3)]
        assert [r.status_code for r in throttled] == [429, 429, 200]
        assert throttled[0].headers["Retry-After"] == "1"
        sandbox.fail_next(502, {"status": "error", "message": "Bad gateway"}, path=SEARCH)
        assert client.post(sandbox.url + SEARCH, json={}, timeout=5).status_code == 502
        assert client.post(sandbox.url + SEARCH, json={}, timeout=5).status_code == 200


# -- python -m tools.sandboxes ---------------------------------------------------------


def test_the_sandboxes_run_as_a_process_with_fixed_credentials():
    process = subprocess.Popen([sys.executable, "-m", "tools.sandboxes", "--json"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        described = json.loads(process.stdout.readline())
        assert described["HUBSPOT_PRIVATE_APP_TOKEN"] == credentials.HUBSPOT_PRIVATE_APP_TOKEN
        contacts = _session(described["HUBSPOT_PRIVATE_APP_TOKEN"]).get(
            described["HUBSPOT_URL"] + CONTACTS, params={"limit": 100}, timeout=5)
        assert contacts.status_code == 200 and len(contacts.json()["results"]) == 100
        token = requests.post(described["SALESFORCE_TOKEN_URL"], timeout=5, data={
            "grant_type": "refresh_token", "refresh_token": described["SALESFORCE_REFRESH_TOKEN"],
            "client_id": described["SALESFORCE_CLIENT_ID"],
            "client_secret": described["SALESFORCE_CLIENT_SECRET"]}).json()
        leads = _session(token["access_token"]).get(
            token["instance_url"] + "/services/data/v61.0/query",
            params={"q": "SELECT Id FROM Lead"}, timeout=5)
        assert leads.json()["totalSize"] == 150
        hot = _session(described["GOOGLE_ACCESS_TOKEN"]).get(
            f"{described['GOOGLE_SHEETS_URL']}/v4/spreadsheets/"
            f"{described['GOOGLE_SAMPLE_SPREADSHEET_ID']}/values/"
            + quote("'Q1 ''Hot'' Leads'", safe=""), timeout=5)
        assert hot.status_code == 200 and hot.json()["values"][0][0] == "Name"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0

"""The loopback sandboxes (tools/sandboxes) over real HTTP: shapes, paging, errors, knobs.

Each test starts its own sandbox on a free port; `requests` talks to it as a
client would talk to the provider.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from tools.sandboxes.hubspot import HubSpotSandbox
from tools.sandboxes.salesforce import SalesforceSandbox

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


# -- Salesforce ------------------------------------------------------------------------

QUERY = "/services/data/v61.0/query"
QUERY_ALL = "/services/data/v61.0/queryAll"
COLLECTION = "/services/data/v61.0/composite/sobjects"


@pytest.fixture
def salesforce() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox(static_tokens=["00Dsession"], batch_size=40)
    sandbox.start()
    yield sandbox
    sandbox.stop()
    assert sandbox.errors == []


@pytest.fixture
def sf(salesforce: SalesforceSandbox) -> requests.Session:
    return _session("00Dsession")


def _salesforce_token(sandbox: SalesforceSandbox, **form: str) -> requests.Response:
    return requests.post(sandbox.url + "/services/oauth2/token", timeout=5,
                         data={"client_id": sandbox.client_id,
                               "client_secret": sandbox.client_secret, **form})


def _all_records(client: requests.Session, base: str, path: str, soql: str):
    page = client.get(base + path, params={"q": soql}, timeout=5)
    pages = [page]
    while not page.json()["done"]:
        page = client.get(base + page.json()["nextRecordsUrl"], timeout=5)
        pages.append(page)
    assert all(p.status_code == 200 for p in pages)
    return [r for p in pages for r in p.json()["records"]], pages


def test_salesforce_oauth_code_refresh_and_expired_session():
    with SalesforceSandbox(token_ttl_seconds=600) as sandbox:
        code = sandbox.issue_code(REDIRECT)
        first = _salesforce_token(sandbox, grant_type="authorization_code", code=code,
                                  redirect_uri=REDIRECT)
        assert first.status_code == 200
        body = first.json()
        assert body["instance_url"] == sandbox.url and body["token_type"] == "Bearer"
        assert "expires_in" not in body and body["signature"] and body["issued_at"].isdigit()
        refreshed = _salesforce_token(sandbox, grant_type="refresh_token",
                                      refresh_token=body["refresh_token"])
        assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
        client = _session(refreshed.json()["access_token"])
        assert client.get(sandbox.url + QUERY, params={"q": "SELECT Id FROM Lead"},
                          timeout=5).status_code == 200
        sandbox.advance_clock(601)
        expired = client.get(sandbox.url + QUERY, params={"q": "SELECT Id FROM Lead"}, timeout=5)
        assert expired.status_code == 401
        assert expired.json() == [{"message": "Session expired or invalid",
                                   "errorCode": "INVALID_SESSION_ID"}]
        sandbox.revoke(body["refresh_token"])
        refused = _salesforce_token(sandbox, grant_type="refresh_token",
                                    refresh_token=body["refresh_token"])
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_salesforce_query_pages_with_next_records_url(salesforce, sf):
    salesforce.seed(150)
    soql = ("SELECT Id, FirstName, LastName, Email, Status, SystemModstamp FROM Lead "
            "WHERE SystemModstamp >= 2026-01-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC")
    records, pages = _all_records(sf, salesforce.url, QUERY, soql)
    assert len(pages) == math.ceil(150 / 40) and len(records) == 150
    assert pages[0].json()["totalSize"] == 150
    assert pages[0].json()["nextRecordsUrl"].startswith("/services/data/v61.0/query/01g")
    assert pages[0].json()["nextRecordsUrl"].endswith("-40")
    assert salesforce.count("GET") == len(pages)
    stamps = [(r["SystemModstamp"], r["Id"]) for r in records]
    assert stamps == sorted(stamps) and len(records[0]["Id"]) == 18
    assert records[0]["attributes"] == {"type": "Lead", "url": "/services/data/v61.0/sobjects/"
                                        f"Lead/{records[0]['Id']}"}
    assert "Sforce-Limit-Info" in pages[0].headers
    # Incremental: only what changed since a moment comes back.
    since = salesforce.now()
    changed = [records[5]["Id"], records[99]["Id"]]
    for record_id in changed:
        salesforce.update(record_id, Status="Working - Contacted")
    moment = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    recent, _ = _all_records(sf, salesforce.url, QUERY, "SELECT Id, Status FROM Lead WHERE "
                             f"SystemModstamp >= {moment} ORDER BY SystemModstamp ASC")
    assert [r["Id"] for r in recent] == changed
    limited, _ = _all_records(sf, salesforce.url, QUERY, "SELECT Id FROM Lead LIMIT 3")
    assert len(limited) == 3


def test_salesforce_query_all_sees_deletions(salesforce, sf):
    ids = salesforce.seed(10)
    salesforce.delete(ids[2])
    salesforce.delete(ids[7])
    soql = "SELECT Id, IsDeleted FROM Lead ORDER BY SystemModstamp ASC, Id ASC"
    live, _ = _all_records(sf, salesforce.url, QUERY, soql)
    assert {r["Id"] for r in live} == set(ids) - {ids[2], ids[7]}
    everything, _ = _all_records(sf, salesforce.url, QUERY_ALL, soql)
    assert len(everything) == 10
    assert [r["Id"] for r in everything if r["IsDeleted"]] == [ids[2], ids[7]]


def test_salesforce_contacts_carry_their_account_name(salesforce, sf):
    with_account = salesforce.add_contact(LastName="Lovelace", account_name="Analytical Engines")
    alone = salesforce.add_contact(LastName="Hopper")
    records, _ = _all_records(sf, salesforce.url, QUERY,
                              "select id, lastname, account.name from contact order by id")
    assert [r["Id"] for r in records] == [with_account, alone]
    assert records[0]["Account"]["Name"] == "Analytical Engines"
    assert records[0]["LastName"] == "Lovelace" and records[1]["Account"] is None


@pytest.mark.parametrize(("soql", "code"), [
    ("SELECT Id FROM Lead WHERE Email = 'a' OR Email = 'b'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:7", "MALFORMED_QUERY"),
    ("SELECT Id, FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Nope FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE SystemModstamp > '2026-01-01'", "INVALID_FIELD"),
    ("SELECT Id FROM Opportunity", "INVALID_TYPE"),
])
def test_salesforce_refuses_soql_it_does_not_speak(salesforce, sf, soql, code):
    answer = sf.get(salesforce.url + QUERY, params={"q": soql}, timeout=5)
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == code


def test_salesforce_updates_and_per_record_errors(salesforce, sf):
    ids = salesforce.seed(4)
    before = salesforce.records[ids[0]].fields["SystemModstamp"]
    single = sf.patch(f"{salesforce.url}/services/data/v61.0/sobjects/Lead/{ids[0]}", timeout=5,
                      json={"Status": "Working - Contacted"})
    assert single.status_code == 204 and not single.content
    assert salesforce.records[ids[0]].fields["SystemModstamp"] > before
    records = [{"attributes": {"type": "Lead"}, "id": ids[1], "Status": "Hot"},
               {"attributes": {"type": "Lead"}, "id": ids[2], "Status": "Closed - Converted"},
               {"attributes": {"type": "Lead"}, "id": "00Qbad", "Status": "Closed - Converted"}]
    answer = sf.patch(salesforce.url + COLLECTION, json={"allOrNone": False, "records": records},
                      timeout=5)
    assert answer.status_code == 200
    bad, good, malformed = answer.json()
    assert bad["success"] is False and bad["id"] == ids[1]
    assert bad["errors"] == [{"statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              "message": "Status: bad value for restricted picklist field: Hot",
                              "fields": ["Status"]}]
    assert good == {"id": ids[2], "success": True, "errors": []}
    assert malformed["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert salesforce.records[ids[2]].fields["Status"] == "Closed - Converted"
    records[1]["Status"] = "Working - Contacted"
    rolled = sf.patch(salesforce.url + COLLECTION, json={"allOrNone": True, "records": records},
                      timeout=5).json()
    assert rolled[1]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert salesforce.records[ids[2]].fields["Status"] == "Closed - Converted"
    refused = sf.patch(f"{salesforce.url}/services/data/v61.0/sobjects/Lead/{ids[3]}",
                       json={"Status": "Hot"}, timeout=5)
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_salesforce_request_limit_and_usage_header(salesforce, sf):
    first = sf.get(salesforce.url + QUERY, params={"q": "SELECT Id FROM Lead"}, timeout=5)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/5000"
    salesforce.exceed_request_limit()
    refused = sf.get(salesforce.url + QUERY, params={"q": "SELECT Id FROM Lead"}, timeout=5)
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert refused.headers["Sforce-Limit-Info"] == "api-usage=5001/5000"

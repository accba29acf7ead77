"""The Salesforce sandbox (tools/sandboxes/salesforce.py) over real HTTP.

OAuth without expires_in, SOQL query pages and nextRecordsUrl, queryAll and
deletions, updates and their per-record SaveResults, and Salesforce's errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from tools.sandboxes.salesforce import SalesforceSandbox

QUERY = "/services/data/v61.0/query"
QUERY_ALL = "/services/data/v61.0/queryAll"
COLLECTION = "/services/data/v61.0/composite/sobjects"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


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

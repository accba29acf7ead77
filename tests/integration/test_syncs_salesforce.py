"""A Salesforce sync against the loopback Salesforce REST API (tools/sandboxes/salesforce.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import Api
from tests.integration.test_syncs import all_leads, run
from tools.sandboxes.salesforce import SalesforceSandbox

TOKEN = "00Dleadpipe!sandbox.session.token"


@pytest.fixture
def salesforce() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox(static_tokens=[TOKEN], batch_size=25)
    sandbox.start()
    yield sandbox
    sandbox.stop()


def test_leads_sync_pages_and_later_tags_a_deleted_lead(api: Api, pump, salesforce):
    ids = salesforce.seed(60, "Lead")
    connection = api.post("/connections", {"provider": "salesforce", "access_token": TOKEN,
                                           "instance_url": salesforce.url})
    assert connection.status_code == 201, connection.json_body
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connection.json_body["id"],
                                            "object": "leads"}).json_body
    assert sync["mapping"]["Company"] == "company"
    first = run(api, pump, sync["id"])
    assert first["status"] == "completed", first["error"]
    records = {i: salesforce.records[i].fields for i in ids}
    emails = {r["Email"] for r in records.values() if r.get("Email")}
    leads = all_leads(api, lid)
    assert set(leads) == emails
    # Pages of 25 followed through nextRecordsUrl: 60 records, 3 query requests
    assert sum(1 for r in salesforce.requests if "/query" in r.path) == 3
    sample = next(r for r in records.values() if r.get("Email") and r.get("Company"))
    assert leads[sample["Email"]]["company"] == sample["Company"]
    assert leads[sample["Email"]]["custom_fields"]["salesforce_id"] == sample["Id"]
    # One lead moves to a new company, another is deleted in Salesforce
    moved, deleted = [i for i in ids if records[i].get("Email")][:2]
    salesforce.update(moved, Company="Moved Corp")
    salesforce.delete(deleted)
    second = run(api, pump, sync["id"])
    assert second["status"] == "completed", second["error"]
    assert second["total_rows"] == 2
    leads = all_leads(api, lid)
    assert leads[records[moved]["Email"]]["company"] == "Moved Corp"
    assert "deleted-in-salesforce" in leads[records[deleted]["Email"]]["tags"]
    assert len(leads) == len(emails)  # nothing deleted, nothing added

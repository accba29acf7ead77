"""Statuses flow back to the CRM (HubSpot and Salesforce sandboxes) in batches."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api
from tests.integration.test_syncs import all_leads, connect, run
from tests.integration.test_syncs_salesforce import TOKEN, salesforce  # noqa: F401


def synced_list(api: Api, pump, hubspot, **sync_fields) -> tuple[str, dict, dict]:
    hubspot.seed(12)
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api),
                                            **sync_fields}).json_body
    assert run(api, pump, sync["id"])["status"] == "completed"
    return lid, sync, all_leads(api, lid)


def hs_status(hubspot, lead: dict) -> str | None:
    return hubspot.contacts[lead["custom_fields"]["hubspot_id"]].values().get("hs_lead_status")


def test_a_status_set_in_leadpipe_reaches_hubspot(api: Api, pump, hubspot):
    lid, sync, leads = synced_list(api, pump, hubspot, write_back_status=True)
    lead = next(iter(leads.values()))
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}",
                     {"status": "contacted"}).status_code == 200
    pump.drain()
    assert hs_status(hubspot, lead) == "ATTEMPTED_TO_CONTACT"
    shown = api.get(f"/syncs/{sync['id']}").json_body
    assert shown["write_back"]["written"] == 1 and shown["write_back"]["rejected"] == []
    assert shown["status_mapping"]["qualified"] == "OPEN_DEAL"


def test_a_bulk_action_is_one_batch_call(api: Api, pump, hubspot):
    lid, _, leads = synced_list(api, pump, hubspot, write_back_status=True)
    ids = [lead["id"] for lead in leads.values()][:5]
    before = {lead["id"]: hs_status(hubspot, lead) for lead in leads.values()}
    hubspot.clear_log()
    done = api.post(f"/lists/{lid}/leads/bulk", {"action": "set_status", "status": "qualified",
                                                 "lead_ids": ids})
    assert done.status_code == 200
    pump.drain()
    assert hubspot.count("POST", "/crm/v3/objects/contacts/batch/update") == 1
    assert hubspot.count("PATCH") == 0
    for lead in leads.values():
        expected = "OPEN_DEAL" if lead["id"] in ids else before[lead["id"]]
        assert hs_status(hubspot, lead) == expected


def test_a_value_the_crm_refuses_is_reported_per_lead(api: Api, pump, hubspot):
    lid, sync, leads = synced_list(api, pump, hubspot, write_back_status=True)
    patched = api.patch(f"/syncs/{sync['id']}", {"status_mapping": {"replied": "BOGUS"}})
    assert patched.status_code == 200
    first, second = list(leads.values())[:2]
    api.patch(f"/lists/{lid}/leads/{first['id']}", {"status": "replied"})
    api.patch(f"/lists/{lid}/leads/{second['id']}", {"status": "not_interested"})
    pump.drain()
    assert hs_status(hubspot, second) == "UNQUALIFIED"
    state = api.get(f"/syncs/{sync['id']}").json_body["write_back"]
    assert state["written"] == 1 and state["rejected_total"] == 1
    (rejected,) = state["rejected"]
    assert rejected["lead_id"] == first["id"] and rejected["status"] == "replied"
    assert rejected["code"]


def test_nothing_is_written_without_write_back(api: Api, pump, hubspot):
    lid, _, leads = synced_list(api, pump, hubspot)
    lead = next(iter(leads.values()))
    before = hs_status(hubspot, lead)
    hubspot.clear_log()
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": "qualified"})
    pump.drain()
    assert hubspot.count("POST", "/crm/v3/objects/contacts/batch/update") == 0
    assert hs_status(hubspot, lead) == before


def test_salesforce_statuses_use_its_picklist(api: Api, pump, salesforce):  # noqa: F811
    salesforce.seed(6, "Lead")
    connection = api.post("/connections", {"provider": "salesforce", "access_token": TOKEN,
                                           "instance_url": salesforce.url}).json_body
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connection["id"],
                                            "object": "leads",
                                            "write_back_status": True}).json_body
    assert run(api, pump, sync["id"])["status"] == "completed"
    lead = next(iter(all_leads(api, lid).values()))
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": "callback"})
    pump.drain()
    record = salesforce.records[lead["custom_fields"]["salesforce_id"]].fields
    assert record["Status"] == "Working - Contacted"


@pytest.mark.parametrize("status", ["completed"])
def test_unmapped_statuses_are_not_written(api: Api, pump, hubspot, status):
    lid, _, leads = synced_list(api, pump, hubspot, write_back_status=True)
    lead = next(iter(leads.values()))
    hubspot.clear_log()
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": status})
    pump.drain()
    assert hubspot.count("POST", "/crm/v3/objects/contacts/batch/update") == 0

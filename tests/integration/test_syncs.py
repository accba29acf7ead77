"""Syncs against a loopback HubSpot (tools/sandboxes/hubspot.py): runs are imports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.connections import Provider
from tests.integration.conftest import Api
from tests.integration.test_imports import wait_status
from tools.sandboxes.common import RollingWindow
from tools.sandboxes.credentials import (
    HUBSPOT_PRIVATE_APP_TOKEN,
)


def connect(api: Api) -> str:
    created = api.post("/connections", {"provider": "hubspot",
                                        "access_token": HUBSPOT_PRIVATE_APP_TOKEN})
    assert created.status_code == 201, created.json_body
    return str(created.json_body["id"])


def all_leads(api: Api, lid: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        page = api.get(f"/lists/{lid}/leads?limit=200{cursor}").json_body
        found.update({lead["email"]: lead for lead in page["items"]})
        if not page["next_cursor"]:
            return found
        cursor = f"&cursor={page['next_cursor']}"


def run(api: Api, pump, sync_id: str) -> dict[str, Any]:
    started = api.post(f"/syncs/{sync_id}/run")
    assert started.status_code == 202, started.json_body
    return wait_status(api, pump, started.json_body["import_id"], "completed",
                       "completed_with_errors", "failed")


def test_a_first_run_imports_every_contact_then_only_changes(api: Api, pump, hubspot):
    ids = hubspot.seed(40)
    gone = hubspot.add_contact(email="gone@example.com", firstname="Gone")
    hubspot.archive(gone)  # deleted before the first run: not imported
    lid = api.new_list()["id"]
    created = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api)})
    assert created.status_code == 201, created.json_body
    sync = created.json_body
    assert sync["mode"] == "overwrite" and sync["schedule"] is None
    assert sync["mapping"]["email"] == "email" and sync["mapping"]["crm_id"] == \
        "custom:hubspot_id"
    first = run(api, pump, sync["id"])
    assert first["status"] == "completed", first["error"]
    assert first["source"] == {"type": "hubspot", "sync_id": sync["id"]}
    contacts = [hubspot.contacts[i].values() for i in ids]
    emails = {c["email"] for c in contacts if c.get("email")}
    leads = all_leads(api, lid)
    assert set(leads) == emails
    some = next(c for c in contacts if c.get("email") and c.get("company") and c.get("city"))
    lead = leads[some["email"]]
    assert lead["company"] == some["company"]
    assert lead["custom_fields"]["hubspot_id"] == some["hs_object_id"]
    assert lead["location"].startswith(some["city"])
    shown = api.get(f"/syncs/{sync['id']}").json_body
    assert shown["bookmark"] is not None and shown["last_run"]["status"] == "completed"
    assert shown["running_import_id"] is None
    # Three contacts change in HubSpot; the next run reads those three only
    changed = [i for i in ids if hubspot.contacts[i].values().get("email")][:3]
    for contact_id in changed:
        hubspot.update_contact(contact_id, company="Renamed Inc")
    hubspot.clear_log()
    second = run(api, pump, sync["id"])
    assert second["status"] == "completed", second["error"]
    assert second["total_rows"] == 3
    assert second["counts"]["updated"] == 3
    leads = all_leads(api, lid)
    for contact_id in changed:
        assert leads[hubspot.contacts[contact_id].values()["email"]]["company"] == "Renamed Inc"
    searches = hubspot.count("POST", "/crm/v3/objects/contacts/search")
    assert searches == 1
    runs = api.get(f"/syncs/{sync['id']}/runs").json_body["items"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]]


def test_one_run_at_a_time(api: Api, pump, hubspot):
    hubspot.seed(5)
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api)}).json_body
    assert api.post(f"/syncs/{sync['id']}/run").status_code == 202
    again = api.post(f"/syncs/{sync['id']}/run")
    assert again.status_code == 409 and again.json_body["error"]["code"] == "sync_running"
    pump.drain()
    assert api.get(f"/syncs/{sync['id']}").json_body["running_import_id"] is None
    assert api.post(f"/syncs/{sync['id']}/run").status_code == 202


def test_the_dispatcher_starts_due_syncs_on_their_schedule(api: Api, pump, hubspot,
                                                           monkeypatch):
    from chalicelib.bootstrap import services
    from chalicelib.entrypoints.schedule_handlers import run_sync_dispatcher

    hubspot.seed(5)
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api),
                                            "schedule": "rate(15 minutes)"}).json_body
    due = datetime.fromisoformat(sync["next_run_at"].replace("Z", "+00:00"))
    service = services().syncs
    monkeypatch.setattr(service, "_clock", lambda: due - timedelta(seconds=30))
    assert run_sync_dispatcher()["started"] == []
    monkeypatch.setattr(service, "_clock", lambda: due + timedelta(seconds=5))
    assert run_sync_dispatcher()["started"] == [sync["id"]]
    shown = api.get(f"/syncs/{sync['id']}").json_body
    assert shown["next_run_at"] > sync["next_run_at"]
    pump.drain()
    shown = api.get(f"/syncs/{sync['id']}").json_body
    assert shown["last_run"]["status"] == "completed"
    assert len(all_leads(api, lid)) == len([c for c in hubspot.contacts.values()
                                            if c.values().get("email")])


def test_requests_are_checked_and_workspaces_isolated(api: Api, other_api: Api, hubspot):
    lid = api.new_list()["id"]
    connection = connect(api)
    for payload, code in (
            ({"connection_id": connection, "object": "deals"}, "unknown_object"),
            ({"connection_id": connection, "schedule": "rate(0 minutes)"}, "invalid_schedule"),
            ({"connection_id": connection, "schedule": "every day"}, "invalid_schedule"),
            ({"connection_id": connection, "schedule": "rate(99999999999999 days)"},
             "invalid_schedule"),
            ({"connection_id": connection, "object": {}}, "unknown_object"),
            ({"connection_id": connection, "mapping": {"email": "nope"}},
             "unknown_target_field"),
            ({"connection_id": connection, "color": "red"}, "unknown_field")):
        response = api.post(f"/lists/{lid}/syncs", payload)
        assert response.status_code == 400, payload
        codes = [e["code"] for e in response.json_body["error"]["details"]["errors"]]
        assert code in codes, (payload, codes)
    assert api.post(f"/lists/{lid}/syncs", {"connection_id": "cn_nope"}).status_code == 404
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connection}).json_body
    for call in (lambda a: a.get(f"/syncs/{sync['id']}"),
                 lambda a: a.patch(f"/syncs/{sync['id']}", {"schedule": None}),
                 lambda a: a.post(f"/syncs/{sync['id']}/run"),
                 lambda a: a.delete(f"/syncs/{sync['id']}")):
        assert call(other_api).status_code == 404
    patched = api.patch(f"/syncs/{sync['id']}", {"schedule": "rate(1 hour)",
                                                 "mapping": {"jobtitle": None}})
    assert patched.status_code == 200, patched.json_body
    assert patched.json_body["next_run_at"] is not None
    assert patched.json_body["mapping"]["jobtitle"] is None
    assert api.delete(f"/syncs/{sync['id']}").status_code == 204
    assert api.get(f"/syncs/{sync['id']}").status_code == 404


def test_a_connection_that_must_be_reauthorized_fails_the_run_and_says_so(
        api: Api, pump, hubspot):
    hubspot.seed(3)
    refresh = hubspot.issue_refresh_token()
    connection = api.post("/connections", {"provider": "hubspot",
                                           "refresh_token": refresh}).json_body
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connection["id"]}).json_body
    # The user disconnects leadpipe in HubSpot: tokens stop working
    hubspot.revoke(refresh)
    failed = run(api, pump, sync["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "reauthorize"
    shown = api.get(f"/syncs/{sync['id']}").json_body
    assert shown["last_run"]["status"] == "failed"
    assert shown["error"]["code"] == "reauthorize" and shown["bookmark"] is None
    assert api.get(f"/connections/{connection['id']}").json_body["status"] == "reauthorize"
    again = api.post(f"/syncs/{sync['id']}/run")
    assert again.status_code == 400 and again.json_body["error"]["code"] == "reauthorize"


class WorkerKilled(BaseException):
    """What the runtime does to a worker out of time or memory: nothing catches it."""


def test_a_split_that_dies_part_way_resumes_at_the_page_it_had_reached(
        api: Api, pump, hubspot, monkeypatch):
    from chalicelib.bootstrap import services
    from chalicelib.entrypoints import import_handlers as handlers
    from tests.integration.test_import_watchdog import take

    hubspot.seed(250)  # three pages of 100
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api)}).json_body
    run_id = api.post(f"/syncs/{sync['id']}/run").json_body["import_id"]
    split = take("splits")
    # HubSpot throttles the second page; the worker dies while it waits
    hubspot.burst = RollingWindow(1, 10.0)
    reader = services().import_splitter._source._others["hubspot"]._readers[Provider.HUBSPOT]

    def killed(seconds: float) -> None:
        raise WorkerKilled

    monkeypatch.setattr(reader, "_sleep", killed)
    with pytest.raises(WorkerKilled):
        handlers.on_split_records(split)
    assert hubspot.count("GET", "/crm/v3/objects/contacts") == 2  # page 1, then the 429
    # SQS delivers the split again; HubSpot has calmed down
    hubspot.burst = None
    monkeypatch.setattr(reader, "_sleep", lambda seconds: None)
    assert handlers.on_split_records(split) == {"batchItemFailures": []}
    # Page 1 was not read again: the run went on from page 2
    assert hubspot.count("GET", "/crm/v3/objects/contacts") == 2 + 3  # pages 2, 3, archived
    pump.drain()
    done = api.get(f"/imports/{run_id}").json_body
    assert done["status"] == "completed", done["error"]
    emails = {c.values().get("email") for c in hubspot.contacts.values()} - {None, ""}
    assert set(all_leads(api, lid)) == emails
    assert done["total_rows"] == 250


def test_a_contact_whose_email_changed_in_the_crm_stays_one_lead(api: Api, pump, hubspot):
    ids = hubspot.seed(10)
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api)}).json_body
    assert run(api, pump, sync["id"])["status"] == "completed"
    before = all_leads(api, lid)
    contact_id = next(i for i in ids if hubspot.contacts[i].values().get("email"))
    old_email = hubspot.contacts[contact_id].values()["email"]
    lead_id = before[old_email]["id"]
    # The contact's email (the list's identity) changes in HubSpot
    hubspot.update_contact(contact_id, email="new.address@example.org", company="NewCo")
    second = run(api, pump, sync["id"])
    assert second["status"] == "completed", second["error"]
    after = all_leads(api, lid)
    assert len(after) == len(before)  # not a second lead for the same person
    assert old_email not in after
    moved = after["new.address@example.org"]
    assert moved["id"] == lead_id and moved["company"] == "NewCo"
    assert moved["email_status"] in ("pending", "valid", "risky", "invalid", "unknown")
    timeline = api.get(f"/lists/{lid}/leads/{lead_id}/activity").json_body["items"]
    assert "identity_changed_in_crm" in [a["type"] for a in timeline]

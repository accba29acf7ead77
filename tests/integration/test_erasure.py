"""POST /erasures through the API on moto: no trace of the person is left (docs/suppression.md)."""

from __future__ import annotations

import boto3

from chalicelib.config import get_settings
from tests.integration.conftest import Api
from tests.integration.test_import_modes import run_import
from tests.integration.test_webhooks import receiver  # noqa: F401 (a fixture)


def _items_mentioning(text: str) -> list[dict]:
    """Every table item whose attributes hold `text` (a test-only scan)."""
    client = boto3.client("dynamodb", region_name=get_settings().region)
    found = []
    for page in client.get_paginator("scan").paginate(TableName=get_settings().table_name):
        found.extend(i for i in page["Items"] if text in str(i).lower())
    return found


def test_an_erasure_leaves_no_trace_of_the_person(api: Api, other_api: Api, pump) -> None:
    # GIVEN a person in two lists, with a timeline, a follow-up, events and an error report
    first, second = api.new_list(name="API"), api.new_list(name="Imported")
    lead = api.post(f"/lists/{first['id']}/leads", {
        "email": "erase.me@example.com", "first_name": "Erin"}).json_body
    base = f"/lists/{first['id']}/leads/{lead['id']}"
    assert api.post(f"{base}/notes", {"text": "called Erin"}).status_code == 201
    assert api.post(f"{base}/follow-ups", {"due_at": "2030-06-01T09:00:00Z"}).status_code == 201
    api.post("/events", {"events": [{"id": "er-1", "type": "email_sent", "lead": {
        "id": lead["id"]}, "occurred_at": "2026-11-20T09:00:00Z"}]})
    done = run_import(api, pump, second["id"],
                      "email,first_name\nerase.me@example.com,Erin\n"
                      "ERASE.ME@example.com,Erin again\nkeep@example.com,Kim\n", None)
    assert done["counts"]["duplicates"] == 1
    keeper = other_api.new_list()  # another workspace's copy of the person stays
    assert other_api.post(f"/lists/{keeper['id']}/leads",
                          {"email": "erase.me@example.com"}).status_code == 201
    # WHEN the person is erased
    started = api.post("/erasures", {"email": "Erase.Me@example.com"})
    assert started.status_code == 202, started.json_body
    assert started.json_body["status"] == "running"
    pump.drain()
    # THEN the erasure is complete, counted, and its record holds no personal data
    record = api.get(f"/erasures/{started.json_body['id']}").json_body
    assert record["status"] == "completed"
    assert record["leads_deleted"] == 2 and record["lists_touched"] == 2
    assert record["report_rows_removed"] == 1
    assert "erase" not in str(record).lower() and record["requested_by"].startswith("tok_")
    assert other_api.get(f"/erasures/{started.json_body['id']}").status_code == 404
    # no lead, no index entry, no report row, nothing in the table but the other workspace's
    assert api.get("/people?email=erase.me@example.com").json_body["items"] == []
    report = api.get(f"/imports/{done['id']}/errors").body.decode().lower()
    assert "erase.me" not in report
    for lid in (first["id"], second["id"]):
        emails = [x["email"] for x in api.get(f"/lists/{lid}/leads").json_body["items"]]
        assert "erase.me@example.com" not in emails
    assert api.get("/activity").json_body["items"] == [] or all(
        e["lead_id"] != lead["id"] for e in api.get("/activity").json_body["items"])
    leftovers = [i for i in _items_mentioning("erase.me")
                 if keeper["id"] not in i["pk"]["S"]]
    assert leftovers == []
    # only the events' idempotency markers name the lead id (no personal data, a year)
    lead_items = [i["pk"]["S"].split("#")[0] for i in _items_mentioning(lead["id"].lower())]
    assert set(lead_items) <= {"EVENT"}
    # the person stays suppressed, as a hash alone
    entries = api.get("/suppressions").json_body["items"]
    assert [(e["reason"], e["value"]) for e in entries] == [("erased", None)]
    again = run_import(api, pump, second["id"], "email\nerase.me@example.com\n", None)
    assert again["counts"]["invalid"] == 1 and again["counts"]["saved"] == 0
    assert other_api.get("/people?email=erase.me@example.com").json_body["items"] != []


def test_erasure_bad_input(api: Api) -> None:
    assert api.post("/erasures", {}).status_code == 400
    assert api.post("/erasures", {"domain": "example.com"}).status_code == 400
    assert api.post("/erasures", {"email": "nope"}).status_code == 400
    assert api.get("/erasures/er_nothing").status_code == 404


def test_erasure_and_spread_are_announced(api: Api, pump, receiver) -> None:  # noqa: F811
    from tests.integration.test_webhooks import _hook, _received_types

    _hook(api, receiver.url, ["lead.deleted", "lead.status_changed"])
    one, two = api.new_list(), api.new_list()
    a = api.post(f"/lists/{one['id']}/leads", {"email": "wh@example.com"}).json_body
    b = api.post(f"/lists/{two['id']}/leads", {"email": "wh@example.com"}).json_body
    # an unsubscription in one list moves the other lead too, each announced
    api.post("/events", {"events": [{"id": "wh-unsub", "type": "unsubscribed", "lead": {
        "id": a["id"]}, "occurred_at": "2026-11-20T09:00:00Z"}]})
    pump.drain()
    moved = {d["lead_id"]: d["status"] for t, d in _received_types(receiver)
             if t == "lead.status_changed"}
    assert moved == {a["id"]: "unsubscribed", b["id"]: "unsubscribed"}
    # the erasure deletes both, each announced
    api.post("/erasures", {"email": "wh@example.com"})
    pump.drain()
    deleted = {d["lead_id"] for t, d in _received_types(receiver) if t == "lead.deleted"}
    assert deleted == {a["id"], b["id"]}


def test_an_erasure_out_of_time_goes_on_where_it_stopped(api: Api, pump) -> None:
    import time

    from chalicelib.bootstrap import services
    from chalicelib.domain.job_messages import ErasePersonJob
    from chalicelib.domain.people import parse_person
    from tests.integration.test_webhooks import _workspace

    # GIVEN two lists whose error reports hold the person
    lists = [api.new_list()["id"] for _ in range(2)]
    for lid in lists:
        run_import(api, pump, lid, "email\nlate@example.com\nLATE@example.com\n", None)
    started = api.post("/erasures", {"email": "late@example.com"}).json_body
    person = parse_person({"email": "late@example.com"}).hashed()
    job = ErasePersonJob(_workspace(api), started["id"], person.kind, person.hash)
    # WHEN the job runs (by hand, before the queued one) with no time left: one list
    # done, the rest sent on
    services().erasures.run(job, deadline=time.monotonic() - 1)
    partial = api.get(f"/erasures/{started['id']}").json_body
    assert partial["status"] == "running" and partial["report_rows_removed"] == 1
    assert partial["leads_deleted"] == 2
    # THEN the continuation (and the first message, redelivered) finish it
    pump.drain()
    record = api.get(f"/erasures/{started['id']}").json_body
    assert record["status"] == "completed"
    assert record["report_rows_removed"] == 2 and record["leads_deleted"] == 2

"""Suppression and people across lists, through the API on moto (docs/suppression.md)."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from tests.integration.conftest import Api
from tests.integration.test_import_modes import run_import

_ids = itertools.count()


def _lead(api: Api, list_id: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/lists/{list_id}/leads", fields)
    assert response.status_code == 201, response.json_body
    return response.json_body  # type: ignore[no-any-return]


def _event(kind: str, lead: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"sup-ev-{next(_ids)}", "type": kind,
            "occurred_at": "2026-11-20T09:00:00+00:00", "lead": lead}


def test_an_unsubscribed_event_blocks_the_person_everywhere(api: Api, pump: Any) -> None:
    # GIVEN a person in two lists, and another list to import into
    first, second, third = api.new_list(), api.new_list(), api.new_list()
    ada = _lead(api, first["id"], email="ada@example.com", phone="+1 415 555 0134")
    ada2 = _lead(api, second["id"], email="Ada@Example.com")
    # WHEN an engine says she unsubscribed in the first list
    sent = api.post("/events", {"events": [_event("unsubscribed", {"id": ada["id"]})]})
    assert sent.json_body["results"][0]["result"] == "accepted"
    # THEN she is suppressed, and her lead in the other list took the status
    other = api.get(f"/lists/{second['id']}/leads/{ada2['id']}").json_body
    assert other["status"] == "unsubscribed"
    entries = api.get("/suppressions").json_body["items"]
    assert {(e["kind"], e["reason"]) for e in entries} == {
        ("email", "unsubscribed"), ("phone", "unsubscribed")}
    assert all("ada@example.com" not in str(e) for e in entries)
    # the API refuses her in any list
    refused = api.post(f"/lists/{third['id']}/leads", {"email": "ada@example.com"})
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "suppressed"
    # a batch says so for her lead only
    batch = api.post(f"/lists/{third['id']}/leads/batch", {"leads": [
        {"email": "ada@example.com"}, {"email": "grace@example.com"}]}).json_body
    assert [r["status"] for r in batch["results"]] == ["suppressed", "created"]
    # a file import rejects her row with code `suppressed`, counted invalid
    done = run_import(api, pump, third["id"],
                      "email,first_name\nADA@example.com,Ada\nlinus@example.com,Linus\n", None)
    assert done["counts"]["saved"] == 1 and done["counts"]["invalid"] == 1
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{done['id']}/errors").body.decode())))
    assert [r["codes"] for r in report] == ["suppressed"]


def test_bounced_event_and_domain_suppression(api: Api) -> None:
    lst, other = api.new_list(), api.new_list()
    grace = _lead(api, lst["id"], email="grace@navy.mil")
    twin = _lead(api, other["id"], email="grace@navy.mil")
    api.post("/events", {"events": [_event("bounced", {"id": grace["id"]})]})
    moved = api.get(f"/lists/{other['id']}/leads/{twin['id']}").json_body
    assert moved["status"] == "bounced" and moved["email_status"] == "invalid"
    # domain suppression matches any address there
    made = api.post("/suppressions", {"domain": "Acme.io", "reason": "competitor"})
    assert made.status_code == 201 and made.json_body["value"] == "acme.io"
    refused = api.post(f"/lists/{lst['id']}/leads", {"email": "bob@ACME.io"})
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "suppressed"
    assert api.post(f"/lists/{lst['id']}/leads", {"email": "bob@acme.iox"}).status_code == 201


def test_post_is_idempotent_and_delete_lifts(api: Api, other_api: Api) -> None:
    first = api.post("/suppressions", {"email": " Linus@Example.com"})
    assert first.status_code == 201
    again = api.post("/suppressions", {"email": "linus@example.com", "reason": "other"})
    assert again.status_code == 200 and again.json_body == first.json_body
    assert first.json_body["value"] == "l***@example.com"
    assert api.post("/suppressions", {"email": "x@y.z", "phone": "+14155550134"}
                    ).status_code == 400
    # another workspace: its own list, and 404 on our ids
    assert other_api.get("/suppressions").json_body["items"] == []
    sid = first.json_body["id"]
    assert other_api.delete(f"/suppressions/{sid}").status_code == 404
    lst = other_api.new_list()
    assert other_api.post(f"/lists/{lst['id']}/leads",
                          {"email": "linus@example.com"}).status_code == 201
    # newest first, then lifted
    api.post("/suppressions", {"phone": "+1 415 555 0199"})
    listed = api.get("/suppressions").json_body["items"]
    assert [e["kind"] for e in listed] == ["phone", "email"]
    page = api.get("/suppressions?limit=1").json_body
    assert [e["kind"] for e in page["items"]] == ["phone"] and page["next_cursor"]
    rest = api.get(f"/suppressions?limit=1&cursor={page['next_cursor']}").json_body
    assert [e["kind"] for e in rest["items"]] == ["email"]
    assert api.get("/suppressions?cursor=bogus").status_code == 400
    assert api.delete(f"/suppressions/{sid}").status_code == 204
    assert api.get(f"/suppressions/{sid}").status_code == 404
    mine = api.new_list()
    assert api.post(f"/lists/{mine['id']}/leads",
                    {"email": "linus@example.com"}).status_code == 201


def _brute_force(api: Api, lists: list[str], email: str) -> set[tuple[str, str]]:
    found = set()
    for lid in lists:
        for lead in api.get(f"/lists/{lid}/leads?limit=100").json_body["items"]:
            if lead["email"] == email:
                found.add((lid, lead["id"]))
    return found


def _indexed(api: Api, email: str) -> set[tuple[str, str]]:
    items = api.get(f"/people?email={email}").json_body["items"]
    return {(i["list_id"], i["lead_id"]) for i in items}


def test_people_index_is_exact_and_copy(api: Api, other_api: Api, pump: Any) -> None:
    a, b = api.new_list(name="A"), api.new_list(name="B")
    c = api.new_list(name="C", identity="phone")
    lists = [a["id"], b["id"], c["id"]]
    emails = ["p1@example.com", "p2@example.com", "p3@example.com"]

    def check() -> None:
        for email in emails:
            assert _indexed(api, email) == _brute_force(api, lists, email), email

    x = _lead(api, a["id"], email="p1@example.com")
    _lead(api, b["id"], email="p1@example.com")
    _lead(api, c["id"], phone="+1 415 555 0101", email="p1@example.com")
    y = _lead(api, b["id"], email="p2@example.com")
    check()
    # an email edit moves the lead from one person to another
    api.patch(f"/lists/{b['id']}/leads/{y['id']}", {"email": "p3@example.com"})
    check()
    api.delete(f"/lists/{a['id']}/leads/{x['id']}")
    check()
    run_import(api, pump, a["id"], "email\np2@example.com\np1@example.com\n", None)
    api.post(f"/lists/{c['id']}/leads/batch", {"leads": [
        {"phone": "+1 415 555 0102", "email": "p3@example.com"}]})
    check()
    found = api.get("/people?email=P3@example.com").json_body["items"]
    assert {i["list_name"] for i in found} == {"B", "C"}
    assert all(i["status"] == "new" for i in found)
    assert other_api.get("/people?email=p3@example.com").json_body["items"] == []
    assert api.get("/people").status_code == 400
    # copy: to another list, duplicate there, suppressed
    target = api.new_list(name="D")
    copied = api.post(f"/lists/{b['id']}/leads/{y['id']}/copy", {"list_id": target["id"]})
    assert copied.status_code == 201 and copied.json_body["email"] == "p3@example.com"
    lists.append(target["id"])
    check()
    again = api.post(f"/lists/{b['id']}/leads/{y['id']}/copy", {"list_id": target["id"]})
    assert again.status_code == 409 and again.json_body["error"]["code"] == "duplicate"
    activity = api.get(f"/lists/{b['id']}/leads/{y['id']}/activity").json_body["items"]
    assert any(e["type"] == "copied_to" for e in activity)
    activity = api.get(f"/lists/{target['id']}/leads/{copied.json_body['id']}/activity"
                       ).json_body["items"]
    assert any(e["type"] == "copied_from" for e in activity)
    api.post("/suppressions", {"email": "p3@example.com"})
    third = api.new_list()
    blocked = api.post(f"/lists/{b['id']}/leads/{y['id']}/copy", {"list_id": third["id"]})
    assert blocked.status_code == 409 and blocked.json_body["error"]["code"] == "suppressed"
    foreign = other_api.new_list()
    assert api.post(f"/lists/{b['id']}/leads/{y['id']}/copy",
                    {"list_id": foreign["id"]}).status_code == 404


def test_a_crm_sync_rejects_a_suppressed_contact(api: Api, pump: Any, hubspot: Any) -> None:
    from tests.integration.test_syncs import all_leads, connect, run

    # GIVEN two HubSpot contacts, one of them suppressed by domain
    hubspot.add_contact(email="kept@example.com", firstname="Kept")
    hubspot.add_contact(email="someone@blocked.example", firstname="Blocked")
    api.post("/suppressions", {"domain": "blocked.example"})
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connect(api)}).json_body
    # WHEN the sync runs
    done = run(api, pump, sync["id"])
    # THEN the suppressed contact's row is rejected `suppressed`, counted invalid
    assert done["counts"]["saved"] == 1 and done["counts"]["invalid"] == 1
    assert set(all_leads(api, lid)) == {"kept@example.com"}
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{done['id']}/errors").body.decode())))
    assert [r["codes"] for r in report] == ["suppressed"]


def test_a_duplicated_list_leaves_suppressed_people_out_and_is_indexed(
        api: Api, pump: Any) -> None:
    lid = api.new_list()["id"]
    for email in ("stay@example.com", "gone@example.com"):
        _lead(api, lid, email=email)
    api.post("/suppressions", {"email": "gone@example.com"})
    copy = api.post(f"/lists/{lid}/duplicate", {"name": "Copy"}).json_body
    pump.drain()
    items = api.get(f"/lists/{copy['id']}/leads").json_body["items"]
    assert [x["email"] for x in items] == ["stay@example.com"]
    assert _indexed(api, "stay@example.com") == _brute_force(
        api, [lid, copy["id"]], "stay@example.com")
    assert len(_indexed(api, "stay@example.com")) == 2


def test_an_edit_may_not_give_a_lead_a_suppressed_value(api: Api) -> None:
    lid = api.new_list()["id"]
    lead = _lead(api, lid, email="free@example.com", first_name="Fay")
    api.post("/suppressions", {"email": "blocked@example.com"})
    refused = api.patch(f"/lists/{lid}/leads/{lead['id']}", {"email": "blocked@example.com"})
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "suppressed"
    # a suppressed lead's other fields stay editable
    api.post("/suppressions", {"email": "free@example.com"})
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}",
                     {"first_name": "Faye"}).status_code == 200

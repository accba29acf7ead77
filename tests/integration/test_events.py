"""POST /events through the API on moto: results, rules, idempotency, bad input."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from chalicelib.config import get_settings
from tests.integration.conftest import Api

_ids = itertools.count()


def _at(minutes: float) -> str:
    """A time `minutes` from a fixed past morning (offset given, as engines send it)."""
    return (datetime(2026, 11, 20, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


def _event(kind: str, lead: dict[str, Any], minutes: float, **extra: Any) -> dict[str, Any]:
    return {"id": f"ev-{next(_ids)}", "type": kind, "occurred_at": _at(minutes), "lead": lead,
            **extra}


def _lead(api: Api, list_id: str, email: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/lists/{list_id}/leads", {"email": email, **fields})
    assert response.status_code == 201, response.json_body
    return response.json_body  # type: ignore[no-any-return]


def _post(api: Api, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post("/events", {"events": events})
    assert response.status_code == 200, response.json_body
    return response.json_body["results"]  # type: ignore[no-any-return]


def _story(lead: dict[str, Any]) -> list[dict[str, Any]]:
    """One lead's outreach: sent, opened, a call, a reply, a late sent of step 3."""
    ref = {"id": lead["id"]}
    camp = {"id": "cmp-1", "name": "Q4 push", "total_steps": 3}
    return [
        _event("email_sent", ref, 0, campaign={**camp, "step": 1}),
        _event("email_opened", ref, 5, campaign={**camp, "step": 1}),
        _event("call", ref, 60, data={"direction": "outbound", "outcome": "no_answer",
                                      "duration_s": 0}),
        _event("replied", ref, 120, campaign={**camp, "step": 2}),
        _event("email_sent", ref, 90, campaign={**camp, "step": 3}),
    ]


def test_events_by_id_and_by_email_move_the_lead(api: Api) -> None:
    # GIVEN a list with two leads
    lid = api.new_list()["id"]
    ada = _lead(api, lid, "ada@example.com")
    bob = _lead(api, lid, "bob@example.com")
    # WHEN an engine sends events naming one by id and one by (list, email) as typed
    results = _post(api, [
        _event("email_sent", {"id": ada["id"]}, 0, campaign={"id": "c1", "name": "Intro",
                                                              "step": 1, "total_steps": 3}),
        _event("replied", {"list_id": lid, "email": "  BOB@Example.com "}, 10),
    ])
    # THEN both are accepted and the leads moved by the rules
    assert [r["result"] for r in results] == ["accepted", "accepted"]
    assert results[1]["lead_id"] == bob["id"] and results[0]["index"] == 0
    got = api.get(f"/lists/{lid}/leads/{ada['id']}").json_body
    assert got["status"] == "contacted"
    assert got["last_activity_at"] == "2026-11-20T09:00:00.000Z"
    assert got["campaigns"]["c1"]["step"] == 1 and got["campaigns"]["c1"]["name"] == "Intro"
    assert got["campaigns"]["c1"]["last_event"] == "email_sent"
    assert api.get(f"/lists/{lid}/leads/{bob['id']}").json_body["status"] == "replied"
    # AND the stats and the status filter moved as a PATCH moves them
    stats = api.get(f"/lists/{lid}/stats").json_body
    assert stats["by_status"]["contacted"] == 1 and stats["by_status"]["replied"] == 1
    assert stats["by_status"]["new"] == 0
    assert stats["campaigns"] == [{"id": "c1", "leads": 1}]
    replied = api.get(f"/lists/{lid}/leads?status=replied").json_body["items"]
    assert [lead["id"] for lead in replied] == [bob["id"]]


def test_the_same_events_in_three_orders_end_the_same(api: Api) -> None:
    lid = api.new_list()["id"]
    leads = [_lead(api, lid, f"order{i}@example.com") for i in range(3)]
    stories = [_story(lead) for lead in leads]
    base = stories[0]
    orders = [base, list(reversed(base)), [base[3], base[0], base[4], base[2], base[1]]]
    for lead, order, story in zip(leads, orders, stories, strict=True):
        # the same events (types, times, campaigns), each lead its own ids, in its order
        renamed = [{**e, "id": f"{e['id']}-{lead['id']}", "lead": {"id": lead["id"]}}
                   for e in order]
        assert story  # each lead has a story of its own shape
        assert {r["result"] for r in _post(api, renamed)} == {"accepted"}
    finals = [api.get(f"/lists/{lid}/leads/{lead['id']}").json_body for lead in leads]
    keys = ("status", "last_activity_at", "campaigns", "email_status")
    shapes = [{k: f[k] for k in keys} for f in finals]
    for shape in shapes:
        for campaign in shape["campaigns"].values():
            campaign.pop("last_event_id")  # each lead's own event ids
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0]["status"] == "replied"  # a late email_sent does not undo replied
    assert shapes[0]["campaigns"]["cmp-1"]["last_event"] == "replied"
    assert shapes[0]["campaigns"]["cmp-1"]["step"] == 2
    assert shapes[0]["last_activity_at"] == "2026-11-20T11:00:00.000Z"


def test_a_batch_sent_twice_is_stored_once(api: Api) -> None:
    lid = api.new_list()["id"]
    lead = _lead(api, lid, "twice@example.com")
    events = _story(lead)
    assert {r["result"] for r in _post(api, events)} == {"accepted"}
    again = _post(api, events)
    assert [r["result"] for r in again] == ["duplicate"] * len(events)
    assert [r["id"] for r in again] == [e["id"] for e in events]
    assert {r["lead_id"] for r in again} == {lead["id"]}  # from the events' markers
    # AND an id recorded already stays the first lead's, whatever lead it names now
    other = _lead(api, lid, "other.twice@example.com")
    renamed = [{**events[0], "lead": {"id": other["id"]}}]
    assert [(r["result"], r["lead_id"]) for r in _post(api, renamed)] == \
        [("duplicate", lead["id"])]
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity?limit=100").json_body["items"]
    event_ids = [a["data"].get("event_id") for a in timeline
                 if a["type"] in ("email_sent", "email_opened", "call", "replied")]
    assert sorted(event_ids) == sorted(e["id"] for e in events)  # one activity each
    # AND the timeline shows each event in place (newest first by occurred_at)
    kinds = [a["type"] for a in timeline if a["data"].get("event_id") in event_ids
             and a["type"] != "status_changed"]
    assert kinds == ["replied", "email_sent", "call", "email_opened", "email_sent"]
    # AND the same id twice in one batch is stored once too
    one = _event("email_clicked", {"id": lead["id"]}, 30)
    assert [r["result"] for r in _post(api, [one, one])] == ["accepted", "duplicate"]


def test_statuses_by_rule_and_never_backwards(api: Api) -> None:
    lid = api.new_list()["id"]
    cases = {
        "bounced": (_event, "bounced", {}, "bounced"),
        "unsub": (_event, "unsubscribed", {}, "unsubscribed"),
        "meeting": (_event, "meeting_booked", {}, "qualified"),
        "ni": (_event, "call", {"data": {"outcome": "not_interested"}}, "not_interested"),
        "inbound": (_event, "message", {"data": {"channel": "whatsapp", "direction": "inbound",
                                                 "text": "yes please"}}, "replied"),
        "outbound": (_event, "message", {"data": {"channel": "sms", "direction": "outbound",
                                                  "text": "hi"}}, "contacted"),
    }
    for name, (make, kind, extra, expected) in cases.items():
        lead = _lead(api, lid, f"{name}@example.com")
        results = _post(api, [make(kind, {"id": lead["id"]}, 0, **extra),
                              _event("email_sent", {"id": lead["id"]}, 10)])
        assert {r["result"] for r in results} == {"accepted"}, results
        got = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
        assert got["status"] == (expected if expected != "new" else "contacted"), name
        if kind == "bounced":
            assert got["email_status"] == "invalid"
            assert got["email_status_reason"] == "bounced"
    # AND a manual PATCH still sets anything, and events move on from there
    lead = _lead(api, lid, "manual@example.com")
    _post(api, [_event("replied", {"id": lead["id"]}, 0)])
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": "new"}).status_code == 200
    _post(api, [_event("email_sent", {"id": lead["id"]}, 20)])
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").json_body["status"] == "contacted"
    stats = api.get(f"/lists/{lid}/stats").json_body["by_status"]
    assert stats["bounced"] == 1 and stats["qualified"] == 1 and stats["contacted"] == 2


def test_another_workspaces_lead_is_unknown(api: Api, other_api: Api) -> None:
    lid = api.new_list()["id"]
    lead = _lead(api, lid, "mine@example.com")
    results = _post(other_api, [
        _event("replied", {"id": lead["id"]}, 0),
        _event("replied", {"id": lead["id"], "list_id": lid}, 0),
        _event("replied", {"list_id": lid, "email": "mine@example.com"}, 0),
        _event("replied", {"id": "ld_nothing"}, 0),
        _event("replied", {"list_id": "ls_nothing", "email": "x@example.com"}, 0),
    ])
    assert [r["result"] for r in results] == ["unknown_lead"] * 5
    assert all("lead_id" not in r for r in results)  # nothing about it leaks
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").json_body["status"] == "new"


def test_bad_events_get_their_own_results(api: Api) -> None:
    lid = api.new_list()["id"]
    lead = _lead(api, lid, "bad@example.com")
    ref = {"id": lead["id"]}
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    slightly = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    events: list[Any] = [
        _event("telepathy", ref, 0),                                    # unknown type
        {**_event("replied", ref, 0), "occurred_at": future},             # in the future
        {**_event("replied", ref, 0), "occurred_at": "2026-11-20T09:00:00"},  # no offset
        _event("call", ref, 0, data={"outcome": "answered",
                                     "transcript": "x" * 100_001}),      # transcript too big
        _event("call", ref, 0, data={"outcome": "callback"}),            # callback_at missing
        _event("call", ref, 0, data={"outcome": "answered",
                                     "recording_url": "javascript:alert(1)"}),
        _event("message", ref, 0, data={"channel": "fax", "direction": "inbound"}),
        _event("replied", {"list_id": lid, "phone": "+14155550134"}, 0),  # not the identity
        _event("replied", {"list_id": lid, "email": "not an email"}, 0),
        "not an object",
        {"type": "replied"},
        _event("replied", ref, 0, campaign={"id": ""}),
        {**_event("replied", ref, 0), "occurred_at": slightly},           # within the skew
    ]
    results = _post(api, events)
    assert [r["result"] for r in results] == ["invalid"] * 12 + ["accepted"]
    codes = [{reason["code"] for reason in r.get("reasons", [])} for r in results]
    assert "unknown_type" in codes[0]
    assert "occurred_at_in_future" in codes[1]
    assert "invalid_time" in codes[2]
    assert "transcript_too_large" in codes[3]
    assert "invalid_time" in codes[4]
    assert "invalid_url" in codes[5]
    assert "invalid_channel" in codes[6]
    assert "not_list_identity" in codes[7]
    assert "invalid_email" in codes[8]
    assert "invalid_event" in codes[9]
    assert results[9]["id"] is None
    assert {"invalid_id", "invalid_time", "invalid_lead"} <= codes[10]
    assert "invalid_campaign" in codes[11]


def test_batch_limits_and_body_shape(api: Api) -> None:
    lid = api.new_list()["id"]
    lead = _lead(api, lid, "many@example.com")
    too_many = [_event("email_opened", {"id": lead["id"]}, i) for i in range(501)]
    response = api.post("/events", {"events": too_many})
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "too_many_events"
    assert api.post("/events", {"evnts": []}).status_code == 400
    assert api.post("/events", raw=b"[1, 2]").status_code == 400
    huge = b'{"events": [{"id": "x", "type": "call", "data": {"transcript": "' \
        + b"a" * (10 * 1024 * 1024) + b'"}}]}'
    assert api.post("/events", raw=huge).status_code == 413
    assert api.post("/events", {"events": []}).json_body == {"results": []}
    # 500 is allowed (and nothing was stored by the refused 501)
    results = _post(api, too_many[:500])
    assert {r["result"] for r in results} == {"accepted"}
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity?limit=200").json_body
    assert len(timeline["items"]) == 200 and timeline["next_cursor"]


def test_an_event_costs_one_transaction_with_its_marker(api: Api) -> None:
    # GIVEN a lead and an event, recorded
    lid = api.new_list()["id"]
    lead = _lead(api, lid, "marker@example.com")
    event = _event("call", {"id": lead["id"]}, 0, data={
        "outcome": "answered", "transcript": "Hello\nthere", "duration_s": 42,
        "recording_url": "https://rec.example.com/1.mp3", "extracted": {"budget": 5000}})
    assert _post(api, [event])[0]["result"] == "accepted"
    # THEN the marker item holds the event for the workspace, and the timeline the transcript
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    call = next(a for a in timeline if a["type"] == "call")
    assert call["data"]["transcript"] == "Hello\nthere"
    assert call["data"]["recording_url"] == "https://rec.example.com/1.mp3"
    assert call["data"]["extracted"] == {"budget": 5000} and call["at"] == _at(0).replace(
        "+00:00", ".000Z")
    # sent again: one marker item, one call on the timeline
    assert _post(api, [event])[0]["result"] == "duplicate"
    client = boto3.client("dynamodb", region_name=get_settings().region)
    markers = client.scan(TableName=get_settings().table_name,
                          FilterExpression="event_id = :id AND begins_with(pk, :p)",
                          ExpressionAttributeValues={":id": {"S": event["id"]},
                                                     ":p": {"S": "EVENT#"}})["Items"]
    assert len(markers) == 1 and markers[0]["lead_id"]["S"] == lead["id"]
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    assert [a["type"] for a in timeline].count("call") == 1

"""Follow-ups through the API on moto: create, list, cancel, from a callback, raised when due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.bootstrap import services
from tests.integration.conftest import Api


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _lead(api: Api) -> tuple[str, dict[str, Any]]:
    lid = api.new_list()["id"]
    lead = api.post(f"/lists/{lid}/leads", {"email": "fu@example.com"}).json_body
    return lid, lead


def test_create_list_cancel_and_next_follow_up(api: Api) -> None:
    # GIVEN a lead
    lid, lead = _lead(api)
    base = f"/lists/{lid}/leads/{lead['id']}/follow-ups"
    # WHEN two follow-ups are made
    later = api.post(base, {"due_at": "2031-01-02T10:00:00+01:00", "note": "second call"})
    sooner = api.post(base, {"due_at": "2030-06-01T09:00:00Z"})
    assert later.status_code == 201 and sooner.status_code == 201
    assert later.json_body["due_at"] == "2031-01-02T09:00:00.000Z"
    assert later.json_body["status"] == "open" and later.json_body["note"] == "second call"
    # THEN the lead's next follow-up is the earliest, and both are listed by time
    got = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
    assert got["next_follow_up_at"] == "2030-06-01T09:00:00.000Z"
    items = api.get(base).json_body["items"]
    assert [f["id"] for f in items] == [sooner.json_body["id"], later.json_body["id"]]
    # AND the filter finds the lead by it, with a count
    found = api.get(f"/lists/{lid}/leads?next_follow_up_at.lte=2030-12-31&count=true").json_body
    assert [x["id"] for x in found["items"]] == [lead["id"]] and found["count"] == 1
    none = api.get(f"/lists/{lid}/leads?next_follow_up_at.lte=2030-01-01").json_body
    assert none["items"] == []
    # WHEN the sooner one is cancelled
    assert api.delete(f"{base}/{sooner.json_body['id']}").status_code == 204
    # THEN the next one is the later, the cancelled one is listed as cancelled
    got = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
    assert got["next_follow_up_at"] == "2031-01-02T09:00:00.000Z"
    statuses = {f["id"]: f["status"] for f in api.get(base).json_body["items"]}
    assert statuses[sooner.json_body["id"]] == "cancelled"
    assert [f["id"] for f in api.get(f"{base}?status=open").json_body["items"]] == [
        later.json_body["id"]]
    # AND cancelling twice, or an unknown one, is a clear 4xx
    assert api.delete(f"{base}/{sooner.json_body['id']}").status_code == 409
    assert api.delete(f"{base}/fu_nothing").status_code == 404
    assert api.delete(f"{base}/{later.json_body['id']}").status_code == 204
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").json_body["next_follow_up_at"] is None
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    assert [a["type"] for a in timeline].count("follow_up.cancelled") == 2


def test_bad_follow_ups_are_refused(api: Api, other_api: Api) -> None:
    lid, lead = _lead(api)
    base = f"/lists/{lid}/leads/{lead['id']}/follow-ups"
    for body in ({}, {"due_at": "tomorrow"}, {"due_at": "2030-01-01T10:00:00"},
                 {"due_at": "2030-01-01T10:00:00Z", "colour": "red"},
                 {"due_at": "2030-01-01T10:00:00Z", "note": 5}):
        response = api.post(base, body)
        assert response.status_code == 400, body
    assert api.get(f"{base}?status=gone").status_code == 400
    assert other_api.post(base, {"due_at": "2030-01-01T10:00:00Z"}).status_code == 404
    assert other_api.get(base).status_code == 404
    assert api.get(f"/lists/{lid}/leads/ld_nothing/follow-ups").status_code == 404


def test_a_callback_call_creates_one_and_the_job_raises_it_once(api: Api, pump: Any) -> None:
    # GIVEN a call event with outcome callback, due a moment ago
    lid, lead = _lead(api)
    due = _iso(timedelta(seconds=-30))
    event = {"id": "call-cb-1", "type": "call", "occurred_at": _iso(timedelta(minutes=-5)),
             "lead": {"id": lead["id"]},
             "data": {"outcome": "callback", "callback_at": due, "direction": "outbound"}}
    results = api.post("/events", {"events": [event, {**event}]}).json_body["results"]
    assert [r["result"] for r in results] == ["accepted", "duplicate"]
    got = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
    assert got["status"] == "callback" and got["next_follow_up_at"] is not None
    base = f"/lists/{lid}/leads/{lead['id']}/follow-ups"
    [follow_up] = api.get(base).json_body["items"]
    assert follow_up["event_id"] == "call-cb-1" and follow_up["status"] == "open"
    # and one in the future that must stay open
    future = api.post(base, {"due_at": _iso(timedelta(days=1))}).json_body
    # WHEN the scheduled job runs, twice (a redelivered tick), and the pump's schedule too
    first = services().follow_ups.raise_due(budget_seconds=5)
    second = services().follow_ups.raise_due(budget_seconds=5)
    pump.fire_due_schedules(10 ** 10)
    # THEN it was marked due exactly once, with one follow_up.due activity
    assert first["due"] == 1 and second["due"] == 0
    statuses = {f["id"]: f["status"] for f in api.get(base).json_body["items"]}
    assert statuses == {follow_up["id"]: "due", future["id"]: "open"}
    timeline = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    assert [a["type"] for a in timeline].count("follow_up.due") == 1
    # AND a due follow-up is still pending: the lead's next follow-up stays on it
    got = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
    assert got["next_follow_up_at"] == follow_up["due_at"]
    # AND it shows in the workspace feed
    feed = api.get("/activity?types=follow_up.due").json_body["items"]
    assert [f["data"]["follow_up_id"] for f in feed] == [follow_up["id"]]


def test_a_deleted_leads_follow_up_is_never_raised(api: Api) -> None:
    lid, lead = _lead(api)
    base = f"/lists/{lid}/leads/{lead['id']}/follow-ups"
    made = api.post(base, {"due_at": _iso(timedelta(seconds=-1))})
    assert made.status_code == 201
    assert api.delete(f"/lists/{lid}/leads/{lead['id']}").status_code == 204
    services().follow_ups.raise_due(budget_seconds=5)
    feed = api.get("/activity?types=follow_up.due").json_body["items"]
    assert feed == []

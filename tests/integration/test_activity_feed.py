"""GET /activity: the workspace feed, newest first, by days, with a cursor and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import Api


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _seed(api: Api) -> tuple[str, str, list[dict[str, Any]]]:
    lid = api.new_list()["id"]
    other = api.new_list(name="Other")["id"]
    a = api.post(f"/lists/{lid}/leads", {"email": "feed-a@example.com"}).json_body
    b = api.post(f"/lists/{other}/leads", {"email": "feed-b@example.com"}).json_body
    events = [
        {"id": f"feed-{i}", "type": kind, "occurred_at": _ago(days=days),
         "lead": {"id": lead["id"]},
         **({"data": {"channel": "sms", "direction": "inbound", "text": "hello " * 200}}
            if kind == "message" else {}),
         **({"data": {"outcome": "answered", "transcript": "long talk"}}
            if kind == "call" else {})}
        for i, (kind, days, lead) in enumerate([
            ("email_sent", 3, a), ("email_opened", 2.5, a), ("call", 2, b),
            ("message", 1, a), ("replied", 0.5, b), ("email_sent", 0.1, b)])]
    results = api.post("/events", {"events": events}).json_body["results"]
    assert {r["result"] for r in results} == {"accepted"}
    return lid, other, events


def test_feed_newest_first_across_days_with_cursor(api: Api) -> None:
    _, _, events = _seed(api)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        path = "/activity?limit=2&types=email_sent,email_opened,call,message,replied"
        response = api.get(path + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json_body
        seen.extend(response.json_body["items"])
        cursor = response.json_body["next_cursor"]
        pages += 1
        if not cursor:
            break
    assert pages >= 3
    assert [e["data"]["event_id"] for e in seen] == [e["id"] for e in reversed(events)]
    ats = [e["at"] for e in seen]
    assert ats == sorted(ats, reverse=True)
    # the feed keeps it small: no transcript, message text cut
    call = next(e for e in seen if e["type"] == "call")
    assert "transcript" not in call["data"] and call["data"]["has_transcript"] is True
    message = next(e for e in seen if e["type"] == "message")
    assert len(message["data"]["text"]) <= 501


def test_feed_filters_and_isolation(api: Api, other_api: Api) -> None:
    _, other, events = _seed(api)
    only_sent = api.get("/activity?types=email_sent").json_body["items"]
    assert [e["data"]["event_id"] for e in only_sent] == [events[5]["id"], events[0]["id"]]
    in_list = api.get(f"/activity?list_id={other}&types=call,replied,email_sent").json_body
    assert {e["list_id"] for e in in_list["items"]} == {other}
    assert len(in_list["items"]) == 3
    recent = api.get("/activity?types=replied,email_sent&since=" + _ago(days=1)
                     .replace("+00:00", "Z")).json_body["items"]
    assert [e["data"]["event_id"] for e in recent] == [events[5]["id"], events[4]["id"]]
    # status changes caused by events are in the feed too
    changes = api.get("/activity?types=status_changed").json_body["items"]
    assert {c["data"]["to"] for c in changes} >= {"replied"}
    # another workspace sees none of it
    assert other_api.get("/activity").json_body["items"] == []
    # bad parameters are 400s
    assert api.get("/activity?since=yesterday").status_code == 400
    assert api.get("/activity?cursor=garbage").status_code == 400
    assert api.get("/activity?colour=red").status_code == 400
    assert api.get("/activity?limit=0").status_code == 400
    first = api.get("/activity?limit=1").json_body
    assert first["next_cursor"]
    moved = api.get(f"/activity?limit=1&types=call&cursor={first['next_cursor']}")
    assert moved.status_code == 400  # a cursor belongs to its query

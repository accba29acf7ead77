"""The event rules (domain/event_rules.py) and event parsing (domain/events.py): pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.event_rules import (
    MAX_CAMPAIGNS,
    STATUS_PRECEDENCE,
    apply_event,
    event_status,
    higher_status,
)
from chalicelib.domain.events import Campaign, LeadRef, OutreachEvent, parse_event
from chalicelib.domain.lead import Lead
from chalicelib.domain.statuses import LEAD_STATUSES

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2026-01-01T00:00:00.000Z",
                updated_at="2026-01-01T00:00:00.000Z", email="a@example.com",
                email_status="valid", **fields)


def _event(kind: str, minute: int, n: int = 0, *, campaign: str | None = None,
           **data: Any) -> OutreachEvent:
    at = (NOW - timedelta(hours=1) + timedelta(minutes=minute)).isoformat()
    raw: dict[str, Any] = {"id": f"e{n}-{kind}-{minute}", "type": kind, "occurred_at": at,
                           "lead": {"id": "ld_1"}}
    if campaign:
        raw["campaign"] = {"id": campaign, "name": f"{campaign} name", "step": minute % 4,
                           "total_steps": 4}
    if data:
        raw["data"] = data
    return parse_event(raw, now=NOW)


def _fold(lead: Lead, events: list[OutreachEvent]) -> Lead:
    for event in events:
        lead = lead.with_changes(apply_event(lead, event), updated_at="x")
    return lead


def _outcome(lead: Lead) -> tuple[Any, ...]:
    return (lead.status, lead.email_status, lead.email_status_reason, lead.last_activity_at,
            dict(lead.campaigns), lead.next_follow_up_at)


def test_precedence_is_a_total_order_of_every_status() -> None:
    assert sorted(STATUS_PRECEDENCE) == sorted(LEAD_STATUSES)
    assert STATUS_PRECEDENCE.index("new") == 0
    assert STATUS_PRECEDENCE[-1] == "unsubscribed"


@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("email_sent", {}, "contacted"),
    ("email_opened", {}, "new"),
    ("email_clicked", {}, "new"),
    ("replied", {}, "replied"),
    ("bounced", {}, "bounced"),
    ("unsubscribed", {}, "unsubscribed"),
    ("meeting_booked", {}, "qualified"),
    ("call", {"outcome": "no_answer"}, "contacted"),
    ("call", {"outcome": "answered", "direction": "inbound"}, "replied"),
    ("call", {"outcome": "not_interested"}, "not_interested"),
    ("call", {"outcome": "callback", "callback_at": "2026-11-27T10:00:00+01:00"}, "callback"),
    ("message", {"channel": "whatsapp", "direction": "outbound", "text": "hi"}, "contacted"),
    ("message", {"channel": "linkedin", "direction": "inbound", "text": "hi"}, "replied"),
])
def test_the_rule_table(kind: str, data: dict[str, Any], expected: str) -> None:
    lead = _fold(_lead(), [_event(kind, 0, **data)])
    assert lead.status == expected
    assert lead.last_activity_at == "2026-11-26T11:00:00.000Z"


def test_bounce_invalidates_the_email_and_callback_sets_the_follow_up() -> None:
    lead = _fold(_lead(), [_event("bounced", 0)])
    assert (lead.email_status, lead.email_status_reason) == ("invalid", "bounced")
    lead = _fold(_lead(next_follow_up_at="2026-12-01T00:00:00.000Z"), [
        _event("call", 0, outcome="callback", callback_at="2026-11-27T10:00:00+01:00")])
    assert lead.next_follow_up_at == "2026-11-27T09:00:00.000Z"


def test_statuses_never_move_backwards() -> None:
    assert higher_status("replied", "contacted") == "replied"
    assert higher_status("contacted", "replied") == "replied"
    assert higher_status("unsubscribed", "qualified") == "unsubscribed"
    assert higher_status("qualified", None) == "qualified"
    lead = _fold(_lead(), [_event("replied", 10), _event("email_sent", 20)])
    assert lead.status == "replied"


def test_a_campaign_shows_its_newest_event() -> None:
    lead = _fold(_lead(), [_event("email_sent", 30, campaign="c"),
                           _event("email_opened", 10, campaign="c")])
    record = lead.campaigns["c"]
    assert record["last_event"] == "email_sent" and record["step"] == 30 % 4
    assert record["last_event_at"] == "2026-11-26T11:30:00.000Z"


def test_campaigns_are_capped_keeping_the_most_recent() -> None:
    events = [_event("email_sent", m, campaign=f"c{m}") for m in range(MAX_CAMPAIGNS + 5)]
    lead = _fold(_lead(), list(reversed(events)))
    assert len(lead.campaigns) == MAX_CAMPAIGNS
    assert "c0" not in lead.campaigns and f"c{MAX_CAMPAIGNS + 4}" in lead.campaigns


_KINDS = st.sampled_from([
    ("email_sent", {}), ("email_opened", {}), ("replied", {}), ("bounced", {}),
    ("unsubscribed", {}), ("meeting_booked", {}),
    ("call", {"outcome": "no_answer"}), ("call", {"outcome": "not_interested"}),
    ("call", {"outcome": "callback", "callback_at": "2026-11-28T08:00:00Z"}),
    ("call", {"outcome": "callback", "callback_at": "2026-11-27T08:00:00Z"}),
    ("message", {"channel": "sms", "direction": "inbound", "text": "yo"}),
    ("message", {"channel": "sms", "direction": "outbound", "text": "yo"}),
])
_EVENT = st.tuples(_KINDS, st.integers(0, 50), st.sampled_from([None, "a", "b"]))


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(_EVENT, min_size=1, max_size=8), data=st.data(),
       start=st.sampled_from(["new", "contacted", "replied", "qualified"]))
def test_any_order_of_the_same_events_ends_the_same(
        specs: list[tuple[tuple[str, dict[str, Any]], int, str | None]], data: st.DataObject,
        start: str) -> None:
    events = [_event(kind, minute, n, campaign=campaign, **extra)
              for n, ((kind, extra), minute, campaign) in enumerate(specs)]
    shuffled = data.draw(st.permutations(events))
    lead = _lead(status=start)
    one, other = _fold(lead, events), _fold(lead, list(shuffled))
    assert _outcome(one) == _outcome(other)
    # and an event applied twice changes nothing more
    assert _outcome(_fold(one, events[:1])) == _outcome(one)
    # and the status is the highest asked, never below where it started
    asked = [s for s in (event_status(e) for e in events) if s] + [start]
    assert one.status == max(asked, key=STATUS_PRECEDENCE.index)


def test_parse_refuses_what_the_issue_lists() -> None:
    def reasons(raw: Any) -> set[str]:
        with pytest.raises(ValidationFailed) as caught:
            parse_event(raw, now=NOW)
        return {e.code for e in caught.value.errors}

    base = {"id": "x", "type": "replied", "occurred_at": "2026-11-26T11:00:00Z",
            "lead": {"id": "ld_1"}}
    assert "unknown_type" in reasons({**base, "type": "fax"})
    assert "occurred_at_in_future" in reasons({**base, "occurred_at": "2026-11-26T12:06:00Z"})
    assert "occurred_at_too_old" in reasons({**base, "occurred_at": "1999-12-31T00:00:00Z"})
    assert "transcript_too_large" in reasons({**base, "type": "call", "data": {
        "outcome": "answered", "transcript": "é" * 50_001}})
    assert "invalid_url" in reasons({**base, "type": "call", "data": {
        "outcome": "answered", "recording_url": "file:///etc/passwd"}})
    assert "invalid_outcome" in reasons({**base, "type": "call", "data": {"outcome": "maybe"}})
    assert "unknown_field" in reasons({**base, "type": "call", "data": {
        "outcome": "answered", "mood": "good"}})
    assert "invalid_lead" in reasons({**base, "lead": {"list_id": "ls_1"}})
    assert "invalid_lead" in reasons({**base, "lead": {"id": "ld_1", "email": "a@b.c"}})
    assert "data_too_large" in reasons({**base, "data": {"x": "y" * 10_001}})
    assert "unknown_field" in reasons({**base, "extra": 1})
    # within the clock skew, an offset other than Z, and a lead by list and email: fine
    event = parse_event({**base, "occurred_at": "2026-11-26T14:04:00+02:00",
                         "lead": {"list_id": "ls_1", "email": "A@x.com"},
                         "campaign": {"id": "c1", "step": 2}}, now=NOW)
    assert event.occurred_at == "2026-11-26T12:04:00.000Z"
    assert event.lead == LeadRef(list_id="ls_1", field="email", value="A@x.com")
    assert event.campaign == Campaign("c1", None, 2, None)

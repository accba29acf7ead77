"""What an outreach event does to its lead (pure). The table is in docs/events.md.

Every rule is a *merge* that is commutative, associative and idempotent, so
the lead a set of events leaves does not depend on the order they arrive in
(or on one arriving twice):

- status: the higher of the lead's and the event's by STATUS_PRECEDENCE
  (statuses only move up; a manual PATCH still sets anything);
- email status: a bounce sets `invalid` (reason `bounced`), nothing unsets it;
- last_activity_at: the latest occurred_at;
- campaigns: per campaign id, what the newest event (by occurred_at, then
  event id) said of it; at most MAX_CAMPAIGNS, the most recent kept;
- next_follow_up_at: the earliest pending follow-up (a callback adds one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from chalicelib.domain.events import OutreachEvent
from chalicelib.domain.lead import Lead

# Low to high: an event moves a lead only upward. The higher a status, the
# more it says about what may still be done with the person; see docs/events.md.
STATUS_PRECEDENCE: Final = ("new", "contacted", "completed", "replied", "callback",
                            "not_interested", "qualified", "invalid", "bounced",
                            "unsubscribed")
_RANK: Final = {status: rank for rank, status in enumerate(STATUS_PRECEDENCE)}
MAX_CAMPAIGNS: Final = 50
# The status an event type asks for, whatever its data (calls and messages: below).
_STATUS_OF_TYPE: Final = {
    "email_sent": "contacted",
    "replied": "replied",
    "bounced": "bounced",
    "unsubscribed": "unsubscribed",
    "meeting_booked": "qualified",
}
_STATUS_OF_OUTCOME: Final = {"not_interested": "not_interested", "callback": "callback"}


def event_status(event: OutreachEvent) -> str | None:
    """The status an event moves its lead to (if higher), or None."""
    if event.type in ("call", "message"):
        outcome = _STATUS_OF_OUTCOME.get(event.outcome or "")
        if outcome is not None:
            return outcome
        return "replied" if event.direction == "inbound" else "contacted"
    return _STATUS_OF_TYPE.get(event.type)


def higher_status(current: str, wanted: str | None) -> str:
    if wanted is None:
        return current
    return wanted if _RANK.get(wanted, 0) > _RANK.get(current, 0) else current


def _later(a: str | None, b: str | None) -> str | None:
    return max(x for x in (a, b) if x) if a or b else None


def _earlier(a: str | None, b: str | None) -> str | None:
    return min(x for x in (a, b) if x) if a or b else None


def _campaign_key(record: Mapping[str, Any]) -> tuple[str, str]:
    return str(record.get("last_event_at") or ""), str(record.get("last_event_id") or "")


def merge_campaigns(current: Mapping[str, Mapping[str, Any]],
                    event: OutreachEvent) -> dict[str, dict[str, Any]]:
    campaigns = {k: dict(v) for k, v in current.items()}
    c = event.campaign
    if c is None:
        return campaigns
    record = {"name": c.name, "step": c.step, "total_steps": c.total_steps,
              "last_event": event.type, "last_event_at": event.occurred_at,
              "last_event_id": event.id}
    held = campaigns.get(c.id)
    if held is None or _campaign_key(record) > _campaign_key(held):
        campaigns[c.id] = record
    if len(campaigns) > MAX_CAMPAIGNS:
        ranked = sorted(campaigns, key=lambda k: (_campaign_key(campaigns[k]), k), reverse=True)
        campaigns = {k: campaigns[k] for k in ranked[:MAX_CAMPAIGNS]}
    return campaigns


def apply_event(lead: Lead, event: OutreachEvent) -> dict[str, Any]:
    """The lead's fields after `event` (only those that change)."""
    after: dict[str, Any] = {
        "status": higher_status(lead.status, event_status(event)),
        "last_activity_at": _later(lead.last_activity_at, event.occurred_at),
        "campaigns": merge_campaigns(lead.campaigns, event),
        "next_follow_up_at": _earlier(lead.next_follow_up_at,
                                      event.callback_at if event.outcome == "callback"
                                      else None),
    }
    if event.type == "bounced" and lead.email:
        after.update(email_status="invalid", email_status_reason="bounced",
                     email_checked_at=_later(lead.email_checked_at, event.occurred_at))
    return {k: v for k, v in after.items() if getattr(lead, k) != v}


def timeline_data(event: OutreachEvent) -> dict[str, Any]:
    """What the event's entry on the lead's timeline shows."""
    data: dict[str, Any] = {"event_id": event.id, **event.data}
    if event.campaign is not None:
        c = event.campaign
        data["campaign"] = {k: v for k, v in (("id", c.id), ("name", c.name), ("step", c.step),
                                              ("total_steps", c.total_steps)) if v is not None}
    return data

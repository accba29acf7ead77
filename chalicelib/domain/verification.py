"""What a verdict changes on a lead: pure planning of the write, no I/O.

The worker reads a lead's snapshot, plans the update here, and writes it only
if the lead's version is still the one read (an edit in between wins, and the
plan is made again from the fresh lead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.deliverability import EmailVerdict
from chalicelib.domain.ids import deterministic_id
from chalicelib.domain.lead import Lead


@dataclass(frozen=True)
class LeadSnapshot:
    """The fields of a stored lead that verification reads."""

    email: str | None
    status: str
    email_status: str
    email_status_reason: str | None
    version: int


@dataclass(frozen=True)
class VerdictUpdate:
    lead_id: str
    version: int  # the version read: the write is conditional on it
    email_status: str
    email_status_reason: str
    checked_at: str
    lead_status: str | None = None  # set when the verdict also changes the lead's status
    activities: list[Activity] = field(default_factory=list)
    # What the lead had at `version`: the stats tallies move from these.
    was_email_status: str = "pending"
    was_status: str = "new"

    def tally_change(self) -> dict[str, int]:
        """The shard tallies this write moves (domain/lead_index names)."""
        delta: dict[str, int] = {}
        for old, new, prefix in ((self.was_email_status, self.email_status, "e:"),
                                 (self.was_status, self.lead_status, "s:")):
            if new is not None and new != old:
                delta[prefix + old] = delta.get(prefix + old, 0) - 1
                delta[prefix + new] = delta.get(prefix + new, 0) + 1
        return delta


def plan_update(lead_id: str, email: str, snapshot: LeadSnapshot | None, verdict: EmailVerdict,
                *, identity: str, now_iso: str, now_ms: int) -> VerdictUpdate | None:
    """The write a verdict calls for, or None when there is nothing to write.

    Nothing to write: the lead is gone, its email changed since the request
    (a newer request is on its way), or it already carries this verdict - so a
    redelivered message writes nothing.

    The first verdict of an address is shown in the lead's timeline from the
    lead itself (no activity item per lead: 100k leads would be 100k writes
    more). Stored activities record what a reader must not miss: a verdict
    that changed on re-verification, and a status the verdict changed.
    """
    if snapshot is None or snapshot.email != email:
        return None
    if (snapshot.email_status, snapshot.email_status_reason) == (verdict.status, verdict.reason):
        return None
    activities: list[Activity] = []
    if snapshot.email_status not in ("pending", "none"):
        activities.append(Activity(
            deterministic_id("ac", f"{lead_id}:verified:{now_iso}", now_ms=now_ms), lead_id,
            "verified", now_iso,
            {"email": email, "from": snapshot.email_status, "to": verdict.status,
             "reason": verdict.reason}))
    lead_status = None
    # An undeliverable identity email makes the lead itself invalid, but only
    # while nobody has worked it: a lead that replied keeps its status.
    if identity == "email" and verdict.status == "invalid" and snapshot.status == "new":
        lead_status = "invalid"
        activities.append(Activity(
            deterministic_id("ac", f"{lead_id}:status:{now_iso}", now_ms=now_ms), lead_id,
            "status_changed", now_iso,
            {"from": snapshot.status, "to": "invalid", "by": "verification",
             "reason": verdict.reason}))
    return VerdictUpdate(lead_id, snapshot.version, verdict.status, verdict.reason, now_iso,
                         lead_status, activities, was_email_status=snapshot.email_status,
                         was_status=snapshot.status)


def verdict_at_save(verdict: EmailVerdict, *, status: str, identity: str) -> bool:
    """Whether a lead being saved (its email just set, `pending`) may carry `verdict`
    from the start, instead of being queued for the background write.

    Exactly what plan_update would write, minus what the save does not do:
    `unknown` is retried later by the background worker (it must stay on its
    path), and an `invalid` identity email of a `new` lead also changes the
    lead's status with a `status_changed` activity entry - that stays a
    conditional background write too.
    """
    if verdict.status == "unknown":
        return False
    return not (identity == "email" and verdict.status == "invalid" and status == "new")


def verdict_fields(email: str | None, status: str, known: Mapping[str, EmailVerdict],
                    identity: str, now: str) -> dict[str, Any]:
    """A just-set email's verification fields when its verdict is known and may be
    written with it (domain/verification.verdict_at_save); else none."""
    verdict = known.get(email) if email else None
    if verdict is None or not verdict_at_save(verdict, status=status, identity=identity):
        return {}
    return {"email_status": verdict.status, "email_status_reason": verdict.reason,
            "email_checked_at": now}


def with_verdict(lead: Lead, known: Mapping[str, EmailVerdict], identity: str,
                  now: str) -> Lead:
    fields = verdict_fields(lead.email, lead.status, known, identity, now)
    return lead.with_changes(fields, updated_at=lead.updated_at) if fields else lead

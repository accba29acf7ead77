"""`POST /events`: outreach engines tell leadpipe what happened to their leads.

Each event is resolved to its lead (by id, or by its list's identity claim:
never a scan) and recorded in one transaction with the lead's change, its
timeline and feed entries, any follow-up it asks for, and its marker (the
engine's id, per workspace): sent twice, stored once. One result per event,
in order; one bad event never fails the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import parse_iso, utc_now_iso
from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.domain.event_rules import apply_event, timeline_data
from chalicelib.domain.events import (
    LeadRef,
    OutreachEvent,
    batch_of,
    event_id_of,
    parse_event,
)
from chalicelib.domain.follow_ups import FollowUp
from chalicelib.domain.ids import deterministic_id, is_id, new_id
from chalicelib.domain.lead import Lead, parse_lead_fields
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.person_suppression import SPREAD, PersonSuppression
from chalicelib.services.ports import LeadBatchStore, OutreachStore, Repository
from chalicelib.services.status_outbox import StatusOutbox

logger = logging.getLogger("leadpipe.events")
ATTEMPTS = 5
# Events of one lead recorded in one transaction: 3-4 items each (marker,
# timeline, feed, a follow-up) beside the lead's own, within the 100-item limit.
GROUP = 10


@dataclass(frozen=True)
class EventResult:
    index: int
    id: str | None
    result: str  # accepted | duplicate | unknown_lead | invalid | failed
    lead_id: str | None = None
    reasons: tuple[FieldError, ...] = field(default_factory=tuple)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "id": self.id, "result": self.result}
        if self.lead_id is not None:
            out["lead_id"] = self.lead_id
        if self.reasons:
            out["reasons"] = [r.as_dict() for r in self.reasons]
        return out


class _UnknownLead(Exception):
    pass


def _ms(iso: str) -> int:
    return int(parse_iso(iso).timestamp() * 1000)


def event_activity(workspace: str, lead_id: str, event: OutreachEvent) -> Activity:
    """The event's timeline entry: at its occurred_at, with an id that sorts
    there and is the same for the same event (a redelivery writes nothing new)."""
    return Activity(deterministic_id("ac", f"{workspace}\x00{event.id}",
                                     now_ms=_ms(event.occurred_at)),
                    lead_id, event.type, event.occurred_at, timeline_data(event))


def event_follow_up(workspace: str, lst: LeadList, lead_id: str, event: OutreachEvent,
                    now: str) -> FollowUp | None:
    if event.outcome != "callback" or event.callback_at is None:
        return None
    return FollowUp(deterministic_id("fu", f"{workspace}\x00{event.id}", now_ms=_ms(now)),
                    lead_id, lst.id, event.callback_at, now, event_id=event.id)


@dataclass
class _Pending:
    """A valid event resolved to its lead, waiting to be recorded."""

    index: int
    event: OutreachEvent


class EventService:
    def __init__(self, repo: Repository, store: OutreachStore, *, budget_seconds: float,
                 leads: LeadBatchStore | None = None,
                 outbox: StatusOutbox | None = None,
                 announce: LeadAnnouncer | None = None,
                 people: PersonSuppression | None = None) -> None:
        self._repo = repo
        self._leads = leads  # BatchGetItem of a batch's leads (_prefetch)
        # `unsubscribed` / `bounced`: the person is suppressed and every lead of
        # theirs in the workspace takes the status (services/person_suppression.py).
        self._people = people
        self._announce = announce
        self._store = store
        self._budget = budget_seconds
        self._outbox = outbox

    def ingest(self, workspace: str, body: Mapping[str, Any]) -> list[EventResult]:
        """One result per event, in order. Events are checked and resolved one by
        one, then each lead's events are recorded together (GROUP a transaction):
        a batch about a few leads costs a few transactions, not one an event."""
        raw_events = batch_of(body)
        deadline = time.monotonic() + self._budget
        now = datetime.now(UTC)
        results: dict[int, EventResult] = {}
        parsed: list[tuple[int, OutreachEvent]] = []
        for index, raw in enumerate(raw_events):
            try:
                parsed.append((index, parse_event(raw, now=now)))
            except ValidationFailed as exc:
                results[index] = EventResult(index, event_id_of(raw), "invalid",
                                             reasons=tuple(exc.errors))
        cache = _Cache()
        seen = self._prefetch(workspace, parsed, cache)
        groups: dict[tuple[str, str], list[_Pending]] = {}
        leads: dict[tuple[str, str], tuple[LeadList, Lead]] = {}
        batch_ids: set[str] = set()
        for index, event in parsed:
            if event.id in seen:  # recorded before: nothing to write
                results[index] = EventResult(index, event.id, "duplicate", seen[event.id])
                continue
            try:
                lst, lead = self._resolve(workspace, event.lead, cache)
            except ValidationFailed as exc:
                results[index] = EventResult(index, event.id, "invalid",
                                             reasons=tuple(exc.errors))
                continue
            except _UnknownLead:
                results[index] = EventResult(index, event.id, "unknown_lead")
                continue
            except Exception:  # a throttle, a bug: this event only; the engine may resend
                logger.exception("event %d (%r) failed", index, event.id)
                results[index] = _failed(index, event.id, "try_again")
                continue
            if event.id in batch_ids:  # the same id twice in one batch: the first counts
                results[index] = EventResult(index, event.id, "duplicate", lead.id)
                continue
            batch_ids.add(event.id)
            leads[(lst.id, lead.id)] = (lst, lead)
            groups.setdefault((lst.id, lead.id), []).append(_Pending(index, event))
        try:
            with self._announcing():
                self._record_all(groups, leads, results, deadline)
                if self._people is not None:
                    self._spread(groups, leads, results, deadline)
        finally:
            if self._outbox is not None:
                self._outbox.flush()
        return [results[i] for i in range(len(raw_events))]

    def _announcing(self) -> AbstractContextManager[None]:
        return nullcontext() if self._announce is None else self._announce.collecting()

    def _record_all(self, groups: dict[tuple[str, str], list[_Pending]],
                    leads: dict[tuple[str, str], tuple[LeadList, Lead]],
                    results: dict[int, EventResult], deadline: float) -> None:
        for key, pending in groups.items():
            lst, lead = leads[key]
            for start in range(0, len(pending), GROUP):
                part = pending[start:start + GROUP]
                if time.monotonic() > deadline:
                    results.update((p.index, _failed(p.index, p.event.id,
                                                     "over_time_budget")) for p in part)
                    continue
                outcome = self._record_group(lst, lead, part)
                results.update(outcome)

    def _spread(self, groups: dict[tuple[str, str], list[_Pending]],
                leads: dict[tuple[str, str], tuple[LeadList, Lead]],
                results: dict[int, EventResult], deadline: float) -> None:
        """An accepted `unsubscribed`/`bounced` event suppresses its person and is
        recorded on each other lead of theirs too, under a derived id (idempotent:
        a redelivery finds its markers), so statuses only move up, by the rules."""
        assert self._people is not None
        for key, pending in groups.items():
            lst, lead = leads[key]
            for p in pending:
                # A resent event (duplicate) spreads again: what a request out of
                # time left undone is done then; the derived markers stop repeats.
                if p.event.type not in SPREAD or \
                        results[p.index].result not in ("accepted", "duplicate"):
                    continue
                others = self._people.suppress(lst.workspace, lead, p.event.type)
                for other_lst, other in others:
                    if other.id == lead.id or time.monotonic() > deadline:
                        continue
                    derived = replace(p.event, id=f"{p.event.id}#{other.id}")
                    self._record_group(other_lst, other, [_Pending(-1, derived)])

    def _list(self, workspace: str, list_id: str, cache: _Cache) -> LeadList:
        if list_id not in cache.lists:
            cache.lists[list_id] = self._repo.get_list(workspace, list_id) \
                if is_id(list_id, "ls") else None
        lst = cache.lists[list_id]
        if lst is None:  # another workspace's list reads as no list at all
            raise _UnknownLead
        return lst

    def _prefetch(self, workspace: str, parsed: list[tuple[int, OutreachEvent]],
                  cache: _Cache) -> dict[str, str]:
        """Read together what resolving the events one by one would read one at a
        time: the markers of events recorded before, the lists, the identity claims
        and the leads (BatchGetItem, 100 keys a call). Returns event id → lead id of
        the events recorded before that need nothing more: a resent unsubscribe or
        bounce is left out, it goes on to spread again (_spread). A lead named by id
        alone keeps its lead-index Query in _resolve."""
        markers = self._store.events_seen(workspace, [e.id for _, e in parsed]) \
            if parsed else {}
        seen = {e.id: markers[e.id] for _, e in parsed
                if e.id in markers and e.type not in SPREAD}
        claims: dict[str, set[str]] = {}
        wanted: dict[str, set[str]] = {}
        for _, event in parsed:
            ref = event.lead
            if event.id in seen or ref.list_id is None:
                continue
            try:
                lst = self._list(workspace, ref.list_id, cache)
                if ref.lead_id is not None:
                    wanted.setdefault(lst.id, set()).add(ref.lead_id)
                elif ref.field == lst.identity:
                    value = _identity_value(lst, ref)
                    if value:
                        claims.setdefault(lst.id, set()).add(value)
            except (_UnknownLead, ValidationFailed):
                continue  # _resolve says so for that event
        for list_id, values in claims.items():
            holders = self._store.claim_holders(_known(cache, list_id), values)
            cache.holders.update(((list_id, v), holders.get(v)) for v in values)
            wanted.setdefault(list_id, set()).update(holders.values())
        if self._leads is not None:
            for list_id, named in wanted.items():
                ids = sorted(i for i in named if is_id(i, "ld"))
                found = self._leads.get_leads(_known(cache, list_id), ids)
                cache.leads.update(((list_id, i), found.get(i)) for i in ids)
        return seen

    def _resolve(self, workspace: str, ref: LeadRef, cache: _Cache) -> tuple[LeadList, Lead]:
        lead_id = ref.lead_id
        if lead_id is not None:
            if not is_id(lead_id, "ld"):
                raise _UnknownLead
            list_id = ref.list_id
            if list_id is None:
                if lead_id not in cache.list_of:
                    cache.list_of[lead_id] = self._store.list_of_lead(lead_id)
                list_id = cache.list_of[lead_id]
            if list_id is None:
                raise _UnknownLead
            lst = self._list(workspace, list_id, cache)
        else:
            lst = self._list(workspace, str(ref.list_id), cache)
            value = _identity_value(lst, ref)
            if value and (lst.id, value) not in cache.holders:
                cache.holders[(lst.id, value)] = self._store.claim_holder(lst, value)
            lead_id = cache.holders.get((lst.id, value)) if value else None
            if lead_id is None:
                raise _UnknownLead
        if (lst.id, lead_id) not in cache.leads:
            cache.leads[(lst.id, lead_id)] = self._repo.get_lead(lst, lead_id)
        lead = cache.leads[(lst.id, lead_id)]
        if lead is None:
            raise _UnknownLead
        return lst, lead

    def _record_group(self, lst: LeadList, lead: Lead,
                      pending: list[_Pending]) -> dict[int, EventResult]:
        """Record a lead's events in one transaction; an event recorded before is
        taken out as a duplicate and the rest tried again on the fresh lead."""
        results: dict[int, EventResult] = {}
        fresh: Lead | None = lead
        for _ in range(ATTEMPTS):
            if not pending:
                return results
            if fresh is None:
                results.update((p.index, EventResult(p.index, p.event.id, "unknown_lead"))
                               for p in pending)
                return results
            try:
                saved = self._store_events(lst, fresh, [p.event for p in pending])
            except Conflict:
                seen = {p.index for p in pending
                        if self._store.event_seen(lst.workspace, p.event.id)}
                results.update((p.index, EventResult(p.index, p.event.id, "duplicate",
                                                     fresh.id))
                               for p in pending if p.index in seen)
                pending = [p for p in pending if p.index not in seen]
                fresh = self._repo.get_lead(lst, fresh.id)
                continue
            if self._outbox is not None:
                self._outbox.changed(lst, fresh, saved)
            if self._announce is not None:
                self._announce.status_changed(lst, fresh, saved, cause="event")
            results.update((p.index, EventResult(p.index, p.event.id, "accepted", fresh.id))
                           for p in pending)
            return results
        results.update((p.index, _failed(p.index, p.event.id, "try_again")) for p in pending)
        return results

    def _store_events(self, lst: LeadList, lead: Lead, events: list[OutreachEvent]) -> Lead:
        now = utc_now_iso()
        after = lead
        activities: list[Activity] = []
        follow_ups: list[FollowUp] = []
        ids: list[str] = []
        for event in events:
            if event.id in ids:  # the same id twice in one batch: the first counts
                continue
            ids.append(event.id)
            after = after.with_changes(apply_event(after, event), updated_at=now)
            activities.append(event_activity(lst.workspace, lead.id, event))
            follow_up = event_follow_up(lst.workspace, lst, lead.id, event, now)
            if follow_up is not None:
                follow_ups.append(follow_up)
                activities.append(Activity(new_id("ac"), lead.id, "follow_up.created", now,
                                           {"follow_up_id": follow_up.id,
                                            "due_at": follow_up.due_at,
                                            "event_id": event.id}))
        if after.status != lead.status:
            activities.append(Activity(new_id("ac"), lead.id, "status_changed", now,
                                       {"from": lead.status, "to": after.status,
                                        "event_ids": ids}))
        return self._store.record(lst, lead, after, activities, event_ids=ids,
                                  new_follow_ups=follow_ups)


@dataclass
class _Cache:
    """What one batch looked up already: lists, leads' lists, claims, leads."""

    lists: dict[str, LeadList | None] = field(default_factory=dict)
    list_of: dict[str, str | None] = field(default_factory=dict)
    holders: dict[tuple[str, str], str | None] = field(default_factory=dict)
    leads: dict[tuple[str, str], Lead | None] = field(default_factory=dict)


def _identity_value(lst: LeadList, ref: LeadRef) -> str | None:
    """The list's identity value an event names its lead by, normalised as the
    claim was (ValidationFailed when it names another field or a bad value)."""
    if ref.field != lst.identity:
        raise ValidationFailed([FieldError(
            f"lead.{ref.field}", "not_list_identity",
            f"this list's leads are found by {lst.identity}")])
    try:
        value = parse_lead_fields({ref.field: ref.value}, default_region=lst.default_region,
                                  partial=True)[ref.field]
    except ValidationFailed as exc:
        raise ValidationFailed([FieldError(f"lead.{e.field}", e.code, e.message)
                                for e in exc.errors]) from exc
    return str(value) if value else None


def _known(cache: _Cache, list_id: str) -> LeadList:
    lst = cache.lists[list_id]
    assert lst is not None  # only lists found are prefetched
    return lst


def _failed(index: int, event_id: str | None, code: str) -> EventResult:
    message = ("not processed in this request: send it again" if code == "over_time_budget"
               else "could not be recorded now: send it again")
    return EventResult(index, event_id, "failed", reasons=(FieldError("", code, message),))

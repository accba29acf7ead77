"""A lead's follow-ups: create, list, cancel; and the job that raises them when due.

Creating or cancelling one is a change of the lead (its `next_follow_up_at`)
written with the follow-up item, its due-queue entry and a timeline entry
in one transaction on the lead's version. The scheduled job reads the due
queue (`sk <= now` on a few queue partitions: no scan) and marks each
follow-up `due` with a conditional write, so a job that runs twice, or two
at once, raises each one once; then it tells the Outbox (`follow_up.due`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.follow_ups import (
    MAX_PER_LEAD,
    PENDING,
    DueEntry,
    FollowUp,
    next_follow_up,
    parse_follow_up,
)
from chalicelib.domain.ids import deterministic_id, new_id
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.lists import ListService
from chalicelib.services.ports import Outbox, OutreachStore, Repository

ATTEMPTS = 5


class FollowUpService:
    def __init__(self, repo: Repository, lists: ListService, store: OutreachStore,
                 outbox: Outbox) -> None:
        self._repo = repo
        self._lists = lists
        self._store = store
        self._outbox = outbox

    def _lead(self, workspace: str, list_id: str, lead_id: str) -> tuple[LeadList, Lead]:
        lst = self._lists.get(workspace, list_id)
        lead = self._repo.get_lead(lst, lead_id) if lead_id.startswith("ld_") else None
        if lead is None:
            raise NotFound("Lead not found", details={"lead_id": lead_id})
        return lst, lead

    def create(self, workspace: str, list_id: str, lead_id: str,
               payload: Mapping[str, Any]) -> FollowUp:
        due_at, note = parse_follow_up(payload)
        lst, lead = self._lead(workspace, list_id, lead_id)
        now = utc_now_iso()
        follow_up = FollowUp(new_id("fu"), lead.id, lst.id, due_at, now, note=note)
        for _ in range(ATTEMPTS):
            pending = [f for f in self._store.follow_ups(lst, lead.id) if f.status in PENDING]
            if len(pending) >= MAX_PER_LEAD:
                raise ValidationFailed([FieldError(
                    "due_at", "too_many_follow_ups",
                    f"a lead has at most {MAX_PER_LEAD} pending follow-ups")])
            after = lead.with_changes(
                {"next_follow_up_at": next_follow_up([*pending, follow_up])}, updated_at=now)
            activity = Activity(new_id("ac"), lead.id, "follow_up.created", now,
                                {"follow_up_id": follow_up.id, "due_at": due_at,
                                 **({"note": note} if note else {})})
            try:
                self._store.record(lst, lead, after, [activity], new_follow_ups=[follow_up])
                return follow_up
            except Conflict:
                lead = self._lead(workspace, list_id, lead_id)[1]
        raise Conflict("The lead kept changing; try again", code="edit_conflict")

    def list(self, workspace: str, list_id: str, lead_id: str,
             status: str | None = None) -> list[FollowUp]:
        lst, lead = self._lead(workspace, list_id, lead_id)
        items = self._store.follow_ups(lst, lead.id)
        return sorted((f for f in items if status is None or f.status == status),
                      key=lambda f: (f.due_at, f.id))

    def cancel(self, workspace: str, list_id: str, lead_id: str, follow_up_id: str) -> FollowUp:
        lst, lead = self._lead(workspace, list_id, lead_id)
        for _ in range(ATTEMPTS):
            items = self._store.follow_ups(lst, lead.id)
            target = next((f for f in items if f.id == follow_up_id), None)
            if target is None:
                raise NotFound("Follow-up not found", details={"follow_up_id": follow_up_id})
            if target.status not in PENDING:
                raise Conflict(f"The follow-up is {target.status} already",
                               code="follow_up_not_pending")
            now = utc_now_iso()
            rest = [f for f in items if f.id != follow_up_id]
            after = lead.with_changes({"next_follow_up_at": next_follow_up(rest)},
                                      updated_at=now)
            activity = Activity(new_id("ac"), lead.id, "follow_up.cancelled", now,
                                {"follow_up_id": follow_up_id, "due_at": target.due_at})
            try:
                self._store.record(lst, lead, after, [activity], cancel=target)
                return FollowUp(target.id, target.lead_id, target.list_id, target.due_at,
                                target.created_at, "cancelled", target.note, target.event_id)
            except Conflict:
                lead = self._lead(workspace, list_id, lead_id)[1]
        raise Conflict("The lead kept changing; try again", code="edit_conflict")

    # --- the scheduled job ------------------------------------------------------
    def raise_due(self, *, budget_seconds: float = 40.0) -> dict[str, int]:
        """Mark every follow-up whose time has come `due`, once each."""
        deadline = time.monotonic() + budget_seconds
        counts = {"due": 0, "skipped": 0}
        lists: dict[tuple[str, str], LeadList | None] = {}
        while time.monotonic() < deadline:
            entries = list(self._store.due(utc_now_iso()))
            if not entries:
                break
            for entry in entries:
                counts["due" if self._raise(entry, lists) else "skipped"] += 1
                if time.monotonic() > deadline:
                    break
        return counts

    def _raise(self, entry: DueEntry, lists: dict[tuple[str, str], LeadList | None]) -> bool:
        key = (entry.workspace, entry.list_id)
        if key not in lists:
            lists[key] = self._repo.get_list(entry.workspace, entry.list_id)
        lst = lists[key]
        if lst is None:  # the list was deleted: nothing to raise
            self._store.drop_due(entry)
            return False
        activity = Activity(deterministic_id("ac", f"{entry.follow_up_id}\x00due",
                                             now_ms=int(time.time() * 1000)),
                            entry.lead_id, "follow_up.due", utc_now_iso(),
                            {"follow_up_id": entry.follow_up_id, "due_at": entry.due_at})
        if not self._store.mark_due(lst, entry, activity):
            return False
        self._outbox.emit(entry.workspace, "follow_up.due", {
            "follow_up_id": entry.follow_up_id, "list_id": entry.list_id,
            "lead_id": entry.lead_id, "due_at": entry.due_at})
        return True

"""Use cases on leads: add (one or a batch), read, search, edit, delete, bulk, notes."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from chalicelib.domain.activity import (
    Activity,
    describe_changes,
    parse_note,
    with_current_verdict,
)
from chalicelib.domain.bulk import BulkRequest, parse_bulk_request
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import (
    BadRequest,
    Conflict,
    DuplicateLead,
    FieldError,
    NotFound,
    ValidationFailed,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import BulkJob
from chalicelib.domain.lead import Lead, check_identity, fresh_email_status, parse_lead_fields
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.lead_batches import new_lead
from chalicelib.services.lead_search import LeadSearch
from chalicelib.services.lists import ListService
from chalicelib.services.ports import (
    JobQueue,
    LeadBatchStore,
    LeadUpdate,
    Repository,
    VerificationRequests,
)
from chalicelib.services.status_outbox import StatusOutbox
from chalicelib.services.suppressions import SuppressionService

BULK_READ = 100  # BatchGetItem's limit


class LeadService:
    def __init__(self, repo: Repository, batches: LeadBatchStore, lists: ListService,
                 jobs: JobQueue, verification: VerificationRequests, *,
                 budget_seconds: float, search: LeadSearch,
                 outbox: StatusOutbox | None = None,
                 announce: LeadAnnouncer | None = None,
                 suppressions: SuppressionService | None = None) -> None:
        self._repo = repo
        # The workspace's suppression list: a suppressed person is never added.
        self._suppressions = suppressions
        # Webhooks (services/lead_announcements.py): told of each stored change.
        self._announce = announce
        self._search = search
        self._batches = batches
        self._lists = lists
        self._jobs = jobs
        self._verification = verification
        self._budget = budget_seconds
        self._outbox = outbox

    # --- add (a batch: services/lead_batches.py) -------------------------------
    def create(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> Lead:
        lst = self._lists.get(workspace, list_id)
        lead = new_lead(lst, payload)
        activity = Activity(new_id("ac"), lead.id, "created", lead.created_at, {"source": "api"})
        return self._insert(lst, lead, activity)

    def _insert(self, lst: LeadList, lead: Lead, activity: Activity) -> Lead:
        if self._suppressions is not None:
            self._suppressions.check(lst.workspace, lead)
        self._repo.insert_lead(lst, lead, activity)
        self._verification.request(lst, [lead])
        if self._announce is not None:
            self._announce.created(lst, lead)
        return lead

    def copy(self, workspace: str, list_id: str, lead_id: str,
             payload: Mapping[str, Any]) -> Lead:
        """Add a lead to another list of the workspace (409 `duplicate` if that list
        holds the person, 409 `suppressed`), with an entry on both timelines."""
        source = self._lists.get(workspace, list_id)
        lead = self._get(source, lead_id)
        target_id = payload.get("list_id") if isinstance(payload, Mapping) else None
        if not isinstance(target_id, str) or set(payload) - {"list_id"}:
            raise ValidationFailed([FieldError("list_id", "invalid_type",
                                               "give the target list_id, and only it")])
        target = self._lists.get(workspace, target_id)
        if lead.identity_value(target.identity) is None:
            raise ValidationFailed([FieldError(target.identity, "missing_identity",
                                               f"the target list's leads need {target.identity}")])
        now = utc_now_iso()
        copy = replace(lead, id=new_id("ld"), list_id=target.id, created_at=now,
                       updated_at=now, version=0, import_mark=None, campaigns={},
                       last_activity_at=None, next_follow_up_at=None,
                       source={"type": "copy", "list_id": source.id, "lead_id": lead.id})
        self._insert(target, copy, Activity(new_id("ac"), copy.id, "copied_from", now,
                                            {"list_id": source.id, "lead_id": lead.id}))
        self._repo.add_activity(source, Activity(new_id("ac"), lead.id, "copied_to", now,
                                                 {"list_id": target.id, "lead_id": copy.id}))
        return copy

    # --- read ---------------------------------------------------------------
    def get(self, workspace: str, list_id: str, lead_id: str) -> Lead:
        lst = self._lists.get(workspace, list_id)
        return self._get(lst, lead_id)

    def _get(self, lst: LeadList, lead_id: str) -> Lead:
        lead = self._repo.get_lead(lst, lead_id) if lead_id.startswith("ld_") else None
        if lead is None:
            raise NotFound("Lead not found", details={"lead_id": lead_id})
        return lead

    def search(self, workspace: str, list_id: str, lead_filter: LeadFilter, limit: int,
               cursor: str | None, *, count: bool = False,
               ) -> tuple[list[Lead], str | None, int | None]:
        """A page of matching leads, the cursor after it, and (if asked) how many match."""
        lst = self._lists.get(workspace, list_id)
        items, next_cursor = self._search.page(lst, lead_filter, limit, cursor)
        total = self._search.count(lst, lead_filter) if count else None
        return items, next_cursor, total

    def stats(self, workspace: str, list_id: str) -> dict[str, Any]:
        return self._search.stats(self._lists.get(workspace, list_id))

    # --- edit ---------------------------------------------------------------
    def update(self, workspace: str, list_id: str, lead_id: str,
               payload: Mapping[str, Any]) -> Lead:
        lst = self._lists.get(workspace, list_id)
        before = self._get(lst, lead_id)
        changes = parse_lead_fields(payload, default_region=lst.default_region, partial=True)
        if lst.identity in changes:
            check_identity(changes, lst.identity)
        self._check_new_values(lst, before, changes)
        for _ in range(3):
            if "email" in changes and changes["email"] != before.email:
                changes = {**changes, **fresh_email_status(changes["email"])}
            try:
                with self._writing_back():
                    after = self._apply(lst, before, changes)
            except DuplicateLead:
                raise
            except Conflict:
                # Usually the verifier writing a verdict meanwhile: apply the
                # edit to the fresh lead rather than fail the request.
                before = self._get(lst, lead_id)
                continue
            if after.email and after.email != before.email:
                self._verification.request(lst, [after])
            return after
        raise Conflict("The lead changed or was deleted meanwhile; read it again",
                       code="edit_conflict")

    def _check_new_values(self, lst: LeadList, before: Lead,
                          changes: Mapping[str, Any]) -> None:
        """An edit may not give a lead a suppressed email, phone or LinkedIn URL (409
        `suppressed`); the values it keeps are not checked again."""
        if self._suppressions is None:
            return
        def fresh(name: str) -> str | None:
            value = changes.get(name)
            return value if isinstance(value, str) and value != getattr(before, name) else None

        probe = replace(before, email=fresh("email"), phone=fresh("phone"),
                        linkedin_url=fresh("linkedin_url"))
        if probe.email or probe.phone or probe.linkedin_url:
            self._suppressions.check(lst.workspace, probe)

    def _apply(self, lst: LeadList, before: Lead, changes: Mapping[str, Any]) -> Lead:
        now = utc_now_iso()
        after = before.with_changes(changes, updated_at=now)
        events = describe_changes(before, after)
        if not events:
            return before
        activities = [Activity(new_id("ac"), before.id, kind, now, data)
                      for kind, data in events]
        saved = self._repo.update_lead(lst, before, after, activities)
        if self._outbox is not None:
            self._outbox.changed(lst, before, saved)
        if self._announce is not None:
            self._announce.changed(lst, before, saved)
        return saved

    @contextmanager
    def _writing_back(self) -> Iterator[None]:
        """Status changes made inside go to the CRM write-back (and webhooks) when it ends."""
        try:
            if self._announce is None:
                yield
            else:
                with self._announce.collecting():
                    yield
        finally:
            if self._outbox is not None:
                self._outbox.flush()

    def delete(self, workspace: str, list_id: str, lead_id: str) -> None:
        lst = self._lists.get(workspace, list_id)
        lead = self._get(lst, lead_id)
        if not self._repo.delete_lead(lst, lead):
            raise Conflict("The lead changed or was deleted meanwhile; read it again",
                           code="edit_conflict")
        if self._announce is not None:
            self._announce.deleted(lst, lead.id)

    # --- bulk ---------------------------------------------------------------
    def bulk(self, workspace: str, list_id: str,
             payload: Mapping[str, Any]) -> tuple[int, bool]:
        """Apply a bulk action; returns (affected, complete).

        A selection by filter over a big list continues in the background
        when the request's time budget runs out (complete is then False).
        """
        lst = self._lists.get(workspace, list_id)
        request = parse_bulk_request(payload)
        deadline = time.monotonic() + self._budget
        if request.lead_ids is not None:
            return self.continue_bulk_ids(lst, request, deadline=deadline)
        return self.continue_bulk(lst, request, None, deadline=deadline)

    def continue_bulk_ids(self, lst: LeadList, request: BulkRequest, *,
                          deadline: float) -> tuple[int, bool]:
        with self._writing_back():
            return self._bulk_ids(lst, request, deadline)

    def continue_bulk(self, lst: LeadList, request: BulkRequest, start: str | None,
                      *, deadline: float) -> tuple[int, bool]:
        with self._writing_back():
            return self._bulk_filter(lst, request, start, deadline)

    def _bulk_ids(self, lst: LeadList, request: BulkRequest,
                  deadline: float) -> tuple[int, bool]:
        """Apply to the listed leads, read 100 at a time; past the deadline, the rest
        goes to the jobs queue."""
        ids = [i for i in request.lead_ids or () if i.startswith("ld_")]
        affected = 0
        for start in range(0, len(ids), BULK_READ):
            if start and time.monotonic() > deadline:
                rest = BulkRequest(action=request.action, lead_ids=tuple(ids[start:]),
                                   status=request.status, tags=request.tags)
                self._jobs.send(BulkJob(lst.workspace, lst.id, rest.to_job(), "").to_body())
                return affected, False
            part = ids[start:start + BULK_READ]
            found = self._batches.get_leads(lst, part)
            affected += self._apply_bulk_group(lst, request,
                                               [found[i] for i in part if i in found])
        return affected, True

    def _apply_bulk_group(self, lst: LeadList, request: BulkRequest,
                          leads: list[Lead]) -> int:
        """Status and tag changes of many leads in transactions of 50 (lead + its
        activity entry each, on the lead's version); what changed meanwhile, and
        deletes, go one by one."""
        if request.action == "delete":
            return sum(1 for lead in leads if self._apply_bulk(lst, request, lead))
        now = utc_now_iso()
        updates: list[LeadUpdate] = []
        affected = 0
        for lead in leads:
            changes = request.changes_for(lead)
            after = lead.with_changes(changes, updated_at=now) if changes else lead
            events = describe_changes(lead, after)
            if len(events) > 1:
                affected += self._apply_bulk(lst, request, lead)
            elif events:
                kind, data = events[0]
                updates.append(LeadUpdate(
                    lead, after.with_changes({"version": lead.version + 1}, updated_at=now),
                    Activity(new_id("ac"), lead.id, kind, now, data)))
        try:
            written = self._batches.update_leads(lst, updates)
        except RuntimeError:  # a transaction cancelled by a conflict: one by one instead
            written = [False] * len(updates)
        for update, ok in zip(updates, written, strict=True):
            if ok:
                affected += 1
                if self._outbox is not None:
                    self._outbox.changed(lst, update.before, update.after)
                if self._announce is not None:
                    self._announce.changed(lst, update.before, update.after, cause="bulk")
                continue
            fresh = self._repo.get_lead(lst, update.before.id)
            if fresh is not None and self._apply_bulk(lst, request, fresh):
                affected += 1
        return affected

    def _bulk_filter(self, lst: LeadList, request: BulkRequest, start: str | None,
                     deadline: float) -> tuple[int, bool]:
        lead_filter = request.filter or LeadFilter()
        affected = 0
        for lead, position, matched in self._search.examine(lst, lead_filter, start):
            if matched and self._apply_bulk(lst, request, lead):
                affected += 1
            if time.monotonic() > deadline:
                self._jobs.send(BulkJob(lst.workspace, lst.id, request.to_job(),
                                        position).to_body())
                return affected, False
        return affected, True

    def _apply_bulk(self, lst: LeadList, request: BulkRequest, lead: Lead) -> bool:
        for _ in range(3):  # re-read and retry when an edit raced with us
            try:
                if request.action == "delete":
                    deleted = self._repo.delete_lead(lst, lead)
                    if deleted and self._announce is not None:
                        self._announce.deleted(lst, lead.id)
                    return deleted
                changes = request.changes_for(lead)
                if changes is None:
                    return False
                self._apply(lst, lead, changes)
                return True
            except Conflict:
                fresh = self._repo.get_lead(lst, lead.id)
                if fresh is None:
                    return False
                lead = fresh
        return False

    # --- activity -------------------------------------------------------------
    def activity(self, workspace: str, list_id: str, lead_id: str, limit: int,
                 cursor: str | None) -> tuple[list[Activity], str | None]:
        lst = self._lists.get(workspace, list_id)
        lead = self._get(lst, lead_id)
        after = None
        if cursor:
            after = decode_cursor(cursor).get("k")
            if not isinstance(after, str) or not after.startswith(f"A#{lead_id}#"):
                raise BadRequest("cursor is not valid", code="invalid_cursor")
        items, last = self._repo.query_activity(lst, lead_id, limit, after)
        if cursor is None and lead.email_checked_at:
            items = with_current_verdict(items, lead)
        if last is None and lead.source and "import_id" in lead.source:
            # An imported lead's first entry is its import, kept on the lead itself.
            items.append(Activity(f"ac_import_{lead.id}", lead.id, "imported",
                                  lead.created_at, dict(lead.source)))
        return items, (encode_cursor({"k": last}) if last else None)

    def add_note(self, workspace: str, list_id: str, lead_id: str,
                 payload: Mapping[str, Any]) -> Activity:
        lst = self._lists.get(workspace, list_id)
        self._get(lst, lead_id)
        text = parse_note(payload)
        note = Activity(new_id("ac"), lead_id, "note_added", utc_now_iso(), {"text": text})
        self._repo.add_activity(lst, note)
        return note

"""Use cases on lists: create, read, rename, filterable fields, delete, duplicate."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import LeadPosition, decode_cursor, encode_cursor
from chalicelib.domain.custom_index import FilterableField, mark_ready, parse_filterable
from chalicelib.domain.errors import BadRequest, DuplicateLead, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import CopyListJob, IndexFieldsJob, PurgeListJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import (
    LeadList,
    parse_duplicate,
    parse_list_create,
    parse_list_update,
)
from chalicelib.services.ports import JobQueue, LeadIndexReader, Repository
from chalicelib.services.suppressions import SuppressionService


def every_list(repo: Repository, workspace: str) -> Iterator[LeadList]:
    """Each of the workspace's lists, page by page (background jobs' walks)."""
    after: str | None = None
    while True:
        lists, after = repo.query_lists(workspace, 100, after)
        yield from lists
        if after is None:
            return

class ListService:
    def __init__(self, repo: Repository, jobs: JobQueue, *, shards: int,
                 budget_seconds: float, index: LeadIndexReader,
                 settle_seconds: int = 150,
                 suppressions: SuppressionService | None = None) -> None:
        self._repo = repo
        # A duplicate list leaves out the workspace's suppressed people.
        self._suppressions = suppressions
        self._index = index
        self._settle = settle_seconds
        self._jobs = jobs
        self._shards = shards
        self._budget = budget_seconds

    def get(self, workspace: str, list_id: str) -> LeadList:
        lst = self._repo.get_list(workspace, list_id)
        if lst is None:
            raise NotFound("List not found", details={"list_id": list_id})
        return lst

    def to_api(self, lst: LeadList) -> dict[str, Any]:
        return lst.to_api(self._repo.lead_counts([lst])[lst.id])

    def create(self, workspace: str, payload: Mapping[str, Any]) -> LeadList:
        values = parse_list_create(payload)
        now = utc_now_iso()
        lst = LeadList(id=new_id("ls"), workspace=workspace, name=values["name"],
                       identity=values["identity"], default_region=values["default_region"],
                       shards=self._shards, created_at=now, updated_at=now)
        self._repo.create_list(lst)
        return lst

    def page(self, workspace: str, limit: int,
             cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        after = None
        if cursor:
            after = decode_cursor(cursor).get("k")
            if not isinstance(after, str) or not after.startswith("LIST#"):
                raise BadRequest("cursor is not valid", code="invalid_cursor")
        lists, last = self._repo.query_lists(workspace, limit, after)
        counts = self._repo.lead_counts(lists)
        items = [lst.to_api(counts[lst.id]) for lst in lists]
        return items, (encode_cursor({"k": last}) if last else None)

    def update(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> LeadList:
        lst = self.get(workspace, list_id)
        changes: dict[str, Any] = dict(parse_list_update(payload))
        added: list[FilterableField] = []
        dropped: list[FilterableField] = []
        if "filterable_fields" in payload:
            fields = parse_filterable(payload["filterable_fields"], lst.filterable_fields,
                                      lst.next_generation)
            added = [f for f in fields if f not in lst.filterable_fields]
            # An unmarked text field's words leave the search index in the background.
            dropped = [f for f in lst.filterable_fields
                       if f.type == "text" and f.ready and f not in fields]
            if (added or dropped) and not self._repo.lead_counts([lst])[lst.id]:
                fields = mark_ready(fields, [f.generation for f in added])  # nothing to index
                added, dropped = [], []
            changes.update(
                filterable_fields=fields,
                next_generation=max([lst.next_generation - 1, *(f.generation for f in fields)])
                + 1,
                field_history=lst.field_history + tuple(
                    f"{f.key}#{f.generation}" for f in fields
                    if f"{f.key}#{f.generation}" not in lst.field_history))
        if changes:
            lst = replace(lst, **changes, updated_at=utc_now_iso())
            self._repo.save_list(lst)
        if added or dropped:
            # It starts once writers that read the list before have finished.
            self._jobs.send(IndexFieldsJob(
                workspace, lst.id, tuple(f.generation for f in added), None,
                tuple(f.to_record() for f in dropped)).to_body(), delay_seconds=self._settle)
        return lst

    def index_fields(self, job: IndexFieldsJob, start: LeadPosition | None, *,
                     deadline: float) -> bool:
        """Index existing leads for newly filterable fields and take out dropped
        text fields' words; False if time ran out (a continuation was sent).
        Marks the new fields ready when done."""
        lst = self._repo.get_list(job.workspace, job.list_id)
        if lst is None:
            return True
        new = [f for f in lst.filterable_fields if f.generation in job.generations
               and not f.ready]
        dropped = [FilterableField.from_record(d) for d in job.dropped]
        if not new and not dropped:  # unmarked meanwhile, or done by an earlier delivery
            return True
        before = tuple(f for f in lst.filterable_fields if f not in new) + tuple(dropped)
        batch: list[Lead] = []
        for lead, position in self._repo.walk_leads(lst, start, page_size=100):
            batch.append(lead)
            if len(batch) >= 100:
                self._index_batch(lst, batch, before)
                batch = []
                if time.monotonic() > deadline:
                    self._jobs.send(replace(job, position=position.encode()).to_body())
                    return False
        self._index_batch(lst, batch, before)
        fresh = self._repo.get_list(job.workspace, job.list_id)
        if fresh is not None and new:
            self._repo.save_list(replace(fresh, filterable_fields=mark_ready(
                fresh.filterable_fields, job.generations), updated_at=utc_now_iso()))
        return True

    def _index_batch(self, lst: LeadList, leads: list[Lead],
                     before: tuple[FilterableField, ...]) -> None:
        for _ in range(5):  # leads edited meanwhile are read again
            changed = self._index.index_existing(lst, leads, before) if leads else []
            leads = [lead for lead in (self._repo.get_lead(lst, i) for i in changed) if lead]
            if not leads:
                return
        raise RuntimeError("leads kept changing while being indexed; retried later")

    def delete(self, workspace: str, list_id: str) -> None:
        """The list disappears at once; its leads are purged in the background."""
        lst = self.get(workspace, list_id)
        # Enqueue first: if the send fails the list is still there, nothing orphaned.
        self._jobs.send(PurgeListJob(
            lst.id, workspace, lst.identity, lst.shards,
            tuple(f.to_record() for f in lst.filterable_fields), lst.field_history).to_body())
        self._repo.delete_list_record(lst)

    def duplicate(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> LeadList:
        source = self.get(workspace, list_id)
        now = utc_now_iso()
        copy = LeadList(id=new_id("ls"), workspace=workspace, name=parse_duplicate(payload),
                        identity=source.identity, default_region=source.default_region,
                        shards=self._shards, created_at=now, updated_at=now,
                        copy_status="copying",
                        # The copy indexes the same fields as it is filled.
                        filterable_fields=tuple(replace(f, ready=True)
                                                for f in source.filterable_fields),
                        next_generation=source.next_generation,
                        field_history=tuple(f"{f.key}#{f.generation}"
                                            for f in source.filterable_fields))
        self._repo.create_list(copy)
        return self.continue_copy(workspace, source.id, copy.id, None,
                                  deadline=time.monotonic() + self._budget)

    def continue_copy(self, workspace: str, source_id: str, copy_id: str,
                      start: LeadPosition | None, *, deadline: float) -> LeadList:
        """Copy leads until done or out of time; the rest goes to the jobs queue.

        Safe to run twice from one position: a lead already copied hits the
        copy's identity claim and is skipped.
        """
        source = self._repo.get_list(workspace, source_id)
        copy = self._repo.get_list(workspace, copy_id)
        if copy is None:
            raise NotFound("List not found", details={"list_id": copy_id})
        if source is not None:
            for lead, position in self._repo.walk_leads(source, start):
                now = utc_now_iso()
                clone = lead.with_changes(
                    {"id": new_id("ld"), "list_id": copy.id, "created_at": now, "version": 0},
                    updated_at=now,
                )
                activity = Activity(new_id("ac"), clone.id, "created", now,
                                    {"source": "duplicate", "copied_from":
                                     {"list_id": source.id, "lead_id": lead.id}})
                if self._suppressions is None or \
                        self._suppressions.matches(workspace, [clone])[0] is None:
                    with contextlib.suppress(DuplicateLead):
                        self._repo.insert_lead(copy, clone, activity)
                if time.monotonic() > deadline:
                    self._jobs.send(CopyListJob(workspace, source.id, copy.id,
                                                position.encode()).to_body())
                    return copy
        copy = LeadList(**{**copy.__dict__, "copy_status": None, "updated_at": utc_now_iso()})
        self._repo.save_list(copy)
        return copy

    def ensure_deleted(self, workspace: str, list_id: str) -> None:
        """Raise (the message is retried) while the list record still exists."""
        if self._repo.get_list(workspace, list_id) is not None:
            raise RuntimeError("list still exists; purge retried later")

    def purge(self, job: PurgeListJob, *, deadline: float) -> bool:
        """Delete a deleted list's items; False if time ran out first (call again).

        Leads go with their claims and postings (found from the leads, with
        the list's filterable fields); then the postings of every field
        generation the list ever had, by their keys (an unmarked field's
        postings are not reachable from the leads any more).
        """
        self.ensure_deleted(job.workspace, job.list_id)
        fields = tuple(FilterableField.from_record(f) for f in job.fields)
        for shard in range(job.shards):
            while self._repo.purge_shard_page(job.list_id, job.identity, shard, fields):
                if time.monotonic() > deadline:
                    return False
            for field in job.field_history:
                while self._repo.purge_postings_page(f"CF#{job.list_id}#{shard:03d}#{field}"):
                    if time.monotonic() > deadline:
                        return False
        return True

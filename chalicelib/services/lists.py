"""Use cases on lists: create, read, rename, delete, duplicate."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import LeadPosition, decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, DuplicateLead, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import CopyListJob, PurgeListJob
from chalicelib.domain.lead_list import (
    LeadList,
    parse_duplicate,
    parse_list_create,
    parse_list_update,
)
from chalicelib.services.ports import JobQueue, Repository


class ListService:
    def __init__(self, repo: Repository, jobs: JobQueue, *, shards: int,
                 budget_seconds: float) -> None:
        self._repo = repo
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
        lst = LeadList(id=new_id("ls"), workspace=workspace, shards=self._shards,
                       created_at=now, updated_at=now, **values)
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
        changes = parse_list_update(payload)
        if changes:
            lst = LeadList(**{**lst.__dict__, **changes, "updated_at": utc_now_iso()})
            self._repo.save_list(lst)
        return lst

    def delete(self, workspace: str, list_id: str) -> None:
        """The list disappears at once; its leads are purged in the background."""
        lst = self.get(workspace, list_id)
        # Enqueue first: if the send fails the list is still there, nothing orphaned.
        self._jobs.send(PurgeListJob(lst.id, workspace, lst.identity, lst.shards).to_body())
        self._repo.delete_list_record(lst)

    def duplicate(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> LeadList:
        source = self.get(workspace, list_id)
        now = utc_now_iso()
        copy = LeadList(id=new_id("ls"), workspace=workspace, name=parse_duplicate(payload),
                        identity=source.identity, default_region=source.default_region,
                        shards=self._shards, created_at=now, updated_at=now,
                        copy_status="copying")
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

    def purge(self, list_id: str, workspace: str, identity: str, shards: int,
              *, deadline: float) -> bool:
        """Delete a deleted list's items; False if time ran out first (call again)."""
        self.ensure_deleted(workspace, list_id)
        for shard in range(shards):
            while self._repo.purge_shard_page(list_id, identity, shard):
                if time.monotonic() > deadline:
                    return False
        return True

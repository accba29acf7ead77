"""What a change to leads announces to webhooks: the event types and their `data`.

Called by every path that changes single leads (API create/edit/delete, batch
adds, bulk actions, events in, verification verdicts) after the change is
stored. Imports announce `import.completed` once, never a per-lead event
(a million-row import would be a million messages per endpoint).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.ports import Outbox


class LeadAnnouncer:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Announcements inside are queued together when the block ends."""
        collect = getattr(self._outbox, "collecting", None)
        with collect() if collect is not None else nullcontext():
            yield

    def created(self, lst: LeadList, lead: Lead) -> None:
        self._outbox.emit(lst.workspace, "lead.created",
                          {"list_id": lst.id, "lead": lead.to_api()})

    def changed(self, lst: LeadList, before: Lead, after: Lead, *,
                cause: str = "api") -> None:
        if after is before:
            return
        self._outbox.emit(lst.workspace, "lead.updated",
                          {"list_id": lst.id, "lead": after.to_api(), "cause": cause,
                           "changed": _changed_fields(before, after)})
        self.status_changed(lst, before, after, cause=cause)

    def status_changed(self, lst: LeadList, before: Lead, after: Lead, *,
                       cause: str) -> None:
        """Only `lead.status_changed` (events in: each event moves last_activity_at,
        announcing every one as lead.updated would be noise)."""
        if before.status != after.status:
            self._outbox.emit(lst.workspace, "lead.status_changed",
                              {"list_id": lst.id, "lead_id": after.id,
                               "previous_status": before.status, "status": after.status,
                               "cause": cause, "lead": after.to_api()})

    def deleted(self, lst: LeadList, lead_id: str) -> None:
        self._outbox.emit(lst.workspace, "lead.deleted", {"list_id": lst.id, "lead_id": lead_id})

    def verified(self, workspace: str, list_id: str, lead_id: str, email: str,
                 email_status: str, reason: str | None) -> None:
        self._outbox.emit(workspace, "lead.verified",
                          {"list_id": list_id, "lead_id": lead_id, "email": email,
                           "email_status": email_status, "email_status_reason": reason})

    def import_finished(self, job: ImportJob) -> None:
        """`import.completed` for an import that completed (with or without errors)."""
        if job.status.value not in ("completed", "completed_with_errors"):
            return
        self._outbox.emit(job.workspace, "import.completed", _import_data(job))


def _changed_fields(before: Lead, after: Lead) -> list[str]:
    old, new = before.to_api(), after.to_api()
    return sorted(k for k in new if k not in ("updated_at",) and old.get(k) != new.get(k))


def _import_data(job: ImportJob) -> Mapping[str, Any]:
    return {"import_id": job.id, "list_id": job.list_id, "status": job.status.value,
            "source": job.source, "started_at": job.started_at,
            "finished_at": job.finished_at, "counts": job.counts.as_dict()}

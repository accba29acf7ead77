"""Leads whose status changed and who came from a CRM: queued for the status write-back.

Collected while a request (or a bulk job) changes leads and flushed at its
end as jobs of at most 100 leads, so a bulk action on 1,000 synced leads is
ten write-back jobs, each one batch call to the CRM. Only leads carrying a
CRM id (custom:hubspot_id / custom:salesforce_id, set by a sync) are queued;
the job checks whether their list's syncs write back. Per thread: the local
API server is threaded, a Lambda is not.
"""

from __future__ import annotations

import threading

from chalicelib.domain.job_messages import StatusWritebackJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.status_writeback import CRM_ID_FIELD
from chalicelib.services.ports import JobQueue

BATCH = 100
_CRM_IDS = frozenset(CRM_ID_FIELD.values())


class StatusOutbox:
    def __init__(self, jobs: JobQueue) -> None:
        self._jobs = jobs
        self._local = threading.local()

    def _pending(self) -> dict[tuple[str, str], list[str]]:
        pending: dict[tuple[str, str], list[str]] | None = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = {}
        return pending

    def changed(self, lst: LeadList, before: Lead, after: Lead) -> None:
        if before.status != after.status and _CRM_IDS & set(after.custom_fields):
            self._pending().setdefault((lst.workspace, lst.id), []).append(after.id)

    def flush(self) -> None:
        pending = self._pending()
        for (workspace, list_id), ids in pending.items():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), BATCH):
                self._jobs.send(StatusWritebackJob(workspace, list_id,
                                                   tuple(unique[start:start + BATCH])).to_body())
        pending.clear()

"""Writing synced leads' statuses back to their CRM (a `status_writeback` job).

The job names up to 100 leads of one list whose status changed; their
*current* status is written (a lead changed twice is written once, as it
is now), through every sync of the list that has `write_back_status`, in
the CRM's batch call (HubSpot batch/update of 100, Salesforce composite of
200). A value the CRM refuses is reported per lead on the sync
(`write_back.rejected`) and not retried; a failure of the CRM itself (429s,
5xx after retries, a refused token) raises, so SQS retries the job and, if
it keeps failing, keeps it in the jobs DLQ: a status is never silently lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.connections import Provider
from chalicelib.domain.job_messages import StatusWritebackJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.status_writeback import (
    CRM_ID_FIELD,
    MAX_REJECTIONS_SHOWN,
    STATUS_FIELD,
    crm_value,
)
from chalicelib.domain.syncs import Sync
from chalicelib.services.connections import ConnectionService
from chalicelib.services.crm_ports import CrmAuth, CrmReader, CrmUnauthorized, WriteResult
from chalicelib.services.lists import ListService
from chalicelib.services.ports import LeadBatchStore


class WritebackStore(Protocol):
    def for_workspace(self, workspace: str, list_id: str | None = None) -> list[Sync]: ...
    def record_write_back(self, sync: Sync, written: int,
                          rejected: Sequence[Mapping[str, Any]], at: str) -> None: ...


class StatusWriteback:
    def __init__(self, lists: ListService, leads: LeadBatchStore, syncs: WritebackStore,
                 connections: ConnectionService, readers: Mapping[Provider, CrmReader]) -> None:
        self._lists = lists
        self._leads = leads
        self._syncs = syncs
        self._connections = connections
        self._readers = readers

    def run(self, job: StatusWritebackJob) -> None:
        lst = self._lists.get(job.workspace, job.list_id)
        syncs = [s for s in self._syncs.for_workspace(job.workspace, lst.id)
                 if s.write_back_status]
        if not syncs:
            return
        leads = self._leads.get_leads(lst, job.lead_ids)
        for sync in syncs:
            self._write(sync, leads.values())

    def _write(self, sync: Sync, leads: Any) -> None:
        updates: list[tuple[str, dict[str, str]]] = []
        lead_of: dict[str, Lead] = {}
        for lead in leads:
            crm_id = lead.custom_fields.get(CRM_ID_FIELD[sync.provider])
            value = crm_value(sync.provider, sync.status_mapping, lead.status)
            if crm_id in (None, "") or value is None:
                continue
            updates.append((str(crm_id), {STATUS_FIELD[sync.provider]: value}))
            lead_of[str(crm_id)] = lead
        if not updates:
            return
        results = self._call(sync, updates)
        rejected = [{"lead_id": lead_of[r.id].id if r.id in lead_of else None, "crm_id": r.id,
                     "status": lead_of[r.id].status if r.id in lead_of else None,
                     "code": r.code, "message": r.message} for r in results if not r.ok]
        self._syncs.record_write_back(sync, sum(1 for r in results if r.ok),
                                      rejected[:MAX_REJECTIONS_SHOWN], utc_now_iso())

    def _call(self, sync: Sync, updates: list[tuple[str, dict[str, str]]]) -> list[WriteResult]:
        reader = self._readers[sync.provider]
        _, credentials = self._connections.credentials(sync.workspace, sync.connection_id)
        auth = CrmAuth(credentials.access_token or "", credentials.instance_url)
        try:
            return reader.write(auth, sync.crm_object, updates)
        except CrmUnauthorized:
            _, credentials = self._connections.after_unauthorized(
                sync.workspace, sync.connection_id, credentials)
            return reader.write(CrmAuth(credentials.access_token or "",
                                        credentials.instance_url), sync.crm_object, updates)

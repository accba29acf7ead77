"""Sync runs match a record to its lead by CRM id too, not only by the list's identity.

Every lead a sync run saves or updates is linked to its CRM id
(adapters/dynamo_external_ids.py). Before a run's rows are saved, a row whose
CRM id is linked to a lead with another identity value (the contact's email
changed in the CRM) first moves that lead to the new value — the identity
claim moves in the same transaction — so the row then updates it instead of
creating a second lead for the same person. If another lead already holds the
new value, nothing is moved and the row goes the usual way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import Conflict, DuplicateLead
from chalicelib.domain.ids import new_id
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.lead import Lead, fresh_email_status
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.status_writeback import CRM_ID_FIELD
from chalicelib.services.ports import LeadBatchStore, Repository, VerificationRequests


class ExternalIdStore(Protocol):
    def lead_ids(self, list_id: str, provider: str, crm_ids: Iterable[str]) -> dict[str, str]: ...
    def link(self, list_id: str, provider: str, pairs: Mapping[str, str]) -> None: ...


def _provider(job: ImportJob) -> Provider | None:
    return Provider(job.source) if job.source in CRM_ID_FIELD else None


def _crm_id(lead: Lead, provider: Provider) -> str | None:
    value = lead.custom_fields.get(CRM_ID_FIELD[provider])
    return str(value) if value not in (None, "") else None


class CrmLinks:
    def __init__(self, store: ExternalIdStore, repo: Repository, leads: LeadBatchStore,
                 verification: VerificationRequests) -> None:
        self._store = store
        self._repo = repo
        self._leads = leads
        self._verification = verification

    def before_save(self, job: ImportJob, lst: LeadList, leads: Sequence[Lead]) -> None:
        provider = _provider(job)
        if provider is None:
            return
        rows = {crm_id: lead for lead in leads if (crm_id := _crm_id(lead, provider))}
        linked = self._store.lead_ids(lst.id, provider.value, rows)
        if not linked:
            return
        current = self._leads.get_leads(lst, list(linked.values()))
        moved: list[Lead] = []
        for crm_id, lead_id in linked.items():
            lead = current.get(lead_id)
            value = rows[crm_id].identity_value(lst.identity)
            if lead is None or not value or value == lead.identity_value(lst.identity):
                continue
            now = utc_now_iso()
            changes: dict[str, object] = {lst.identity: value}
            if lst.identity == "email":
                changes.update(fresh_email_status(value))
            after = lead.with_changes(changes, updated_at=now)
            note = Activity(new_id("ac"), lead.id, "identity_changed_in_crm", now,
                            {"provider": provider.value, "crm_id": crm_id,
                             "field": lst.identity, "import_id": job.id})
            try:
                moved.append(self._repo.update_lead(lst, lead, after, [note]))
            except (DuplicateLead, Conflict):
                continue  # the new value is another lead's, or the lead changed: as usual
        if moved and lst.identity == "email":
            self._verification.request(lst, moved)

    def after_save(self, job: ImportJob, lst: LeadList,
                   saved: Sequence[tuple[str, Lead]]) -> None:
        provider = _provider(job)
        if provider is None:
            return
        pairs = {crm_id: lead_id for lead_id, row in saved
                 if (crm_id := _crm_id(row, provider))}
        if pairs:
            self._store.link(lst.id, provider.value, pairs)

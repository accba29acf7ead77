"""`POST /erasures`: forget a person (GDPR right to be forgotten), within minutes.

The request suppresses the person by hash alone (reason `erased`, so no
import, batch or sync brings them back from that moment), saves an audit
record and queues a job carrying the hash only. The job, idempotent (SQS
delivers at least once), removes every lead of the person in the workspace
(found by the people index) with its timeline, follow-ups, feed and due
entries, announces `lead.deleted` through the Outbox, takes the person's
rows out of the workspace's stored error reports, then marks the record
completed with counts. See docs/suppression.md, "Erasure".
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.erasure import COMPLETED, Erasure
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import ErasePersonJob
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import HashedPerson, cell_is, parse_person
from chalicelib.services.import_report import ErrorReport
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.people_ports import ErasureStore
from chalicelib.services.ports import FileStore, ImportStore, JobQueue, Repository
from chalicelib.services.suppressions import PeopleService, SuppressionService

# A report line: row, outcome, codes, reason, then the file's own cells.
_REPORT_FIXED = 4


class ErasureService:
    def __init__(self, store: ErasureStore, suppressions: SuppressionService,
                 people: PeopleService, repo: Repository, imports: ImportStore,
                 files: FileStore, jobs: JobQueue, *,
                 announce: LeadAnnouncer | None = None) -> None:
        self._store = store
        self._suppressions = suppressions
        self._people = people
        self._repo = repo
        self._imports = imports
        self._files = files
        self._jobs = jobs
        self._announce = announce

    def start(self, workspace: str, payload: Mapping[str, Any],
              requested_by: str | None) -> Erasure:
        unknown = set(payload) - {"email", "phone", "linkedin_url"}
        if unknown:
            raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                    for k in sorted(unknown)])
        person = parse_person(payload).hashed()
        erasure = Erasure(new_id("er"), workspace, person.kind, utc_now_iso(),
                          requested_by or "unknown")
        self._suppressions.suppress_hash(workspace, person, "erased")
        self._store.save(erasure)
        self._jobs.send(ErasePersonJob(workspace, erasure.id, person.kind,
                                       person.hash).to_body())
        return erasure

    def get(self, workspace: str, erasure_id: str) -> Erasure:
        found = self._store.get(workspace, erasure_id) \
            if erasure_id.startswith("er_") and len(erasure_id) <= 64 else None
        if found is None:
            raise NotFound("Erasure not found", details={"erasure_id": erasure_id})
        return found

    def run(self, job: ErasePersonJob, *, deadline: float | None = None) -> None:
        """Leads first, then error reports list by list; out of time, the rest is
        sent back to the jobs queue (after the last list done), counts kept."""
        erasure = self._store.get(job.workspace, job.erasure_id)
        if erasure is None or erasure.status == COMPLETED:
            return
        person = HashedPerson(job.kind, job.hash)
        leads, lists = self._erase_leads(job.workspace, person)
        erasure = replace(erasure, leads_deleted=erasure.leads_deleted + leads,
                          lists_touched=erasure.lists_touched + lists)
        rows, last = self._erase_report_rows(job.workspace, person, job.after_list, deadline)
        erasure = replace(erasure, report_rows_removed=erasure.report_rows_removed + rows)
        if last is not None:
            self._store.save(erasure)
            self._jobs.send(replace(job, after_list=last).to_body())
            return
        self._store.save(erasure.finished(utc_now_iso(), leads=erasure.leads_deleted,
                                          lists=erasure.lists_touched,
                                          rows=erasure.report_rows_removed))

    def _erase_leads(self, workspace: str, person: HashedPerson) -> tuple[int, int]:
        deleted = 0
        lists: set[str] = set()
        for _ in range(3):  # a lead edited meanwhile is read again
            found = self._people.leads_of(workspace, [person])
            if not found:
                break
            for lst, lead in found:
                self._store.erase_lead_items(lst, lead.id)
                if self._repo.delete_lead(lst, lead):
                    deleted += 1
                    lists.add(lst.id)
                    if self._announce is not None:
                        self._announce.deleted(lst, lead.id)
        return deleted, len(lists)

    def _lists(self, workspace: str) -> Iterator[LeadList]:
        after: str | None = None
        while True:
            items, after = self._repo.query_lists(workspace, 100, after)
            yield from items
            if after is None:
                return

    def _erase_report_rows(self, workspace: str, person: HashedPerson, after_list: str | None,
                           deadline: float | None) -> tuple[int, str | None]:
        """Rows removed, and the last list done when time ran out (None: all done)."""
        removed = 0
        for lst in self._lists(workspace):
            if after_list is not None and lst.id <= after_list:
                continue
            after: str | None = None
            while True:
                ids, after = self._imports.list_ids(lst.id, 100, after)
                for import_id in ids:
                    removed += self._clean_report(import_id, person, lst.default_region)
                if after is None:
                    break
            if deadline is not None and time.monotonic() > deadline:
                return removed, lst.id
        return removed, None

    def _clean_report(self, import_id: str, person: HashedPerson, region: str) -> int:
        removed = 0
        prefix = f"errors/{import_id}/"
        report_key = ErrorReport.report_key(import_id)
        for stored in list(self._files.listing(prefix)):
            if stored.key == report_key:
                continue
            data = self._files.get_bytes(stored.key)
            if data is None:
                continue
            rows = list(csv.reader(io.StringIO(data.decode())))
            kept = [r for r in rows if not any(
                cell_is(person.kind, person.hash, c, default_region=region)
                for c in r[_REPORT_FIXED:])]
            if len(kept) == len(rows):
                continue
            removed += len(rows) - len(kept)
            if kept:
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\r\n").writerows(kept)
                self._files.put_bytes(stored.key, buffer.getvalue().encode())
            else:
                self._files.delete(stored.key)
        if removed:  # the assembled report held the rows too: made again on demand
            self._files.delete(report_key)
        return removed

"""`POST /erasures`: forget a person (GDPR right to be forgotten), within minutes.

The request suppresses the person by hash alone (reason `erased`, so no
import, batch or sync brings them back from that moment), saves an audit
record and queues a job carrying the hash only. The job, idempotent (SQS
delivers at least once), removes every lead of the person in the workspace
(found by the people index) with its timeline, follow-ups, feed and due
entries, announces `lead.deleted` through the Outbox, redacts the events
holding the person in the webhook delivery logs (erasure_deliveries.py),
takes the person out of the workspace's stored files (error reports, import
copies, exports: erasure_files.py), then marks the record completed with
counts.
See docs/suppression.md, "Erasure".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.erasure import COMPLETED, Erasure
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.ids import is_id, new_id
from chalicelib.domain.job_messages import ErasePersonJob
from chalicelib.domain.people import HashedPerson, parse_person
from chalicelib.services.erasure_deliveries import PersonDeliveries
from chalicelib.services.erasure_files import FilesOutcome, PersonFiles
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.lists import every_list
from chalicelib.services.people_ports import ErasureStore
from chalicelib.services.ports import JobQueue, Repository
from chalicelib.services.suppressions import PeopleService, SuppressionService

# Imports and exports still moving: looked at again every 2 minutes, for up to
# 2 hours (an import of a million rows takes minutes; the watchdog fails a
# stuck one well before), then the erasure completes with what it removed.
RECHECK_SECONDS = 120
MAX_RECHECKS = 60


class ErasureService:
    def __init__(self, store: ErasureStore, suppressions: SuppressionService,
                 people: PeopleService, repo: Repository, person_files: PersonFiles,
                 deliveries: PersonDeliveries, jobs: JobQueue, *,
                 announce: LeadAnnouncer | None = None) -> None:
        self._store = store
        self._suppressions = suppressions
        self._people = people
        self._repo = repo
        self._person_files = person_files
        self._deliveries = deliveries
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
            if is_id(erasure_id, "er") else None
        if found is None:
            raise NotFound("Erasure not found", details={"erasure_id": erasure_id})
        return found

    def run(self, job: ErasePersonJob, *, deadline: float | None = None) -> None:
        """Leads first, then stored files list by list; out of time, the rest is sent
        back to the jobs queue (after the last list done), counts kept. Imports and
        exports still moving are looked at again a little later (RECHECK_SECONDS),
        up to MAX_RECHECKS times."""
        erasure = self._store.get(job.workspace, job.erasure_id)
        if erasure is None or erasure.status == COMPLETED:
            return
        person = HashedPerson(job.kind, job.hash)
        leads, lists = self._erase_leads(job.workspace, person)
        erasure = replace(erasure, leads_deleted=erasure.leads_deleted + leads,
                          lists_touched=erasure.lists_touched + lists)
        if not job.deliveries_done:
            redacted, at = self._deliveries.clean(job.workspace, person, job.after_delivery,
                                                  deadline)
            erasure = replace(erasure,
                              deliveries_redacted=erasure.deliveries_redacted + redacted)
            if at is not None:
                self._store.save(erasure)
                self._jobs.send(replace(job, after_delivery=at).to_body())
                return
            job = replace(job, deliveries_done=True, after_delivery=None)
        done, last = self._erase_from_files(job.workspace, person, job.after_list, deadline)
        erasure = replace(erasure,
                          report_rows_removed=erasure.report_rows_removed + done.report_rows,
                          import_copies_removed=erasure.import_copies_removed + done.copies,
                          exports_removed=erasure.exports_removed + done.exports)
        if last is not None:
            self._store.save(erasure)
            self._jobs.send(replace(job, after_list=last).to_body())
            return
        if done.pending and job.rechecks < MAX_RECHECKS:
            # The pass is redone whole: idempotent, and a moving import may have
            # saved the person before the suppression was written.
            self._store.save(erasure)
            self._jobs.send(replace(job, after_list=None, rechecks=job.rechecks + 1,
                                    deliveries_done=False).to_body(),
                            delay_seconds=RECHECK_SECONDS)
            return
        self._store.save(erasure.finished(utc_now_iso()))

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

    def _erase_from_files(self, workspace: str, person: HashedPerson,
                          after_list: str | None,
                          deadline: float | None) -> tuple[FilesOutcome, str | None]:
        """What was removed, and the last list done when time ran out (None: all done)."""
        done = FilesOutcome()
        for lst in every_list(self._repo, workspace):
            if after_list is not None and lst.id <= after_list:
                continue
            done.add(self._person_files.clean_list(lst, person))
            if deadline is not None and time.monotonic() > deadline:
                return done, lst.id
        return done, None

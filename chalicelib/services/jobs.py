"""Background jobs from the jobs queue: list purge and copy, bulk actions, batches, exports…

Each job is idempotent (SQS delivers at least once) and works within a time
budget; what is left is sent back to the queue as a continuation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.bulk import BulkRequest
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.job_messages import (
    BatchInsertJob,
    CopyListJob,
    ErasePersonJob,
    ExportJob,
    IndexFieldsJob,
    IndexPeopleJob,
    PurgeListJob,
    StatusWritebackJob,
    parse_job,
)
from chalicelib.services.erasures import ErasureService
from chalicelib.services.exports import ExportService
from chalicelib.services.import_erasure import ImportEraser
from chalicelib.services.lead_batches import LeadBatches
from chalicelib.services.leads import LeadService
from chalicelib.services.lists import ListService
from chalicelib.services.people_backfill import PeopleBackfill
from chalicelib.services.ports import JobQueue
from chalicelib.services.status_writeback import StatusWriteback


class JobRunner:
    def __init__(self, lists: ListService, leads: LeadService, batches: LeadBatches,
                 imports: ImportEraser, jobs: JobQueue, *, budget_seconds: float,
                 writeback: StatusWriteback | None = None,
                 exports: ExportService | None = None,
                 erasures: ErasureService | None = None,
                 people: PeopleBackfill | None = None) -> None:
        self._erasures = erasures
        self._people = people
        self._lists = lists
        self._leads = leads
        self._batches = batches
        self._writeback = writeback
        self._exports = exports
        self._imports = imports
        self._jobs = jobs
        self._budget = budget_seconds

    def run(self, body: Mapping[str, Any]) -> None:
        deadline = time.monotonic() + self._budget
        job = parse_job(body)
        if isinstance(job, PurgeListJob):
            # The job is sent before the list record is deleted: wait for that.
            self._lists.ensure_deleted(job.workspace, job.list_id)
            # Imports first: their previews and reports hold raw rows, and
            # there are far fewer of them than leads.
            done = self._imports.erase_list(job.list_id, deadline=deadline) and \
                (self._exports is None or self._exports.erase_list(job.list_id,
                                                                   deadline=deadline)) and \
                self._lists.purge(job, deadline=deadline)
            if not done:
                self._jobs.send(job.to_body())
        elif isinstance(job, IndexFieldsJob):
            start = LeadPosition.decode(job.position) if job.position else None
            self._lists.index_fields(job, start, deadline=deadline)
        elif isinstance(job, CopyListJob):
            copy = self._lists.get(job.workspace, job.copy_id)
            position = LeadPosition.decode(job.position) if job.position else None
            self._lists.continue_copy(job.workspace, job.source_id, copy.id, position,
                                      deadline=deadline)
        elif isinstance(job, BatchInsertJob):
            self._batches.continue_batch(job)
        elif isinstance(job, StatusWritebackJob):
            if self._writeback is not None:
                self._writeback.run(job)
        elif isinstance(job, ErasePersonJob):
            if self._erasures is not None:
                self._erasures.run(job, deadline=deadline)
        elif isinstance(job, IndexPeopleJob):
            if self._people is not None:
                self._people.run(job, deadline=deadline)
        elif isinstance(job, ExportJob):
            if self._exports is not None:
                self._exports.continue_export(job, deadline=deadline)
        else:
            lst = self._lists.get(job.workspace, job.list_id)
            request = BulkRequest.from_job(job.request)
            if request.lead_ids is not None:
                self._leads.continue_bulk_ids(lst, request, deadline=deadline)
                return
            # The position is a search cursor (an index position or a list walk's).
            self._leads.continue_bulk(lst, request, job.position or None, deadline=deadline)

"""Put leads stored before the people index into it (a one-off for a deployed stage).

The index's attributes are derived when a lead item is written, so leads
written before it existed carry none until their next write: `GET /people`,
the suppression spread and erasures would not find them. `leadpipe people
backfill --workspace W` queues one `index_people` job a list; each walks the
list's leads and sets the attributes of each lead unchanged since read (one
conditional UpdateItem a lead; a lead written meanwhile got them from its
writer), handing itself on with its position when out of time. Running it
twice does no harm: the second sets the same values.
"""

from __future__ import annotations

import time
from dataclasses import replace

from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.job_messages import IndexPeopleJob
from chalicelib.domain.lead import Lead
from chalicelib.services.lists import every_list
from chalicelib.services.people_ports import PeopleIndex
from chalicelib.services.ports import JobQueue, Repository

_BATCH = 100


class PeopleBackfill:
    def __init__(self, repo: Repository, index: PeopleIndex, jobs: JobQueue) -> None:
        self._repo = repo
        self._index = index
        self._jobs = jobs

    def queue_workspace(self, workspace: str) -> list[str]:
        """One job a list of the workspace; the lists' ids."""
        queued: list[str] = []
        for lst in every_list(self._repo, workspace):
            self._jobs.send(IndexPeopleJob(workspace, lst.id).to_body())
            queued.append(lst.id)
        return queued

    def run(self, job: IndexPeopleJob, *, deadline: float) -> int:
        """Leads indexed; out of time, the rest goes back to the jobs queue."""
        lst = self._repo.get_list(job.workspace, job.list_id)
        if lst is None:  # deleted meanwhile
            return 0
        start = LeadPosition.decode(job.position) if job.position else None
        written = 0
        batch: list[Lead] = []
        for lead, position in self._repo.walk_leads(lst, start, page_size=_BATCH):
            batch.append(lead)
            if len(batch) >= _BATCH:
                written += self._index.index_leads(lst, batch)
                batch = []
                if time.monotonic() > deadline:
                    self._jobs.send(replace(job, position=position.encode()).to_body())
                    return written
        return written + self._index.index_leads(lst, batch)

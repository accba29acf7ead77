"""The import watchdog (a schedule, every 5 minutes): no import stays active for ever.

An import is active while analysing or running. When its progress (a state
change, its split, a chunk counted) has not moved for longer than its
stage's limit, the watchdog resumes it: the message that should be driving it
is sent again (the upload event, the split, every chunk not yet counted);
each step is idempotent, so a message that was only slow does no harm. After
`resume_budget` resumes without progress, the import ends `failed` with
`error.code = "stalled"`, and every row not processed is in its error report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.domain.errors import NotFound
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import ChunkMessage, SplitMessage, UploadEvent
from chalicelib.domain.import_state import ImportState
from chalicelib.services.import_chunks import ChunkProcessor
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, ImportStore, QueueSender


@dataclass(frozen=True)
class StallLimits:
    """Seconds without progress after which a stage counts as stalled.

    Each is above the longest a healthy step can take without progress
    (the handler's timeout: uploads 120 s, splits 900 s, chunks 120 s), so
    only a lost message or a dead worker is taken for a stall.
    """

    analysing: float = 900.0
    splitting: float = 1800.0
    chunks: float = 600.0
    resume_budget: int = 3


@dataclass
class WatchdogReport:
    checked: int = 0
    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "resumed": self.resumed, "failed": self.failed}


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ImportWatchdog:
    def __init__(self, imports: ImportStore, files: FileStore, lists: ListService,
                 lifecycle: ImportLifecycle, chunks: ChunkProcessor, *,
                 uploads_queue: QueueSender, splits_queue: QueueSender,
                 chunks_queue: QueueSender, limits: StallLimits,
                 clock: Callable[[], datetime] = _now) -> None:
        self._imports = imports
        self._files = files
        self._lists = lists
        self._lifecycle = lifecycle
        self._chunks = chunks
        self._uploads_queue = uploads_queue
        self._splits_queue = splits_queue
        self._chunks_queue = chunks_queue
        self._limits = limits
        self._clock = clock

    def run(self) -> WatchdogReport:
        report = WatchdogReport()
        now = self._clock()
        for import_id in self._imports.active_ids():
            job = self._imports.get(import_id)
            if job is None or not job.status.active:
                self._imports.forget_active(import_id)  # a leftover entry
                continue
            report.checked += 1
            last = _parse(job.progressed_at or job.updated_at)
            if (now - last).total_seconds() < self._limit(job):
                continue
            if job.resumes < self._limits.resume_budget:
                self._resume(job, now)
                report.resumed.append(job.id)
            else:
                self._give_up(job)
                report.failed.append(job.id)
        return report

    def _limit(self, job: ImportJob) -> float:
        if job.status is ImportState.ANALYSING:
            return self._limits.analysing
        if job.chunks_total is None:
            return self._limits.splitting
        return self._limits.chunks

    def _resume(self, job: ImportJob, now: datetime) -> None:
        # Counted (and the clock restarted) before sending: a crash here costs
        # one resume, never an endless loop of them.
        self._imports.update(job.id, resumes=job.resumes + 1,
                             progressed_at=now.isoformat().replace("+00:00", "Z"))
        if job.status is ImportState.ANALYSING:
            self._uploads_queue.send(UploadEvent.body_for(job.object_key))
        elif job.chunks_total is None:
            self._splits_queue.send(SplitMessage(job.id).to_body())
        else:
            for number in self._missing_chunks(job):
                self._chunks_queue.send(ChunkMessage(
                    job.id, number, ChunkMessage.key_for(job.id, number),
                    self._chunk_rows(job.id, number)).to_body())

    def _give_up(self, job: ImportJob) -> None:
        message = "The import stopped making progress and could not be resumed"
        if job.status is ImportState.RUNNING and job.chunks_total is not None:
            self._imports.update(job.id, error={"code": "stalled", "message": message})
            try:
                lst = self._lists.get(job.workspace, job.list_id)
            except NotFound:
                self._lifecycle.list_deleted(job.id)
                return
            missing = self._missing_chunks(job)
            lost: list[int] = []
            for number in missing:
                rows = self._chunk_rows(job.id, number)
                if rows:
                    self._chunks.settle_unprocessed(job, lst, number, rows, "stalled")
                else:
                    lost.append(number)
            # Chunks whose file is gone: the rows no chunk accounts for are
            # theirs (all on the first), so the counts still add up to total_rows.
            if lost:
                current = self._imports.get(job.id)
                shortfall = 0 if current is None else max(
                    0, (current.total_rows or 0) - current.processed_rows)
                for index, number in enumerate(lost):
                    self._chunks.settle_unprocessed(job, lst, number,
                                                    0 if index else shortfall, "stalled")
        self._lifecycle.fail(job.id, "stalled", message)

    def _missing_chunks(self, job: ImportJob) -> list[int]:
        done = self._imports.done_chunks(job.id)
        return [n for n in range(job.chunks_total or 0) if n not in done]

    def _chunk_rows(self, import_id: str, number: int) -> int:
        data = self._files.get_bytes(ChunkMessage.key_for(import_id, number))
        return len(json.loads(data)) if data else 0

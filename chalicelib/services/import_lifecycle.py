"""Moves of an import between its states, and the one place that sees it finish.

Every move is a conditional write from the states `sources_of(target)` allows,
so of two workers that race (the last two chunks, a chunk and the watchdog)
exactly one moves the import to finished; only that one calls the listeners
(`on_finished`), which is where later features hang their webhooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import Conflict, DropMessage
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import SplitMessage
from chalicelib.domain.import_state import ImportMode, ImportState, sources_of
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.ports import ImportStore, QueueSender

FinishListener = Callable[[ImportJob], None]


class ImportLifecycle:
    def __init__(self, imports: ImportStore, analyses: AnalysisStore,
                 splits: QueueSender) -> None:
        self._imports = imports
        self._analyses = analyses
        self._splits = splits
        self._listeners: list[FinishListener] = []

    def on_finished(self, listener: FinishListener) -> None:
        """Call `listener` once per import, with the import as it finished."""
        self._listeners.append(listener)

    def move(self, import_id: str, target: ImportState, **fields: Any) -> bool:
        """Set the status (and fields) if the import is in a state that may move there."""
        now = utc_now_iso()
        if target.finished:
            fields.setdefault("finished_at", now)
        moved = self._imports.update(
            import_id, expect_status=[s.value for s in sources_of(target)],
            status=target.value, updated_at=now, progressed_at=now, **fields)
        if moved and target.finished:
            self._finished(import_id)
        return moved

    def fail(self, import_id: str, code: str, message: str) -> bool:
        return self.move(import_id, ImportState.FAILED,
                         error={"code": code, "message": message})

    def list_deleted(self, import_id: str) -> DropMessage:
        """The import's list is gone: the import fails; the message driving it is dropped."""
        self.fail(import_id, "list_deleted", "The list was deleted during the import")
        return DropMessage("the import's list was deleted")

    def begin(self, job: ImportJob, mapping: Mapping[str, str | None],
              mode: ImportMode = ImportMode.SKIP) -> None:
        """ready → running: the mapping and mode are final, the split is queued."""
        if job.status is not ImportState.READY:
            raise Conflict("The import was started already", code="import_not_ready")
        # The mapping is final once running: store it before the status says so.
        self._analyses.store(job.id, {**self._analyses.load(job.id), "mapping": dict(mapping)})
        if not self.move(job.id, ImportState.RUNNING, started_at=utc_now_iso(),
                         mode=mode.value):
            raise Conflict("The import was started already", code="import_not_ready")
        self._splits.send(SplitMessage(job.id).to_body())

    def maybe_finish(self, import_id: str) -> bool:
        """Finish a running import whose chunks are all done; True for the one finisher."""
        job = self._imports.get(import_id)
        if job is None or job.status is not ImportState.RUNNING or job.chunks_total is None \
                or job.chunks_done < job.chunks_total:
            return False
        target = ImportState.COMPLETED_WITH_ERRORS if job.error else ImportState.COMPLETED
        return self.move(job.id, target)

    def _finished(self, import_id: str) -> None:
        job = self._imports.get(import_id)
        if job is None:
            return
        for listener in self._listeners:
            listener(job)

"""Erasing imports: `DELETE /imports/{id}`, and every import of a deleted list.

An import holds personal data outside the leads: the uploaded file and its
analysed copy, the preview (the first rows as saved), the chunks in flight and
the error report (raw rejected rows). Erasing it removes all of those, S3 and
DynamoDB alike; the leads it saved belong to the list and stay (delete them
through the list). An import still moving is failed first, so whoever listens
for finished imports hears of it, and its workers, finding no import, drop
their messages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import ChunkMessage
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.file_source import stored_key
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.import_report import ErrorReport
from chalicelib.services.ports import FileStore, ImportStore

_PAGE = 25


def copy_prefixes(import_id: str) -> tuple[str, ...]:
    """The S3 keys or key prefixes of an import's copies of its rows: the upload, the
    analysed copy and the chunks (not its analysis nor its error report)."""
    return (f"uploads/{import_id}/", stored_key(import_id),
            ChunkMessage.key_for(import_id, 0).rsplit("/", 1)[0] + "/")


def object_prefixes(import_id: str) -> tuple[str, ...]:
    """Every S3 key or key prefix an import's files live under."""
    return (*copy_prefixes(import_id), AnalysisStore.key(import_id),
            ErrorReport.part_key(import_id, 0).rsplit("/", 1)[0] + "/")


class ImportEraser:
    def __init__(self, imports: ImportStore, files: FileStore,
                 lifecycle: ImportLifecycle) -> None:
        self._imports = imports
        self._files = files
        self._lifecycle = lifecycle

    def erase(self, job: ImportJob, *, code: str = "import_deleted",
              message: str = "The import was deleted") -> None:
        """Stop the import if it moves, then delete its files and its records."""
        if job.status.active:
            self._lifecycle.fail(job.id, code, message)
        for prefix in object_prefixes(job.id):
            # The files first: a crash between leaves the record, so a retry
            # finds the import again and finishes the job.
            for key in list(self._files.keys(prefix)):
                self._files.delete(key)
        self._imports.delete(job.id, job.list_id)

    def erase_list(self, list_id: str, *, deadline: float) -> bool:
        """Erase every import of a deleted list; False if time ran out (call again)."""
        for job in self._imports_of(list_id):
            self.erase(job, code="list_deleted",
                       message="The list was deleted during the import")
            if time.monotonic() > deadline:
                return False
        return True

    def _imports_of(self, list_id: str) -> Iterator[ImportJob]:
        # Each page is asked afresh from the start: the ones erased are gone.
        while True:
            ids, _ = self._imports.list_ids(list_id, _PAGE, None)
            if not ids:
                return
            for import_id in ids:
                job = self._imports.get(import_id)
                if job is None:  # expired or half-erased: only its entries are left
                    self._imports.delete(import_id, list_id)
                    continue
                yield job

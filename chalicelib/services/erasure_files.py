"""An erased person's rows in stored files: error reports, import copies and exports.

The leads go through the repository (services/erasures.py); this module walks
what S3 holds of a list, where the person can only be recognised by reading
cells and comparing their normalised hash (the value itself is never kept):

- an import's error-report parts: the person's rows are cut out, the rest kept;
- a settled import's working copies (the analysed upload `files/<id>`, its
  chunks, the preview in its analysis): when any holds the person, the copy
  and the chunks are deleted (a settled import never reads them again) and the
  preview keeps its other rows. An import waiting to be started (`ready`) that
  holds the person is failed (`person_erased`) and its copies deleted: it would
  need them to run;
- an export's file: a finished export holding the person is deleted with its
  record (its link answers 404; run the export again), a failed one's leftovers
  go whatever they hold.

Imports and exports still moving cannot be judged yet: they are counted
`pending` and the erasure looks again later (services/erasures.py). What a
moving import saves meanwhile is refused by the suppression written first.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.file_format import FileFormat
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import ChunkMessage
from chalicelib.domain.import_state import ImportState
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import HashedPerson, cell_is
from chalicelib.domain.row_reader import iter_rows
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.export_files import ExportFiles
from chalicelib.services.exports import ExportStore
from chalicelib.services.file_source import stored_key
from chalicelib.services.import_erasure import copy_prefixes
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.import_report import ErrorReport
from chalicelib.services.ports import FileStore, ImportStore

# A report line: row, outcome, codes, reason, then the file's own cells.
_REPORT_FIXED = 4
# Exports live a day (resources.py): a list has few at a time.
_EXPORTS_A_LIST = 1000
_PERSON_ERASED = ("person_erased", "A person in this file was erased meanwhile: upload the "
                  "file again (that person's rows will be refused)")


@dataclass
class FilesOutcome:
    report_rows: int = 0
    copies: int = 0  # imports whose working copies were removed
    exports: int = 0  # exports removed
    pending: int = 0  # imports and exports still moving: looked at again later

    def add(self, other: FilesOutcome) -> None:
        self.report_rows += other.report_rows
        self.copies += other.copies
        self.exports += other.exports
        self.pending += other.pending


def holds_person(value: Any, person: HashedPerson, region: str) -> bool:
    """Whether any string in a (nested) JSON value normalises to the person's value."""
    if isinstance(value, str):
        return cell_is(person.kind, person.hash, value, default_region=region)
    if isinstance(value, dict):
        return any(holds_person(v, person, region) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_person(v, person, region) for v in value)
    return False


class PersonFiles:
    def __init__(self, files: FileStore, imports: ImportStore, analyses: AnalysisStore,
                 lifecycle: ImportLifecycle, exports: ExportStore) -> None:
        self._files = files
        self._imports = imports
        self._analyses = analyses
        self._lifecycle = lifecycle
        self._export_store = exports
        self._exports = ExportFiles(exports, files)

    def clean_list(self, lst: LeadList, person: HashedPerson) -> FilesOutcome:
        out = FilesOutcome()
        after: str | None = None
        while True:
            ids, after = self._imports.list_ids(lst.id, 100, after)
            for import_id in ids:
                out.add(self.clean_import(import_id, person, lst.default_region))
            if after is None:
                break
        for export_id in self._export_store.exports_of_list(lst.id, _EXPORTS_A_LIST):
            out.add(self.clean_export(export_id, lst.id, person, lst.default_region))
        return out

    # --- imports --------------------------------------------------------------
    def clean_import(self, import_id: str, person: HashedPerson, region: str) -> FilesOutcome:
        out = FilesOutcome(report_rows=self._clean_report(import_id, person, region))
        job = self._imports.get(import_id)
        if job is None:
            return out
        if job.status.active:
            out.pending = 1
            return out
        analysis = self._analyses.load(job.id)
        preview = analysis.get("preview")
        if not (holds_person(preview, person, region) or self._copies_hold(job, person, region)):
            return out
        if job.status is ImportState.READY:
            self._lifecycle.fail(job.id, *_PERSON_ERASED)
        for prefix in copy_prefixes(job.id):
            for key in list(self._files.keys(prefix)):
                self._files.delete(key)
        if isinstance(preview, list):
            kept = [entry for entry in preview if not holds_person(entry, person, region)]
            if len(kept) != len(preview):
                self._analyses.store(job.id, {**analysis, "preview": kept})
        out.copies = 1
        return out

    def _copies_hold(self, job: ImportJob, person: HashedPerson, region: str) -> bool:
        """Whether the chunks or the analysed copy of the file hold the person."""
        chunks = ChunkMessage.key_for(job.id, 0).rsplit("/", 1)[0] + "/"
        for key in self._files.keys(chunks):
            data = self._files.get_bytes(key)
            if data is not None and holds_person(json.loads(data), person, region):
                return True
        info = job.file or {}
        if info.get("kind") and self._files.head(stored_key(job.id)) is not None:
            fmt = FileFormat(kind=str(info["kind"]), encoding=info.get("encoding"),
                             delimiter=info.get("delimiter"))
            return self._rows_hold(stored_key(job.id), fmt, person, region,
                                   sheet=info.get("sheet"))
        return False

    def _clean_report(self, import_id: str, person: HashedPerson, region: str) -> int:
        removed = 0
        report_key = ErrorReport.report_key(import_id)
        for stored in list(self._files.listing(f"errors/{import_id}/")):
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

    # --- exports --------------------------------------------------------------
    def clean_export(self, export_id: str, list_id: str, person: HashedPerson,
                     region: str) -> FilesOutcome:
        record = self._export_store.get_export(export_id)
        if record is None:
            return FilesOutcome()
        if record.status == "running":
            return FilesOutcome(pending=1)
        final = ExportFiles.final_key(export_id, record.format)
        if record.status != "failed" and (self._files.head(final) is None or not self._rows_hold(
                final, FileFormat(kind=record.format, encoding="utf-8-sig", delimiter=","),
                person, region)):
            return FilesOutcome()
        self._exports.erase(export_id, list_id)
        return FilesOutcome(exports=1)

    # --- reading a stored file --------------------------------------------------
    def _rows_hold(self, key: str, fmt: FileFormat, person: HashedPerson, region: str, *,
                   sheet: str | None = None) -> bool:
        with self._rows(key, fmt, sheet) as rows:
            return any(cell_is(person.kind, person.hash, str(cell), default_region=region)
                       for row in rows for cell in row.cells if cell)

    @contextmanager
    def _rows(self, key: str, fmt: FileFormat, sheet: str | None) -> Iterator[Iterator[Any]]:
        """CSV streamed; a spreadsheet or JSON through a temporary file (their
        readers need to seek), removed afterwards."""
        if fmt.kind == "csv":
            stream = self._files.open_stream(key)
            try:
                yield iter_rows(stream, fmt)
            finally:
                stream.close()
            return
        handle, path = tempfile.mkstemp(suffix="." + fmt.kind)
        os.close(handle)
        try:
            self._files.download(key, path)
            with open(path, "rb") as document:
                yield iter_rows(document, fmt, sheet)
        finally:
            os.unlink(path)

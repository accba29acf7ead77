"""Analyse an import's source: its columns, the mapping, a preview and a sample summary.

    uploads queue (S3 ObjectCreated) → on_upload(): the upload's import is analysed
    uploads DLQ → fail_analysis(): what keeps failing ends `analysis_failed`

The source gives "a header and rows" (services/ports.RowSource); nothing
here knows whether they came from a file or elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.column_mapping import (
    auto_map,
    mapping_dict,
    unique_headers,
)
from chalicelib.domain.errors import LeadpipeError, ValidationFailed
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import UploadEvent, upload_import_id
from chalicelib.domain.import_state import ImportState
from chalicelib.domain.imports import (
    PREVIEW_ROWS,
    SAMPLE_ROWS,
    RowResult,
    convert_row,
    mapped_columns,
    preview_entry,
    summarise,
)
from chalicelib.domain.mapping_check import validate_mapping
from chalicelib.domain.row_reader import split_header
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, ImportStore, RowSource


class ImportAnalyser:
    def __init__(self, imports: ImportStore, files: FileStore, source: RowSource,
                 analyses: AnalysisStore, lists: ListService,
                 lifecycle: ImportLifecycle) -> None:
        self._imports = imports
        self._files = files
        self._source = source
        self._analyses = analyses
        self._lists = lists
        self._lifecycle = lifecycle

    def on_upload(self, body: Mapping[str, Any]) -> None:
        for key in UploadEvent.from_body(body).keys:
            self.analyse_upload(key)

    def analyse_upload(self, key: str) -> None:
        import_id = upload_import_id(key)
        job = self._imports.get(import_id) if import_id else None
        if job is None or job.object_key != key:
            # Not the key this import handed out: someone aimed at another
            # import's key, or guessed one. It never becomes an import's file.
            if key.startswith("uploads/"):
                self._files.delete(key)
            return
        if job.status not in (ImportState.AWAITING_UPLOAD, ImportState.ANALYSING):
            # A repeated event, or a second upload with a still valid form: the
            # analysed file was copied away, so this object is discarded.
            if self._files.head(key) is not None:
                self._files.delete(key)
            return
        # "analysing" again means an earlier attempt crashed and SQS redelivered
        # (or the watchdog resumed it): analysis is idempotent, so run it again.
        if not self._lifecycle.move(job.id, ImportState.ANALYSING):
            return
        try:
            self._analyse(job)
        except LeadpipeError as exc:
            self._lifecycle.fail(job.id, exc.code, exc.message)

    def _analyse(self, job: ImportJob) -> None:
        info = self._source.prepare(job)
        lst = self._lists.get(job.workspace, job.list_id)
        requested = self._analyses.load(job.id).get("mapping") or {}
        with self._source.open_rows(job, info, sample=True) as rows:
            raw_headers, data = split_header(rows)
            headers = unique_headers(raw_headers)
            auto = mapping_dict(auto_map(headers))
            merged = {**auto, **{k: v for k, v in requested.items() if k in headers}}
            mapping_error: dict[str, Any] | None = None
            try:
                mapping = validate_mapping(merged, headers, lst.identity)
            except ValidationFailed as exc:
                mapping = {h: merged.get(h) for h in headers}
                mapping_error = exc.details
            sample: list[RowResult] = []
            seen: set[str] = set()
            duplicates = 0
            columns = mapped_columns(headers, mapping)
            for row in data:
                result = convert_row(row.number, row.cells, columns, len(headers),
                                     lst.identity, job.default_region,
                                     problem=getattr(row, "problem", None),
                                     problem_message=getattr(row, "problem_message", None))
                if result.ok and result.fields is not None:
                    value = str(result.fields.get(lst.identity))
                    if value in seen:
                        duplicates += 1
                    seen.add(value)
                sample.append(result)
                if len(sample) >= SAMPLE_ROWS:
                    break
        summary = summarise(sample, duplicates)
        if mapping_error:
            summary["mapping_errors"] = mapping_error.get("errors", [])
        self._analyses.store(job.id, {
            "columns": headers, "mapping": mapping, "sample_summary": summary,
            "preview": [preview_entry(r) for r in sample[:PREVIEW_ROWS]]})
        file_info = {**info, "column_count": len(headers)}
        if not self._lifecycle.move(job.id, ImportState.READY, file=file_info):
            return
        if job.auto_start and mapping_error is None:
            ready = self._imports.get(job.id)
            if ready is not None and ready.status is ImportState.READY:
                self._lifecycle.begin(ready, mapping, ready.mode)

    def fail_analysis(self, body: Mapping[str, Any]) -> None:
        """Analysis kept failing (uploads DLQ): the import fails with a reason."""
        for key in UploadEvent.from_body(body).keys:
            import_id = upload_import_id(key)
            job = self._imports.get(import_id) if import_id else None
            if job is not None and job.status in (ImportState.AWAITING_UPLOAD,
                                                  ImportState.ANALYSING):
                self._lifecycle.fail(job.id, "analysis_failed", "The file could not be analysed")

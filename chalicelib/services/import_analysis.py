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
from chalicelib.domain.errors import Conflict, FieldError, LeadpipeError, ValidationFailed
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
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.mapping_check import validate_mapping
from chalicelib.domain.row_reader import split_header
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, ImportStore, RowSource

# Mapping problems of a mapping still being chosen in the wizard.
_UNFINISHED = frozenset({"identity_not_mapped", "duplicate_target", "too_many_custom_fields"})


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
        headers, mapping, summary, preview = self._sample(job, info, lst, requested)
        mapping_error = summary.get("mapping_errors")
        self._analyses.store(job.id, {
            "columns": headers, "mapping": mapping, "sample_summary": summary,
            "preview": preview})
        file_info = {**info, "column_count": len(headers)}
        if not self._lifecycle.move(job.id, ImportState.READY, file=file_info):
            return
        if job.auto_start and mapping_error is None:
            ready = self._imports.get(job.id)
            if ready is not None and ready.status is ImportState.READY:
                self._lifecycle.begin(ready, mapping, ready.mode)

    def preview(self, job: ImportJob, requested: Mapping[str, str | None]) -> dict[str, Any]:
        """The first rows and the sample summary as `requested` would save them.

        For the wizard's preview after a mapping change: the same sample as the
        analysis (its first 1,000 rows), converted again; nothing is stored (the
        mapping the import runs with is the one given at start). The file was
        analysed already: `job.file` says how to read it.
        """
        if job.status is not ImportState.READY:
            raise Conflict(f"The import is {job.status.value}; only a ready import has a "
                           "preview to redo", code="import_not_ready",
                           details={"status": job.status.value})
        lst = self._lists.get(job.workspace, job.list_id)
        analysis = self._analyses.load(job.id)
        merged = {**(analysis.get("mapping") or {}), **requested}
        try:
            validate_mapping(merged, list(analysis.get("columns") or []), lst.identity)
        except ValidationFailed as exc:
            # A mapping still being chosen may lack the identity or name a field
            # twice (the preview says so, as the analysis does); one naming a
            # column or a field that does not exist is a bad request.
            wrong = [FieldError(e["field"], e["code"], e["message"])
                     for e in exc.details.get("errors", []) if e["code"] not in _UNFINISHED]
            if wrong:
                raise ValidationFailed(wrong) from None
        headers, mapping, summary, preview = self._sample(job, dict(job.file or {}), lst, merged)
        return {"mapping": mapping, "sample_summary": summary, "preview": preview,
                "columns": headers}

    def _sample(self, job: ImportJob, info: Mapping[str, Any], lst: LeadList,
                requested: Mapping[str, str | None],
                ) -> tuple[list[str], dict[str, str | None], dict[str, Any], list[Any]]:
        """(headers, mapping, sample summary, preview) of the source's first rows."""
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
        return headers, mapping, summary, [preview_entry(r) for r in sample[:PREVIEW_ROWS]]

    def fail_analysis(self, body: Mapping[str, Any]) -> None:
        """Analysis kept failing (uploads DLQ): the import fails with a reason."""
        for key in UploadEvent.from_body(body).keys:
            import_id = upload_import_id(key)
            job = self._imports.get(import_id) if import_id else None
            if job is not None and job.status in (ImportState.AWAITING_UPLOAD,
                                                  ImportState.ANALYSING):
                self._lifecycle.fail(job.id, "analysis_failed", "The file could not be analysed")

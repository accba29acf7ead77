"""Import use cases of the API: create (presigned upload), read, list, start, report.

The pipeline behind them, one role a module:

    POST /lists/{id}/imports  → presigned POST for one key of this import (here)
    S3 ObjectCreated → uploads queue → import_analysis: format, mapping, preview
    POST /imports/{id}/start  → import_lifecycle.begin → splits queue
    splits queue → import_split: stream rows → chunks, in-file dedupe
    chunks queue → import_chunks: validate, claim, save or update, count
    chunks DLQ → import_chunks.salvage: what keeps failing is reported, never left running
    every 5 minutes → import_watchdog: a stalled import is resumed or failed
Rows come from a RowSource (services/ports.py): an uploaded file today.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.column_mapping import TARGET_FIELDS
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, Conflict, FieldError, NotFound, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_state import ImportMode, ImportState, parse_mode
from chalicelib.domain.imports import check_start_mapping
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.mapping_check import validate_mapping
from chalicelib.domain.phone import is_valid_region
from chalicelib.domain.sheet_source import SOURCE as SHEETS
from chalicelib.domain.sheet_source import SheetSource, parse_sheet_source
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.file_source import ALLOWED_EXTENSIONS
from chalicelib.services.import_erasure import ImportEraser
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.import_report import ErrorReport, InlineReport, ReportLink
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, ImportStore

TEMPLATE_COLUMNS = ("first_name", "last_name", "email", "emails", "phone", "phones", "company",
                    "job_title", "linkedin_url", "location", "notes", "tags", "status")
_CREATE_FIELDS = ("filename", "mapping", "default_region", "auto_start", "sheet", "mode")


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    return "".join(c for c in base if c.isprintable())[:200] or "upload.csv"


@dataclass(frozen=True)
class _Options:
    region: str
    auto_start: bool
    mapping: dict[str, str | None]
    mode: ImportMode


class SheetStarter(Protocol):
    """What a Google Sheets import needs at creation (services/sheet_imports.py)."""

    def source_settings(self, workspace: str, sheet: SheetSource) -> dict[str, Any]: ...
    def start_analysis(self, key: str) -> None: ...


class ImportService:
    def __init__(self, imports: ImportStore, files: FileStore, analyses: AnalysisStore,
                 lists: ListService, lifecycle: ImportLifecycle, report: ErrorReport,
                 eraser: ImportEraser, *, max_upload_bytes: int,
                 upload_url_seconds: int, sheets: SheetStarter | None = None) -> None:
        self._imports = imports
        self._files = files
        self._analyses = analyses
        self._lists = lists
        self._lifecycle = lifecycle
        self._report = report
        self._eraser = eraser
        self._sheets = sheets
        self._max_bytes = max_upload_bytes
        self._url_seconds = upload_url_seconds

    def create(self, workspace: str, list_id: str, payload: Mapping[str, Any]
               ) -> tuple[ImportJob, dict[str, Any] | None]:
        """A file import (with its presigned upload form) or a connected source's."""
        lst = self._lists.get(workspace, list_id)
        if payload.get("source", "file") == SHEETS:
            return self._create_from_sheet(lst, payload), None
        if payload.get("source", "file") != "file":
            raise ValidationFailed([FieldError("source", "unknown_source",
                                               f"source is file or {SHEETS}")])
        errors = [FieldError(str(key), "unknown_field", f"Unknown field {key!r}")
                  for key in payload if key not in (*_CREATE_FIELDS, "source")]
        filename = payload.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            errors.append(FieldError("filename", "required", "filename is required"))
        elif not filename.lower().endswith(ALLOWED_EXTENSIONS):
            errors.append(FieldError("filename", "unsupported_file_type",
                                     f"Supported files: {', '.join(ALLOWED_EXTENSIONS)}"))
        sheet = payload.get("sheet")
        if sheet is not None and (not isinstance(sheet, str) or len(sheet) > 200):
            errors.append(FieldError("sheet", "invalid_type", "sheet is a sheet name"))
        options = self._options(lst, payload, errors)
        if not isinstance(filename, str):
            raise ValidationFailed(errors)
        import_id = new_id("im")
        # The secret part keeps an upload aimed at another import's key from
        # landing on it even where the POST policy is not enforced.
        key = f"uploads/{import_id}/{secrets.token_urlsafe(16)}"
        job = self._new_job(import_id, lst, _safe_filename(filename), key, options,
                            sheet=sheet, source="file")
        upload = self._files.presigned_post(key, self._max_bytes, self._url_seconds)
        return job, upload

    def _options(self, lst: LeadList, payload: Mapping[str, Any],
                 errors: list[FieldError]) -> _Options:
        region = payload.get("default_region", lst.default_region)
        if not isinstance(region, str) or not is_valid_region(region.upper()):
            errors.append(FieldError("default_region", "invalid_region",
                                     "default_region is a two-letter region code"))
        auto_start = payload.get("auto_start", False)
        if not isinstance(auto_start, bool):
            errors.append(FieldError("auto_start", "invalid_type", "auto_start is a boolean"))
        try:
            mapping = check_start_mapping(payload.get("mapping"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            mapping = {}
        if errors or not isinstance(region, str):
            raise ValidationFailed(errors)
        return _Options(region.upper(), bool(auto_start), mapping, parse_mode(payload.get("mode")))

    def _new_job(self, import_id: str, lst: LeadList, filename: str, key: str,
                 options: _Options, *, sheet: str | None, source: str,
                 source_settings: Mapping[str, Any] | None = None) -> ImportJob:
        now = utc_now_iso()
        job = ImportJob(id=import_id, workspace=lst.workspace, list_id=lst.id,
                        filename=filename, status=ImportState.AWAITING_UPLOAD,
                        created_at=now, updated_at=now, object_key=key,
                        default_region=options.region, auto_start=options.auto_start,
                        sheet=sheet, mode=options.mode, source=source)
        self._imports.create(job)
        analysis: dict[str, Any] = {}
        if options.mapping:
            analysis["mapping"] = options.mapping
        if source_settings:
            analysis["source"] = dict(source_settings)
        if analysis:
            self._analyses.store(job.id, analysis)
        return job

    def _create_from_sheet(self, lst: LeadList, payload: Mapping[str, Any]) -> ImportJob:
        allowed = {"source", "spreadsheet_id", "sheet_name", "connection_id", "access_token",
                   "mapping", "default_region", "auto_start", "mode"}
        errors = [FieldError(str(key), "unknown_field", f"Unknown field {key!r}")
                  for key in payload if key not in allowed]
        try:
            sheet = parse_sheet_source(payload)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            self._options(lst, payload, errors)
            raise ValidationFailed(errors) from None
        options = self._options(lst, payload, errors)
        if self._sheets is None:
            raise BadRequest("Google Sheets imports are not available", code="unknown_source")
        settings = self._sheets.source_settings(lst.workspace, sheet)
        import_id = new_id("im")
        # The event an upload would send starts the analysis; the key names no
        # object and no upload form can write it (no presigned form is made).
        key = f"uploads/{import_id}/{SHEETS}"
        title = sheet.sheet_name or "first sheet"
        job = self._new_job(import_id, lst, _safe_filename(f"Google Sheet {title}"), key,
                            options, sheet=sheet.sheet_name, source=SHEETS,
                            source_settings=settings)
        self._sheets.start_analysis(key)
        return job

    def upload_info(self) -> dict[str, int]:
        return {"max_bytes": self._max_bytes, "expires_in": self._url_seconds}

    def get(self, workspace: str, import_id: str) -> ImportJob:
        job = self._imports.get(import_id) if import_id.startswith("im_") else None
        if job is None or job.workspace != workspace:
            raise NotFound("Import not found", details={"import_id": import_id})
        try:
            # A deleted list's imports are erased in the background; until
            # then they are already gone for the API (previews hold PII).
            self._lists.get(workspace, job.list_id)
        except NotFound:
            raise NotFound("Import not found", details={"import_id": import_id}) from None
        return job

    def delete(self, workspace: str, import_id: str) -> None:
        """Erase the import (stopping it if it runs); the leads it saved stay."""
        self._eraser.erase(self.get(workspace, import_id))

    def get_full(self, workspace: str, import_id: str) -> ImportJob:
        """The import with its analysis (columns, mapping, preview) attached."""
        return self._with_analysis(self.get(workspace, import_id))

    def _with_analysis(self, job: ImportJob) -> ImportJob:
        analysis = self._analyses.load(
            job.id, final=job.status is ImportState.RUNNING or job.status.finished)
        file_info = dict(job.file or {})
        if "columns" in analysis:
            file_info["columns"] = analysis["columns"]
        return replace(job, mapping=analysis.get("mapping") or {},
                       preview=analysis.get("preview") or (),
                       sample_summary=analysis.get("sample_summary"),
                       file=file_info or None)

    def page(self, workspace: str, list_id: str, limit: int,
             cursor: str | None) -> tuple[list[ImportJob], str | None]:
        lst = self._lists.get(workspace, list_id)
        after = None
        if cursor:
            after = decode_cursor(cursor).get("k")
            if not isinstance(after, str) or not after.startswith("I#"):
                raise BadRequest("cursor is not valid", code="invalid_cursor")
        ids, last = self._imports.list_ids(lst.id, limit, after)
        jobs = [j for i in ids if (j := self._imports.get(i)) is not None]
        return jobs, (encode_cursor({"k": last}) if last else None)

    def start(self, workspace: str, import_id: str, payload: Mapping[str, Any]) -> ImportJob:
        job = self.get_full(workspace, import_id)
        unknown = set(payload) - {"mapping", "mode"}
        if unknown:
            raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                    for k in sorted(unknown)])
        # The mode given at creation (for auto_start) unless the start names one.
        mode = parse_mode(payload["mode"]) if "mode" in payload else job.mode
        if job.status is not ImportState.READY:
            raise Conflict(f"The import is {job.status.value}; only a ready import can start",
                           code="import_not_ready", details={"status": job.status.value})
        lst = self._lists.get(workspace, job.list_id)
        headers = list((job.file or {}).get("columns") or [])
        mapping = {**job.mapping, **check_start_mapping(payload.get("mapping"))}
        mapping = validate_mapping(mapping, headers, lst.identity)
        self._lifecycle.begin(job, mapping, mode)
        return self.get_full(workspace, import_id)

    def error_report(self, workspace: str, import_id: str) -> InlineReport | ReportLink:
        """The report inline when small, else a presigned link (services/import_report.py)."""
        job = self.get_full(workspace, import_id)
        return self._report.download(job.id, list((job.file or {}).get("columns") or []))

    @staticmethod
    def template_csv() -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(TEMPLATE_COLUMNS)
        writer.writerow(["Ada", "Lovelace", "ada@example.com", "ada.l@example.org",
                         "+1 415 555 0134", "", "Analytical Engines", "Head of Research",
                         "https://www.linkedin.com/in/ada-lovelace", "London, UK",
                         "Met at the Difference Engine demo", "vip;q1", "new"])
        assert set(TEMPLATE_COLUMNS) <= set(TARGET_FIELDS)
        return buffer.getvalue()

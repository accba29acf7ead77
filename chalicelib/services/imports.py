"""Import use cases: upload, analyse and preview, split, save chunks, report.

    POST /lists/{id}/imports  → presigned POST for one key of this import
    S3 ObjectCreated → uploads queue → analyse(): format, mapping, preview
    POST /imports/{id}/start  → splits queue → split(): stream → chunks, in-file dedupe
    chunks queue → process_chunk(): validate, claim identities, save, count
    chunks DLQ → salvage_chunk(): what keeps failing is reported, never left running
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote_plus

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.column_mapping import (
    TARGET_FIELDS,
    auto_map,
    mapping_dict,
    unique_headers,
    validate_mapping,
)
from chalicelib.domain.csv_export import inert_cell
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.deliverability import lookup_domain
from chalicelib.domain.errors import (
    BadRequest,
    Conflict,
    FieldError,
    LeadpipeError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from chalicelib.domain.file_format import FileFormat, UnreadableFile, sniff
from chalicelib.domain.ids import deterministic_id, new_id, shard_of
from chalicelib.domain.imports import (
    FINISHED,
    PREVIEW_ROWS,
    REASONS,
    SAMPLE_ROWS,
    ImportCounts,
    ImportJob,
    RowResult,
    check_start_mapping,
    convert_row,
    mapped_columns,
    preview_entry,
    split_chunks,
    summarise,
)
from chalicelib.domain.lead import Lead, fresh_email_status
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.phone import is_valid_region
from chalicelib.domain.row_reader import Row, iter_rows, split_header
from chalicelib.services.lists import ListService
from chalicelib.services.ports import MetricsSink, VerificationRequests

HEAD_BYTES = 1024 * 1024
ALLOWED_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods")
TEMPLATE_COLUMNS = ("first_name", "last_name", "email", "emails", "phone", "phones", "company",
                    "job_title", "linkedin_url", "location", "notes", "tags", "status")


class FileStore(Protocol):
    def presigned_post(self, key: str, max_bytes: int, expires: int) -> dict[str, Any]: ...
    def head(self, key: str) -> tuple[int, str] | None: ...
    def read_head(self, key: str, length: int, etag: str | None = ...) -> bytes: ...
    def open_stream(self, key: str, etag: str | None = ...) -> Any: ...
    def download(self, key: str, path: str, etag: str | None = ...) -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    def get_bytes(self, key: str) -> bytes | None: ...
    def keys(self, prefix: str) -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...
    def copy(self, source: str, target: str, etag: str) -> None: ...


class ImportStore(Protocol):
    def create(self, job: ImportJob) -> None: ...
    def get(self, import_id: str) -> ImportJob | None: ...
    def update(self, import_id: str, *, expect_status: Any = None, **fields: Any) -> bool: ...
    def list_ids(self, list_id: str, limit: int,
                 after: str | None) -> tuple[list[str], str | None]: ...
    def chunk_done(self, import_id: str, number: int) -> bool: ...
    def save_leads(self, lst: LeadList, leads: Any) -> list[Any]: ...
    def finish_chunk(self, job: ImportJob, lst: LeadList, number: int, counts: ImportCounts,
                     shard_increments: dict[int, int], no_email: int = ...) -> bool: ...


class QueueSender(Protocol):
    def send(self, job: dict[str, Any]) -> None: ...


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    return "".join(c for c in base if c.isprintable())[:200] or "upload.csv"


def complete_lines(head: bytes, fmt: FileFormat) -> tuple[bytes, FileFormat]:
    """The whole lines of a file's first bytes, as UTF-8, for the analysis.

    The cut may fall inside a character (UTF-8, UTF-16) or a row: decode what
    is complete, drop the last partial line, and hand on UTF-8.
    """
    decoder = codecs.getincrementaldecoder(fmt.encoding or "utf-8")(errors="replace")
    text = decoder.decode(head, final=False)
    cut = text.rfind("\n")
    if cut >= 0:
        text = text[: cut + 1]
    return text.encode("utf-8"), replace(fmt, encoding="utf-8")


class ImportService:
    def __init__(self, imports: ImportStore, files: FileStore, lists: ListService,
                 splits: QueueSender, chunks: QueueSender, verification: VerificationRequests,
                 *, max_upload_bytes: int, upload_url_seconds: int, chunk_rows: int,
                 metrics: MetricsSink) -> None:
        self._imports = imports
        self._files = files
        self._lists = lists
        self._splits = splits
        self._chunks = chunks
        self._verification = verification
        self._metrics = metrics
        self._max_bytes = max_upload_bytes
        self._url_seconds = upload_url_seconds
        self._chunk_rows = chunk_rows
        self._analysis_cache: dict[str, dict[str, Any]] = {}

    # --- API ------------------------------------------------------------------
    def create(self, workspace: str, list_id: str, payload: Mapping[str, Any]
               ) -> tuple[ImportJob, dict[str, Any]]:
        lst = self._lists.get(workspace, list_id)
        errors: list[FieldError] = []
        for key in payload:
            if key not in ("filename", "mapping", "default_region", "auto_start", "sheet"):
                errors.append(FieldError(str(key), "unknown_field", f"Unknown field {key!r}"))
        filename = payload.get("filename")
        if not isinstance(filename, str) or not filename.strip():
            errors.append(FieldError("filename", "required", "filename is required"))
        elif not filename.lower().endswith(ALLOWED_EXTENSIONS):
            errors.append(FieldError("filename", "unsupported_file_type",
                                     f"Supported files: {', '.join(ALLOWED_EXTENSIONS)}"))
        region = payload.get("default_region", lst.default_region)
        if not isinstance(region, str) or not is_valid_region(region.upper()):
            errors.append(FieldError("default_region", "invalid_region",
                                     "default_region is a two-letter region code"))
        auto_start = payload.get("auto_start", False)
        if not isinstance(auto_start, bool):
            errors.append(FieldError("auto_start", "invalid_type", "auto_start is a boolean"))
        sheet = payload.get("sheet")
        if sheet is not None and (not isinstance(sheet, str) or len(sheet) > 200):
            errors.append(FieldError("sheet", "invalid_type", "sheet is a sheet name"))
        try:
            mapping = check_start_mapping(payload.get("mapping"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            mapping = {}
        if errors or not isinstance(filename, str) or not isinstance(region, str):
            raise ValidationFailed(errors)
        now = utc_now_iso()
        import_id = new_id("im")
        # The secret part keeps an upload aimed at another import's key from
        # landing on it even where the POST policy is not enforced (moto).
        key = f"uploads/{import_id}/{secrets.token_urlsafe(16)}"
        job = ImportJob(id=import_id, workspace=workspace, list_id=lst.id,
                        filename=_safe_filename(filename), status="awaiting_upload",
                        created_at=now, updated_at=now, object_key=key,
                        default_region=region.upper(), auto_start=bool(auto_start),
                        sheet=sheet)
        self._imports.create(job)
        if mapping:
            self._store_analysis(job.id, {"mapping": mapping})
        upload = self._files.presigned_post(key, self._max_bytes, self._url_seconds)
        return job, upload

    def upload_info(self) -> dict[str, int]:
        return {"max_bytes": self._max_bytes, "expires_in": self._url_seconds}

    def get(self, workspace: str, import_id: str) -> ImportJob:
        job = self._imports.get(import_id) if import_id.startswith("im_") else None
        if job is None or job.workspace != workspace:
            raise NotFound("Import not found", details={"import_id": import_id})
        return job

    def get_full(self, workspace: str, import_id: str) -> ImportJob:
        """The import with its analysis (columns, mapping, preview) attached."""
        return self._with_analysis(self.get(workspace, import_id))

    # An analysis can be as wide as the file (10,000 columns, 100 long custom
    # values in each preview row): it lives in S3, not in the 400 KB item.
    @staticmethod
    def _analysis_key(import_id: str) -> str:
        return f"analysis/{import_id}.json"

    def _store_analysis(self, import_id: str, analysis: Mapping[str, Any]) -> None:
        self._files.put_bytes(self._analysis_key(import_id),
                              json.dumps(analysis, separators=(",", ":")).encode(),
                              "application/json")
        self._analysis_cache.pop(import_id, None)

    def _analysis(self, import_id: str, *, final: bool = False) -> dict[str, Any]:
        """The stored analysis; cached per worker only once final (import running)."""
        cached = self._analysis_cache.get(import_id)
        if cached is None:
            raw = self._files.get_bytes(self._analysis_key(import_id))
            cached = json.loads(raw) if raw else {}
            if final:
                if len(self._analysis_cache) > 16:
                    self._analysis_cache.clear()
                self._analysis_cache[import_id] = cached
        return cached

    def _with_analysis(self, job: ImportJob) -> ImportJob:
        analysis = self._analysis(job.id, final=job.status in ("running", *FINISHED))
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
        unknown = set(payload) - {"mapping"}
        if unknown:
            raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                    for k in sorted(unknown)])
        if job.status != "ready":
            raise Conflict(f"The import is {job.status}; only a ready import can start",
                           code="import_not_ready", details={"status": job.status})
        lst = self._lists.get(workspace, job.list_id)
        headers = list((job.file or {}).get("columns") or [])
        mapping = {**job.mapping, **check_start_mapping(payload.get("mapping"))}
        mapping = validate_mapping(mapping, headers, lst.identity)
        return self._begin(job, mapping)

    def _begin(self, job: ImportJob, mapping: Mapping[str, str | None]) -> ImportJob:
        now = utc_now_iso()
        if job.status != "ready":
            raise Conflict("The import was started already", code="import_not_ready")
        # The mapping is final once running: store it before the status says so.
        self._store_analysis(job.id, {**self._analysis(job.id), "mapping": dict(mapping)})
        if not self._imports.update(job.id, expect_status=("ready",), status="running",
                                    started_at=now, updated_at=now):
            raise Conflict("The import was started already", code="import_not_ready")
        self._splits.send({"type": "split", "import_id": job.id})
        started = self._imports.get(job.id)
        assert started is not None
        return self._with_analysis(started)

    # --- analyse (uploads queue) ----------------------------------------------
    def on_s3_event(self, body: Mapping[str, Any]) -> None:
        for record in body.get("Records", []):
            key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
            self.analyse_upload(key)

    def analyse_upload(self, key: str) -> None:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "uploads":
            return
        job = self._imports.get(parts[1])
        if job is None or job.object_key != key:
            # Not the key this import handed out: someone aimed at another
            # import's key, or guessed one. It never becomes an import's file.
            self._files.delete(key)
            return
        if job.status not in ("awaiting_upload", "analysing"):
            # A repeated event, or a second upload with a still valid form: the
            # analysed file was copied away, so this object is discarded.
            if self._files.head(key) is not None:
                self._files.delete(key)
            return
        # "analysing" again means an earlier attempt crashed and SQS redelivered:
        # analysis is idempotent, so run it again (until the DLQ fails it).
        self._imports.update(job.id, expect_status=("awaiting_upload", "analysing"),
                             status="analysing", updated_at=utc_now_iso())
        try:
            self._analyse(job)
        except LeadpipeError as exc:
            self._fail(job.id, exc.code, exc.message)

    def _fail(self, import_id: str, code: str, message: str) -> None:
        now = utc_now_iso()
        self._imports.update(import_id, status="failed", finished_at=now, updated_at=now,
                             error={"code": code, "message": message})

    def _analyse(self, job: ImportJob) -> None:
        found = self._files.head(job.object_key)
        if found is None:
            raise UnreadableFile("The uploaded file is gone", code="upload_missing")
        size, etag = found
        if size > self._max_bytes:
            self._files.delete(job.object_key)
            raise PayloadTooLarge(f"The file is {size} bytes; the limit is {self._max_bytes}",
                                  code="file_too_large")
        if size == 0:
            raise UnreadableFile("The file is empty", code="empty_file")
        # What is analysed is what is imported: keep this exact version under a
        # key no upload form can write, and free the upload key.
        stored = f"files/{job.id}"
        self._files.copy(job.object_key, stored, etag)
        self._files.delete(job.object_key)
        job = replace(job, object_key=stored)
        head = self._files.read_head(stored, HEAD_BYTES, etag)
        fmt = sniff(head, job.filename)
        lst = self._lists.get(job.workspace, job.list_id)
        with self._open_rows(job, fmt, head, size, etag) as rows:
            raw_headers, data = split_header(rows)
            headers = unique_headers(raw_headers)
            auto = mapping_dict(auto_map(headers))
            requested = self._analysis(job.id).get("mapping") or {}
            merged = {**auto, **{k: v for k, v in requested.items() if k in headers}}
            try:
                mapping = validate_mapping(merged, headers, lst.identity)
                mapping_error = None
            except ValidationFailed as exc:
                mapping = {h: merged.get(h) for h in headers}
                mapping_error = exc.details
            sample: list[RowResult] = []
            seen: set[str] = set()
            duplicates = 0
            columns = mapped_columns(headers, mapping)
            for row in data:
                result = convert_row(row.number, row.cells, columns, len(headers),
                                     lst.identity, job.default_region)
                if result.ok and result.fields is not None:
                    value = str(result.fields.get(lst.identity))
                    if value in seen:
                        duplicates += 1
                    seen.add(value)
                sample.append(result)
                if len(sample) >= SAMPLE_ROWS:
                    break
        file_info = {"kind": fmt.kind, "encoding": fmt.encoding, "delimiter": fmt.delimiter,
                     "size": size, "etag": etag, "key": stored, "sheet": job.sheet,
                     "column_count": len(headers)}
        summary = summarise(sample, duplicates)
        if mapping_error:
            summary["mapping_errors"] = mapping_error.get("errors", [])
        self._store_analysis(job.id, {
            "columns": headers, "mapping": mapping, "sample_summary": summary,
            "preview": [preview_entry(r) for r in sample[:PREVIEW_ROWS]]})
        now = utc_now_iso()
        self._imports.update(job.id, expect_status=("analysing",), status="ready",
                             file=file_info, updated_at=now)
        if job.auto_start and not mapping_error:
            ready = self._imports.get(job.id)
            if ready is not None and ready.status == "ready":
                self._begin(ready, mapping)

    @contextmanager
    def _open_rows(self, job: ImportJob, fmt: FileFormat, head: bytes | None,
                   size: int, etag: str | None) -> Iterator[Iterator[Row]]:
        """Rows of the upload: streamed for CSV, from a temp file for spreadsheets."""
        if fmt.kind == "csv" and head is not None:
            if size <= len(head):
                yield iter_rows(io.BytesIO(head), fmt)
            else:  # analysis needs only the first rows: whole lines of the head
                text, utf8 = complete_lines(head, fmt)
                yield iter_rows(io.BytesIO(text), utf8)
        elif fmt.kind == "csv":
            stream = self._files.open_stream(job.object_key, etag)
            try:
                yield iter_rows(stream, fmt)
            finally:
                stream.close()
        else:
            # Spreadsheet readers need a seekable file: Lambda's /tmp holds it.
            handle, path = tempfile.mkstemp(suffix="." + fmt.kind)
            os.close(handle)
            try:
                self._files.download(job.object_key, path, etag)
                with open(path, "rb") as spreadsheet:
                    yield iter_rows(spreadsheet, fmt, job.sheet)
            finally:
                os.unlink(path)

    # --- split (splits queue) ---------------------------------------------------
    def split(self, import_id: str) -> None:
        job = self._imports.get(import_id)
        if job is None or job.status != "running":
            return
        if job.chunks_total is not None:
            self._maybe_finish(job.id)  # split before; chunks are on their way
            return
        try:
            self._split(self._with_analysis(job))
        except LeadpipeError as exc:
            # An unreadable line past the analysed sample, a replaced upload:
            # retrying cannot help, so the import ends here with the reason.
            self._fail(job.id, exc.code, exc.message)

    def _split(self, job: ImportJob) -> None:
        lst = self._lists.get(job.workspace, job.list_id)
        info = job.file or {}
        job = replace(job, object_key=str(info.get("key") or job.object_key))
        fmt = FileFormat(kind=info["kind"], encoding=info.get("encoding"),
                         delimiter=info.get("delimiter"))
        headers = list(info.get("columns") or [])
        columns = mapped_columns(headers, job.mapping)
        identity_index = next(i for i, t in columns if t == lst.identity)
        domains = _DomainCollector(next((i for i, t in columns if t == "email"), None))
        number = 0
        total = 0
        with self._open_rows(job, fmt, None, int(info.get("size") or 0),
                             info.get("etag")) as rows:
            _, data = split_header(rows)
            for chunk in split_chunks(data, width=len(headers), identity_index=identity_index,
                                      identity=lst.identity, region=job.default_region,
                                      chunk_rows=self._chunk_rows):
                # The file's domains go out for look-up ahead of its leads, in
                # big groups: a worker packs a group's look-ups at full
                # concurrency, where per-chunk batches would each wait a round
                # trip for their few new domains.
                new = domains.add(chunk)
                if len(new) >= DOMAIN_GROUP or (number == 0 and new):
                    self._verification.prefetch_domains(domains.take())
                key = f"chunks/{job.id}/{number:07d}.json"
                self._files.put_bytes(key, json.dumps(chunk, separators=(",", ":")).encode(),
                                      "application/json")
                self._chunks.send({"type": "chunk", "import_id": job.id, "chunk": number,
                                   "key": key, "rows": len(chunk)})
                number += 1
                total += len(chunk)
        self._verification.prefetch_domains(domains.take())
        self._imports.update(job.id, total_rows=total, chunks_total=number,
                             updated_at=utc_now_iso())
        self._maybe_finish(job.id)

    # --- chunks (chunks queue) ----------------------------------------------------
    def process_chunk(self, message: Mapping[str, Any]) -> None:
        job = self._imports.get(str(message["import_id"]))
        if job is None or job.status in FINISHED:
            return
        number = int(message["chunk"])
        if self._imports.chunk_done(job.id, number):
            self._maybe_finish(job.id)
            return
        data = self._files.get_bytes(str(message["key"]))
        if data is None:
            raise RuntimeError("chunk file missing")  # redelivered into the DLQ, salvaged
        rows: list[list[Any]] = json.loads(data)
        lst = self._lists.get(job.workspace, job.list_id)
        job = self._with_analysis(job)
        headers = list((job.file or {}).get("columns") or [])
        columns = mapped_columns(headers, job.mapping)
        started_ms = _iso_ms(job.started_at or job.created_at)
        rejected: list[tuple[int, list[str], list[FieldError], list[FieldError]]] = []
        candidates: list[tuple[int, list[str], RowResult, Lead]] = []
        invalid = 0
        duplicates = 0
        now = utc_now_iso()
        for number_in_file, cells, earlier in rows:
            result = convert_row(number_in_file, cells, columns, len(headers), lst.identity,
                                 job.default_region)
            if not result.ok or result.fields is None:
                invalid += 1
                rejected.append((number_in_file, cells, result.errors, result.warnings))
                continue
            if earlier is not None:
                duplicates += 1
                rejected.append((number_in_file, cells, [FieldError(
                    lst.identity, "duplicate_in_file",
                    f"{REASONS['duplicate_in_file']} (row {earlier})")], []))
                continue
            lead_id = deterministic_id("ld", f"{job.id}:{number_in_file}", now_ms=started_ms)
            lead = Lead(id=lead_id, list_id=lst.id, created_at=now, updated_at=now,
                        source={"import_id": job.id, "row": number_in_file,
                                "filename": job.filename}, **result.fields,
                        **fresh_email_status(result.fields.get("email")))
            candidates.append((number_in_file, cells, result, lead))
        outcomes = self._imports.save_leads(lst, [c[3] for c in candidates])
        saved_leads: list[Lead] = []
        shards: dict[int, int] = {}
        for (row_no, cells, result, lead), outcome in zip(candidates, outcomes, strict=True):
            if outcome.status == "saved":
                saved_leads.append(lead)
                shard = shard_of(lead.id, lst.shards)
                shards[shard] = shards.get(shard, 0) + 1
                if result.warnings:
                    rejected.append((row_no, cells, [], result.warnings))
            else:
                duplicates += 1
                rejected.append((row_no, cells, [FieldError(
                    lst.identity, "duplicate_in_list",
                    f"{REASONS['duplicate_in_list']} (lead {outcome.lead_id})")], []))
        self._write_report(job, number, headers, rejected)
        # Asked before the chunk is recorded done: a crash in between redelivers
        # the chunk and asks again (verification counts each batch once), where
        # the other order could leave the chunk's leads pending for ever.
        self._verification.request(lst, saved_leads, import_id=job.id, batch=f"c{number}")
        no_email = sum(1 for lead in saved_leads if not lead.email)
        if self._imports.finish_chunk(job, lst, number,
                                      ImportCounts(len(saved_leads), duplicates, invalid), shards,
                                      no_email):  # counted once, like the import's own counts
            self._metrics.add("RowsImported", len(saved_leads))
            self._metrics.add("RowsDuplicate", duplicates)
            self._metrics.add("RowsRejected", invalid)
        self._maybe_finish(job.id)

    def salvage_chunk(self, message: Mapping[str, Any]) -> None:
        """A chunk that kept failing: its rows are reported failed, and the import ends."""
        job = self._imports.get(str(message.get("import_id", "")))
        if job is None or job.status in FINISHED:
            return
        number = int(message["chunk"])
        if not self._imports.chunk_done(job.id, number):
            lst = self._lists.get(job.workspace, job.list_id)
            rows = int(message.get("rows", 0))
            error = FieldError("row", "processing_failed", REASONS["processing_failed"])
            self._write_report(job, number, [],
                               [(-1, [f"chunk {number}: {rows} rows"], [error], [])])
            self._imports.finish_chunk(job, lst, number, ImportCounts(0, 0, rows), {})
            self._imports.update(job.id, error={"code": "chunk_failed", "message":
                                 f"Chunk {number} failed repeatedly; its rows were not saved"})
        self._maybe_finish(job.id)

    def fail_split(self, message: Mapping[str, Any]) -> None:
        """The splitter kept failing (splits DLQ): the import fails with a reason."""
        job = self._imports.get(str(message.get("import_id", "")))
        if job is not None and job.status == "running" and job.chunks_total is None:
            self._fail(job.id, "split_failed", "The file could not be split into chunks")

    def fail_analysis(self, body: Mapping[str, Any]) -> None:
        """Analysis kept failing (uploads DLQ)."""
        for record in body.get("Records", []):
            key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
            parts = key.split("/")
            job = self._imports.get(parts[1]) if len(parts) == 3 else None
            if job is not None and job.status in ("awaiting_upload", "analysing"):
                self._fail(job.id, "analysis_failed", "The file could not be analysed")

    def _maybe_finish(self, import_id: str) -> None:
        job = self._imports.get(import_id)
        if job is None or job.status != "running" or job.chunks_total is None \
                or job.chunks_done < job.chunks_total:
            return
        status = "completed_with_errors" if job.error else "completed"
        now = utc_now_iso()
        self._imports.update(job.id, expect_status=("running",), status=status,
                             finished_at=now, updated_at=now)

    # --- error report -------------------------------------------------------------
    def _write_report(self, job: ImportJob, number: int, headers: list[str],
                      rows: list[tuple[int, list[str], list[FieldError], list[FieldError]]]
                      ) -> None:
        key = f"errors/{job.id}/{number:07d}.csv"
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row_no, cells, errors, warnings in sorted(rows, key=lambda r: r[0]):
            outcome = "rejected" if errors else "saved_with_warnings"
            problems = errors or warnings
            writer.writerow([
                row_no if row_no >= 0 else "", outcome,
                ";".join(dict.fromkeys(p.code for p in problems)),
                "; ".join(f"{p.field}: {p.message}" for p in problems),
                *(inert_cell(c) for c in cells),
            ])
        self._files.put_bytes(key, buffer.getvalue().encode())

    def error_report(self, workspace: str, import_id: str) -> Iterator[str]:
        job = self.get_full(workspace, import_id)
        headers = list((job.file or {}).get("columns") or [])
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(
            ["row", "outcome", "codes", "reason", *headers])
        yield buffer.getvalue()
        for key in sorted(self._files.keys(f"errors/{job.id}/")):
            data = self._files.get_bytes(key)
            if data:
                yield data.decode()

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


DOMAIN_GROUP = 500  # domains per look-up message: 500 x 253 bytes fits SQS's 256 KB


class _DomainCollector:
    """The distinct email domains of a file's first occurrences, handed out in groups."""

    def __init__(self, email_index: int | None) -> None:
        self._index = email_index
        self._seen: set[str] = set()
        self._pending: list[str] = []

    def add(self, chunk: list[Any]) -> list[str]:
        if self._index is not None:
            for _, cells, earlier in chunk:
                if earlier is None and self._index < len(cells):
                    domain = lookup_domain(cells[self._index])
                    if domain is not None and domain not in self._seen:
                        self._seen.add(domain)
                        self._pending.append(domain)
        return self._pending

    def take(self) -> list[str]:
        taken, self._pending = self._pending, []
        return taken


def _iso_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


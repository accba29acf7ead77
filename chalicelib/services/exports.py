"""Exports: `GET /lists/{id}/export` for small lists; jobs of any size (`POST .../exports`).

A job runs on the jobs queue in steps, one a message, each within the job
budget:

1. *parts*: each step streams the matching leads it walks into a part (CSV
   rows, custom cells as JSON: the columns are known only at the end) and
   hands the position after them to the next part;
2. *segments* (services/export_files.py): once every part is written, each
   step converts the rows it reaches into the final format (CSV lines, or a
   sheet's deflated XML) within its budget;
3. *packing*: the last step copies the segments into exports/<id>.<format>
   (a plain concatenation for CSV, a ZIP for xlsx) and completes the export,
   which is then downloaded with a short-lived presigned GET.

Where a part or a segment ends depends on the time budget, so a redelivered
message cannot redo "the same" one: the first delivery to record it (a
conditional write) fixes its range and object; a later or racing delivery
drops its own object and goes on from the recorded one.

A step that keeps failing is counted on the export (one counter a step, added
before the work, so a crash or a timeout counts too); the delivery that would
be the queue's last (its maxReceiveCount) fails the export `export_failed`
instead of trying again, so an export never stays `running` in the DLQ.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.csv_export import STANDARD_COLUMNS, export_cell, iter_csv
from chalicelib.domain.errors import (
    BadRequest,
    FieldError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from chalicelib.domain.export_rows import (
    CONTENT_TYPES,
    EXPORT_FORMATS,
    csv_line,
    export_filename,
    parse_columns,
    part_csv,
    part_row,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import ExportJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_list import LeadList
from chalicelib.resources import STACK
from chalicelib.services.export_files import ExportFiles, ExportPart, ExportSegment
from chalicelib.services.lead_search import LeadSearch
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, JobQueue, Repository

EXPORT_FIELDS = {"filter", "columns", "format"}
# Lambda answers at most 6 MB, counted on the JSON envelope the body travels
# in (CR, LF and '"' take 2 bytes there, a non-ASCII character up to 6): the
# synchronous export answers a body whose escaped size is at most 5 MiB, which
# leaves ~1 MB for headers and envelope. Larger lists go to the job.
SYNC_EXPORT_MAX_BYTES = 5 * 1024 * 1024
# The jobs queue's maxReceiveCount: its last delivery of a step fails the export.
MAX_DELIVERIES = next(q.max_receive_count for q in STACK.queues if q.logical_name == "jobs")


@dataclass(frozen=True)
class ExportRecord:
    id: str
    workspace: str
    list_id: str
    status: str  # running | completed | failed
    format: str
    filename: str
    filter: Mapping[str, str]
    columns: tuple[str, ...] | None
    rows: int
    bytes: int
    created_at: str
    finished_at: str | None = None
    converted: int = 0  # rows converted into the final format so far
    error: Mapping[str, str] | None = None


class ExportStore(Protocol):
    """The export's record and its parts' and segments' records (DynamoDB)."""

    def create_export(self, record: ExportRecord) -> None: ...
    def get_export(self, export_id: str) -> ExportRecord | None: ...
    def get_part(self, export_id: str, number: int) -> ExportPart | None: ...
    def parts(self, export_id: str) -> list[ExportPart]: ...
    def record_part(self, export_id: str, part: ExportPart) -> bool:
        """Record the part and add its counts to the export; False if already recorded."""
        ...
    def segments(self, export_id: str) -> list[ExportSegment]: ...
    def record_segment(self, export_id: str, segment: ExportSegment) -> bool:
        """Record the segment (and add its rows to `converted`); False if already recorded."""
        ...
    def count_attempt(self, export_id: str, step: str) -> int:
        """Add one to the step's attempts and return them; NotFound if the export is gone."""
        ...
    def finish(self, export_id: str, status: str, *, rows: int, size: int,
               finished_at: str, error: Mapping[str, str] | None = None) -> None:
        """Set a running export's final status (a finished one is left as it is)."""
        ...
    def exports_of_list(self, list_id: str, limit: int) -> list[str]: ...
    def delete_export(self, export_id: str, list_id: str) -> None:
        """Every item of the export, and its entry in the list's exports."""
        ...


class SyncExport:
    """The synchronous export's body, and the file name it is sent as."""

    def __init__(self, body: str, filename: str) -> None:
        self.body = body
        self.filename = filename


class ExportService:
    def __init__(self, store: ExportStore, files: FileStore, lists: ListService,
                 repo: Repository, jobs: JobQueue, *, url_seconds: int,
                 search: LeadSearch) -> None:
        self._search = search
        self._store = store
        self._files = files
        self._lists = lists
        self._repo = repo
        self._jobs = jobs
        self._url_seconds = url_seconds
        self._writer = ExportFiles(store, files)

    # --- reading leads ------------------------------------------------------------
    def _read_leads(self, lst: LeadList, lead_filter: LeadFilter,
                    start: str | None = None) -> Iterator[tuple[Lead | None, str]]:
        """The one place exports read leads: each lead walked, with the position after it
        (a search cursor); None for a lead the filter does not match, so a caller can
        stop on time between. An indexed filter walks its index (services/lead_search.py)."""
        for lead, position, matched in self._search.examine(lst, lead_filter, start,
                                                            page_size=500):
            yield (lead if matched else None), position

    # --- the synchronous export ---------------------------------------------------
    def export_small(self, workspace: str, list_id: str, *, export_url: str) -> SyncExport:
        """The whole list as CSV, if its body fits a Lambda response; else 413.

        Leads are read until the body would pass the limit, never further: a
        large list is refused after about a limit's worth of leads.
        """
        lst = self._lists.get(workspace, list_id)
        leads: list[Lead] = []
        keys: set[str] = set()
        size = 0  # the escaped body: each row, then one comma a row for each custom column
        for lead, _ in self._read_leads(lst, LeadFilter.parse({})):
            if lead is None:
                continue
            leads.append(lead)
            keys.update(lead.custom_fields)
            size += _escaped_size(csv_line([
                *(export_cell(getattr(lead, c)) for c in STANDARD_COLUMNS),
                *(export_cell(v) for v in lead.custom_fields.values())]).decode())
            if size + len(leads) * len(keys) > SYNC_EXPORT_MAX_BYTES:
                raise _too_large(list_id, export_url)
        body = "".join(iter_csv(leads, keys))
        if _escaped_size(body) > SYNC_EXPORT_MAX_BYTES:
            raise _too_large(list_id, export_url)
        return SyncExport(body, f"{list_id}.csv")

    # --- the API of export jobs ---------------------------------------------------
    def start(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        lst = self._lists.get(workspace, list_id)
        errors = [FieldError(str(k), "unknown_field", f"Unknown field {k!r}")
                  for k in payload if k not in EXPORT_FIELDS]
        if errors:
            raise ValidationFailed(errors)
        fmt = payload.get("format", "csv")
        if fmt not in EXPORT_FORMATS:
            raise BadRequest(f"format must be one of {', '.join(EXPORT_FORMATS)}",
                             code="unsupported_format", details={"field": "format"})
        raw_filter = payload.get("filter") or {}
        if not isinstance(raw_filter, dict):
            raise ValidationFailed([FieldError("filter", "invalid_type",
                                               "filter must be an object")])
        try:
            lead_filter = LeadFilter.parse(raw_filter)
        except ValidationFailed as exc:
            raise ValidationFailed([FieldError(f"filter.{e.field}", e.code, e.message)
                                    for e in exc.errors]) from exc
        record = ExportRecord(
            id=new_id("ex"), workspace=workspace, list_id=lst.id, status="running",
            format=str(fmt), filename=export_filename(lst.name, lst.id, str(fmt)),
            filter=lead_filter.as_dict(), columns=parse_columns(payload.get("columns")),
            rows=0, bytes=0, created_at=utc_now_iso())
        self._store.create_export(record)
        self._jobs.send(ExportJob(workspace, record.id, 1, None).to_body())
        return self._to_api(record)

    def get(self, workspace: str, export_id: str) -> dict[str, Any]:
        record = self._store.get_export(export_id) if export_id.startswith("ex_") else None
        if record is None or record.workspace != workspace:
            raise NotFound("Export not found", details={"export_id": export_id})
        try:  # the export of a deleted list is gone with it, before the purge erases it
            self._lists.get(workspace, record.list_id)
        except NotFound:
            raise NotFound("Export not found", details={"export_id": export_id}) from None
        return self._to_api(record)

    def _to_api(self, record: ExportRecord) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": record.id, "list_id": record.list_id, "status": record.status,
            "format": record.format, "filter": dict(record.filter),
            "columns": list(record.columns) if record.columns else None,
            "rows": record.rows, "converted_rows": record.converted, "bytes": record.bytes,
            "created_at": record.created_at, "finished_at": record.finished_at,
            "error": dict(record.error) if record.error else None}
        if record.status == "completed":
            body["download_url"] = self._files.presigned_get(
                self._writer.final_key(record.id, record.format), self._url_seconds,
                filename=record.filename, content_type=CONTENT_TYPES[record.format])
            body["download_expires_in"] = self._url_seconds
        return body

    # --- erasure --------------------------------------------------------------------
    def erase_list(self, list_id: str, *, deadline: float) -> bool:
        """Erase every export of a deleted list (files, then records); False if time ran out."""
        while ids := self._store.exports_of_list(list_id, 25):
            for export_id in ids:
                self._writer.erase(export_id, list_id)
                if time.monotonic() > deadline:
                    return False
        return True

    # --- the job ----------------------------------------------------------------------
    def continue_export(self, job: ExportJob, *, deadline: float) -> None:
        """Write part `job.part` (once, whatever the deliveries), then go on or convert."""
        record = self._store.get_export(job.export_id)
        if record is None or record.workspace != job.workspace or record.status != "running":
            return  # expired, erased, not ours, or finished: nothing left to do
        part = self._store.get_part(record.id, job.part)
        if part is None:
            if not self._attempt(record, f"part{job.part}"):
                return
            try:
                part = self._write_part(record, job, deadline)
            except NotFound:  # the list was deleted meanwhile
                self._fail(record, "list_deleted", "The list was deleted during the export")
                return
        if part.end is not None:
            self._jobs.send(ExportJob(job.workspace, record.id, part.number + 1,
                                      part.end).to_body())
            return
        self._convert(record, job, deadline)

    def _convert(self, record: ExportRecord, job: ExportJob, deadline: float) -> None:
        """Steps of conversion and packing while time is left; at least one a run."""
        first = True
        while first or time.monotonic() < deadline:
            step = self._writer.next_step(record)
            if not self._attempt(record, step.name):
                return
            first = False
            if step.name == "pack":
                self._writer.pack(record, step)
                return
            if not self._writer.convert(record, step, deadline):
                return  # a racing delivery recorded this segment first: it goes on
        self._jobs.send(job.to_body())  # the same message: the next step is read afresh

    def _attempt(self, record: ExportRecord, step: str) -> bool:
        """Count this try of `step`; False (export failed) if it is the queue's last."""
        attempts = self._store.count_attempt(record.id, step)
        if attempts < MAX_DELIVERIES:
            return True
        self._fail(record, "export_failed",
                   f"The export failed {attempts - 1} times at its {step} step")
        return False

    def _fail(self, record: ExportRecord, code: str, message: str) -> None:
        self._store.finish(record.id, "failed", rows=record.rows, size=0,
                           finished_at=utc_now_iso(), error={"code": code, "message": message})

    def _write_part(self, record: ExportRecord, job: ExportJob, deadline: float) -> ExportPart:
        lst = self._lists.get(record.workspace, record.list_id)
        lead_filter = LeadFilter.parse(record.filter)
        start = job.position or None
        walked: dict[str, Any] = {"rows": 0, "end": None, "keys": set()}

        def rows() -> Iterator[list[str]]:
            for lead, position in self._read_leads(lst, lead_filter, start):
                if lead is not None:
                    walked["rows"] += 1
                    walked["keys"].update(lead.custom_fields)
                    yield part_row(lead)
                if time.monotonic() > deadline:
                    walked["end"] = position
                    return

        key = self._writer.part_key(record.id, job.part)
        size = self._writer.put(key, part_csv(rows()))
        part = ExportPart(job.part, key, walked["rows"], size, walked["end"],
                          tuple(sorted(walked["keys"])))
        try:
            recorded_now = self._store.record_part(record.id, part)
        except NotFound:  # erased with its list meanwhile: leave nothing behind
            self._files.delete(key)
            raise
        if recorded_now:
            return part
        # Another delivery of this message recorded the part first: its range stands.
        self._files.delete(key)
        recorded = self._store.get_part(record.id, job.part)
        if recorded is None:
            raise RuntimeError(f"export {record.id} part {job.part} vanished")
        return recorded


def _escaped_size(text: str) -> int:
    """Bytes `text` takes as a JSON string (Lambda's proxy envelope), quotes aside."""
    return len(json.dumps(text)) - 2


def _too_large(list_id: str, export_url: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The list's export is over {SYNC_EXPORT_MAX_BYTES // (1024 * 1024)} MiB, more than "
        f"one response can carry: export it in the background with POST {export_url}",
        code="export_too_large",
        details={"limit_bytes": SYNC_EXPORT_MAX_BYTES, "method": "POST",
                 "export_url": export_url, "export_path": f"/lists/{list_id}/exports"})


"""Exports of any size: `POST /lists/{id}/exports` runs on the jobs queue, `GET /exports/{id}`.

Each job message writes one *part*: the matching leads it walks within its
time budget, streamed to S3 (multipart, bounded memory), then hands the
position after them to the next part. The part that reaches the end of the
list assembles the parts, in order, into exports/<id>.csv and completes the
export, which is then downloaded with a short-lived presigned GET.

Where a part ends depends on the time budget, so a redelivered message cannot
rewrite "the same" part: the first delivery to record a part (a conditional
write, with the export's running counts in the same transaction) fixes its
range and its object; a later or concurrent delivery of that message drops
its own object and goes on from the recorded part. Each part's object has its
own name for that reason: two deliveries never write over each other.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.errors import BadRequest, FieldError, NotFound, ValidationFailed
from chalicelib.domain.export_rows import (
    EXPORT_FORMATS,
    Layout,
    export_filename,
    parse_columns,
    part_csv,
    part_row,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import ExportJob
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.services.lists import ListService
from chalicelib.services.ports import FileStore, JobQueue, Repository

CONTENT_TYPE = "text/csv; charset=utf-8"
EXPORT_FIELDS = {"filter", "columns", "format"}


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


@dataclass(frozen=True)
class ExportPart:
    """One part as recorded: its object, and where the next part starts (None: the last)."""

    number: int
    key: str
    rows: int
    bytes: int
    end: str | None
    custom_keys: tuple[str, ...]


class ExportStore(Protocol):
    """The export's record and its parts' records (DynamoDB)."""

    def create_export(self, record: ExportRecord) -> None: ...
    def get_export(self, export_id: str) -> ExportRecord | None: ...
    def get_part(self, export_id: str, number: int) -> ExportPart | None: ...
    def parts(self, export_id: str) -> list[ExportPart]: ...
    def record_part(self, export_id: str, part: ExportPart) -> bool:
        """Record the part and add its counts to the export; False if already recorded."""
        ...
    def finish(self, export_id: str, status: str, *, rows: int, size: int,
               finished_at: str) -> None:
        """Set a running export's final status (a finished one is left as it is)."""
        ...


def export_key(export_id: str) -> str:
    return f"exports/{export_id}.csv"


class ExportService:
    def __init__(self, store: ExportStore, files: FileStore, lists: ListService,
                 repo: Repository, jobs: JobQueue, *, url_seconds: int) -> None:
        self._store = store
        self._files = files
        self._lists = lists
        self._repo = repo
        self._jobs = jobs
        self._url_seconds = url_seconds

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
            format=str(fmt), filename=export_filename(lst.name, lst.id),
            filter=lead_filter.as_dict(), columns=parse_columns(payload.get("columns")),
            rows=0, bytes=0, created_at=utc_now_iso())
        self._store.create_export(record)
        self._jobs.send(ExportJob(workspace, record.id, 1, None).to_body())
        return self._to_api(record)

    def get(self, workspace: str, export_id: str) -> dict[str, Any]:
        record = self._store.get_export(export_id) if export_id.startswith("ex_") else None
        if record is None or record.workspace != workspace:
            raise NotFound("Export not found", details={"export_id": export_id})
        return self._to_api(record)

    def _to_api(self, record: ExportRecord) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": record.id, "list_id": record.list_id, "status": record.status,
            "format": record.format, "filter": dict(record.filter),
            "columns": list(record.columns) if record.columns else None,
            "rows": record.rows, "bytes": record.bytes, "created_at": record.created_at,
            "finished_at": record.finished_at}
        if record.status == "completed":
            body["download_url"] = self._files.presigned_get(
                export_key(record.id), self._url_seconds, filename=record.filename,
                content_type=CONTENT_TYPE)
            body["download_expires_in"] = self._url_seconds
        return body

    # --- the job -----------------------------------------------------------------
    def continue_export(self, job: ExportJob, *, deadline: float) -> None:
        """Write part `job.part` (once, whatever the deliveries), then go on or assemble."""
        record = self._store.get_export(job.export_id)
        if record is None or record.workspace != job.workspace or record.status != "running":
            return  # expired, not ours, or finished: nothing left to do
        part = self._store.get_part(record.id, job.part)
        if part is None:
            try:
                part = self._write_part(record, job, deadline)
            except NotFound:  # the list was deleted meanwhile
                self._store.finish(record.id, "failed", rows=record.rows, size=0,
                                   finished_at=utc_now_iso())
                return
        if part.end is not None:
            self._jobs.send(ExportJob(job.workspace, record.id, part.number + 1,
                                      part.end).to_body())
        else:
            self._assemble(record)

    def _write_part(self, record: ExportRecord, job: ExportJob, deadline: float) -> ExportPart:
        lst = self._lists.get(record.workspace, record.list_id)
        lead_filter = LeadFilter.parse(record.filter)
        start = LeadPosition.decode(job.position, lst.shards) if job.position else None
        walked: dict[str, Any] = {"rows": 0, "end": None, "keys": set()}

        def rows() -> Iterator[list[str]]:
            for lead, position in self._repo.walk_leads(lst, start, page_size=500):
                if lead_filter.matches(lead):
                    walked["rows"] += 1
                    walked["keys"].update(lead.custom_fields)
                    yield part_row(lead)
                if time.monotonic() > deadline:
                    walked["end"] = position.encode()
                    return

        key = f"exports/{record.id}/part-{job.part:06d}-{new_id('pt')[3:]}.csv"
        size = [0]
        self._files.put_stream(key, _counted(part_csv(rows()), size), content_type=CONTENT_TYPE,
                               metadata={})
        part = ExportPart(job.part, key, walked["rows"], size[0], walked["end"],
                          tuple(sorted(walked["keys"])))
        if self._store.record_part(record.id, part):
            return part
        # Another delivery of this message recorded the part first: its range stands.
        self._files.delete(key)
        recorded = self._store.get_part(record.id, job.part)
        if recorded is None:
            raise RuntimeError(f"export {record.id} part {job.part} vanished")
        return recorded

    def _assemble(self, record: ExportRecord) -> None:
        parts = self._store.parts(record.id)
        if not parts or [p.number for p in parts] != list(range(1, len(parts) + 1)) \
                or parts[-1].end is not None:
            raise RuntimeError(f"export {record.id} has parts missing: retried later")
        layout = Layout.of({k for p in parts for k in p.custom_keys}, record.columns)
        size = [0]
        self._files.put_stream(export_key(record.id), _counted(self._rows(layout, parts), size),
                               content_type=CONTENT_TYPE, metadata={})
        self._store.finish(record.id, "completed", rows=sum(p.rows for p in parts),
                           size=size[0], finished_at=utc_now_iso())

    def _rows(self, layout: Layout, parts: Sequence[ExportPart]) -> Iterator[bytes]:
        yield layout.header()
        for part in parts:
            if not part.rows:
                continue
            text = io.TextIOWrapper(self._files.open_stream(part.key), encoding="utf-8",
                                    newline="")
            yield from layout.lay_out(text)


def _counted(chunks: Iterable[bytes], size: list[int]) -> Iterator[bytes]:
    for chunk in chunks:
        size[0] += len(chunk)
        yield chunk

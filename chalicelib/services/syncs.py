"""Syncs: CRUD, runs (each one an import), the dispatcher, and what a finished run moves.

A run is an import of the CRM rows changed since the sync's bookmark, created
`ready` with the sync's mapping and started at once: the splitter reads the
CRM page by page (services/crm_rows.py) and the chunk workers save, update
(the sync's mode, `overwrite` by default) and count as for a file. One run at
a time: a lease on the sync, taken conditionally, held until the run
finishes (at most `LEASE`). The bookmark moves only when a run completes, to
the time that run started, so a failed or crashed run is read again in full
by the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.domain.clock import iso_utc, parse_iso, utc_now_iso
from chalicelib.domain.connections import DISPLAY_NAMES, ConnectionStatus
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, Conflict, LeadpipeError, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_state import ImportState
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.mapping_check import validate_mapping
from chalicelib.domain.syncs import (
    LEASE,
    LOOKBACK,
    Sync,
    header,
    next_run,
    parse_sync_create,
    parse_sync_update,
    read_fields,
)
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.connections import ConnectionService
from chalicelib.services.crm_ports import CrmReader
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.lists import ListService
from chalicelib.services.ports import ImportStore, Outbox

_FINISHED_OK = (ImportState.COMPLETED, ImportState.COMPLETED_WITH_ERRORS)


class SyncStore(Protocol):
    def save(self, sync: Sync, *, previous: Sync | None = None) -> None: ...
    def get(self, workspace: str, sync_id: str) -> Sync | None: ...
    def for_workspace(self, workspace: str, list_id: str | None = None) -> list[Sync]: ...
    def delete(self, sync: Sync) -> None: ...
    def due(self, now_iso: str, limit: int = ...) -> list[tuple[str, str]]: ...
    def acquire(self, sync: Sync, import_id: str, now_iso: str, until_iso: str) -> bool: ...
    def release(self, sync: Sync, import_id: str) -> bool: ...
    def add_run(self, sync: Sync, import_id: str) -> None: ...
    def runs(self, sync: Sync, limit: int, after: str | None) -> tuple[list[str], str | None]: ...


class SyncService:
    def __init__(self, store: SyncStore, lists: ListService, connections: ConnectionService,
                 readers: Mapping[Any, CrmReader], imports: ImportStore,
                 analyses: AnalysisStore, lifecycle: ImportLifecycle, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 outbox: Outbox | None = None) -> None:
        self._store = store
        # Webhooks: `sync.completed` when a run finished (docs/webhooks.md).
        self._outbox = outbox
        self._lists = lists
        self._connections = connections
        self._readers = readers
        self._imports = imports
        self._analyses = analyses
        self._lifecycle = lifecycle
        self._clock = clock

    # --- API ------------------------------------------------------------------
    def create(self, workspace: str, list_id: str, payload: Mapping[str, Any]) -> Sync:
        lst = self._lists.get(workspace, list_id)
        connection_id = payload.get("connection_id")
        if not isinstance(connection_id, str):
            raise BadRequest("connection_id is required", code="connection_required")
        connection = self._connections.get(workspace, connection_id)
        values = parse_sync_create(payload, connection.provider)
        values.pop("connection_id", None)
        now = self._clock()
        upcoming = next_run(values["schedule"], now)
        sync = Sync(id=new_id("sy"), workspace=workspace, list_id=lst.id,
                    connection_id=connection.id, provider=connection.provider,
                    created_at=iso_utc(now), updated_at=iso_utc(now),
                    next_run_at=iso_utc(upcoming) if upcoming else None, **values)
        self._check_mapping(sync)
        self._store.save(sync)
        return sync

    def page(self, workspace: str, list_id: str) -> list[Sync]:
        lst = self._lists.get(workspace, list_id)
        return sorted(self._store.for_workspace(workspace, lst.id), key=lambda s: s.created_at)

    def get(self, workspace: str, sync_id: str) -> Sync:
        sync = self._store.get(workspace, sync_id) if sync_id.startswith("sy_") else None
        if sync is None:
            raise NotFound("Sync not found", details={"sync_id": sync_id})
        return sync

    def update(self, workspace: str, sync_id: str, payload: Mapping[str, Any]) -> Sync:
        sync = self.get(workspace, sync_id)
        changes = parse_sync_update(payload)
        if "mapping" in changes:
            changes["mapping"] = {**sync.mapping, **changes["mapping"]}
        if "status_mapping" in changes:
            changes["status_mapping"] = {**sync.status_mapping, **changes["status_mapping"]}
        now = self._clock()
        if "schedule" in changes:
            upcoming = next_run(changes["schedule"], now)
            changes["next_run_at"] = iso_utc(upcoming) if upcoming else None
        updated = sync.with_changes(changes, iso_utc(now))
        self._check_mapping(updated)
        self._store.save(updated, previous=sync)
        return updated

    def delete(self, workspace: str, sync_id: str) -> None:
        self._store.delete(self.get(workspace, sync_id))

    def runs(self, workspace: str, sync_id: str, limit: int,
             cursor: str | None) -> tuple[list[ImportJob], str | None]:
        sync = self.get(workspace, sync_id)
        after = decode_cursor(cursor).get("k") if cursor else None
        if after is not None and (not isinstance(after, str) or not after.startswith("RUN#")):
            raise BadRequest("cursor is not valid", code="invalid_cursor")
        ids, last = self._store.runs(sync, limit, after)
        jobs = [j for i in ids if (j := self._imports.get(i)) is not None]
        return jobs, (encode_cursor({"k": last}) if last else None)

    def run_now(self, workspace: str, sync_id: str) -> ImportJob:
        return self._start(self.get(workspace, sync_id))

    # --- runs -------------------------------------------------------------------
    def _check_mapping(self, sync: Sync) -> None:
        lst = self._lists.get(sync.workspace, sync.list_id)
        fields = self._fields(sync)
        validate_mapping(sync.effective_mapping(), header(fields), lst.identity)

    def _fields(self, sync: Sync) -> list[str]:
        reader = self._readers[sync.provider]
        return read_fields(sync.provider, sync.crm_object, sync.effective_mapping(),
                           reader.default_fields(sync.crm_object))

    def _start(self, sync: Sync) -> ImportJob:
        """Create the run's import and start it; 409 sync_running if one is under way."""
        lst = self._lists.get(sync.workspace, sync.list_id)
        connection = self._connections.get(sync.workspace, sync.connection_id)
        if connection.status is ConnectionStatus.REAUTHORIZE:
            raise BadRequest(f"The {DISPLAY_NAMES[connection.provider]} connection must be "
                             "authorized again", code="reauthorize")
        now = self._clock()
        import_id = new_id("im")
        if not self._store.acquire(sync, import_id, iso_utc(now), iso_utc(now + LEASE)):
            raise Conflict("This sync is running; wait for its run to finish",
                           code="sync_running", details={"import_id": sync.running_import_id})
        try:
            job = self._create_run(sync, lst, import_id, now)
        except Exception:
            self._store.release(sync, import_id)
            raise
        self._store.add_run(sync, import_id)
        fresh = self._store.get(sync.workspace, sync.id) or sync
        self._store.save(fresh.with_changes({"last_run": {
            "import_id": import_id, "status": "running", "started_at": iso_utc(now)}},
            iso_utc(now)), previous=fresh)
        return job

    def _create_run(self, sync: Sync, lst: LeadList, import_id: str,
                    now: datetime) -> ImportJob:
        fields = self._fields(sync)
        columns = header(fields)
        mapping = validate_mapping(sync.effective_mapping(), columns, lst.identity)
        since = iso_utc(parse_iso(sync.bookmark) - LOOKBACK) if sync.bookmark else None
        stamp = iso_utc(now)
        job = ImportJob(id=import_id, workspace=sync.workspace, list_id=sync.list_id,
                        filename=f"{DISPLAY_NAMES[sync.provider]} {sync.object} sync",
                        status=ImportState.READY, created_at=stamp, updated_at=stamp,
                        object_key=f"uploads/{import_id}/sync", default_region=lst.default_region,
                        auto_start=False, sheet=None, mode=sync.mode,
                        source=sync.provider.value,
                        file={"kind": "crm", "provider": sync.provider.value,
                              "object": sync.crm_object, "sync_id": sync.id,
                              "since": since, "columns": columns})
        self._imports.create(job)
        self._analyses.store(job.id, {"columns": columns, "mapping": mapping, "source": {
            "provider": sync.provider.value, "object": sync.crm_object, "fields": fields,
            "connection_id": sync.connection_id, "sync_id": sync.id, "since": since,
            "started_at": stamp}})
        self._lifecycle.begin(job, mapping, sync.mode)
        return self._imports.get(job.id) or job

    def dispatch(self) -> dict[str, list[str]]:
        """Start every sync that is due (the schedule, every minute); what happened."""
        now = self._clock()
        started: list[str] = []
        skipped: list[str] = []
        for workspace, sync_id in self._store.due(iso_utc(now)):
            sync = self._store.get(workspace, sync_id)
            if sync is None or not sync.next_run_at or parse_iso(sync.next_run_at) > now:
                continue
            error: dict[str, str] | None = None
            try:
                self._start(sync)
                started.append(sync.id)
            except Conflict:
                skipped.append(sync.id)  # still running: this tick is skipped
            except LeadpipeError as exc:  # recorded on the sync; the others go on
                error = {"code": exc.code, "message": exc.message}
            current = self._store.get(workspace, sync_id) or sync
            upcoming = next_run(current.schedule, now)
            changes: dict[str, Any] = {"next_run_at": iso_utc(upcoming) if upcoming else None}
            if error:
                changes["error"] = error
            self._store.save(current.with_changes(changes, iso_utc(now)), previous=current)
        return {"started": started, "skipped": skipped}

    def on_import_finished(self, job: ImportJob) -> None:
        """A run ended: record it, move the bookmark if it completed, free the sync."""
        if job.source not in ("hubspot", "salesforce"):
            return
        source = self._analyses.load(job.id).get("source") or {}
        sync = self._store.get(job.workspace, str(source.get("sync_id", "")))
        if sync is None:
            return
        changes: dict[str, Any] = {"last_run": {
            "import_id": job.id, "status": job.status.value, "started_at": job.started_at,
            "finished_at": job.finished_at, "counts": job.counts.as_dict(),
            "error": dict(job.error) if job.error else None}}
        if job.status in _FINISHED_OK:
            changes.update(bookmark=source.get("started_at"), error=None)
        else:
            changes["error"] = dict(job.error) if job.error else {
                "code": "run_failed", "message": "The sync's run failed"}
        self._store.save(sync.with_changes(changes, utc_now_iso()), previous=sync)
        self._store.release(sync, job.id)
        if self._outbox is not None:
            self._outbox.emit(job.workspace, "sync.completed", {
                "sync_id": sync.id, "list_id": job.list_id, "import_id": job.id,
                "status": job.status.value, "counts": job.counts.as_dict(),
                "error": changes.get("error")})

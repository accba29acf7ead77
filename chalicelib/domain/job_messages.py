"""The jobs queue's messages (purge, copy, bulk, lead batches, exports): built and parsed here.

`parse_job` turns a body back into its shape; a body that is none of them
raises DropMessage (it can never succeed, so it is dropped, not retried).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import DropMessage
from chalicelib.domain.import_messages import required_count, required_str


@dataclass(frozen=True)
class PurgeListJob:
    """Delete a deleted list's leads, claims and counters, shard by shard."""

    list_id: str
    workspace: str
    identity: str
    shards: int
    # The list's filterable fields (records) and every "key#generation" it
    # ever had: their postings are found from the leads, or by their keys.
    fields: tuple[Mapping[str, Any], ...] = ()
    field_history: tuple[str, ...] = ()

    def to_body(self) -> dict[str, Any]:
        return {"type": "purge_list", "list_id": self.list_id, "workspace": self.workspace,
                "identity": self.identity, "shards": self.shards,
                "fields": [dict(f) for f in self.fields],
                "field_history": list(self.field_history)}


@dataclass(frozen=True)
class IndexFieldsJob:
    """Index a list's existing leads for newly filterable fields (their
    generations), and take out the words of text fields no longer filterable
    (`dropped`, as records), from `position`."""

    workspace: str
    list_id: str
    generations: tuple[int, ...]
    position: str | None
    dropped: tuple[Mapping[str, Any], ...] = ()

    def to_body(self) -> dict[str, Any]:
        return {"type": "index_fields", "workspace": self.workspace, "list_id": self.list_id,
                "generations": list(self.generations), "position": self.position,
                "dropped": [dict(d) for d in self.dropped]}


@dataclass(frozen=True)
class IndexPeopleJob:
    """Put a list's leads stored before the people index into it, from `position`
    (`leadpipe people backfill`: docs/suppression.md)."""

    workspace: str
    list_id: str
    position: str | None = None

    def to_body(self) -> dict[str, Any]:
        return {"type": "index_people", "workspace": self.workspace, "list_id": self.list_id,
                "position": self.position}


@dataclass(frozen=True)
class CopyListJob:
    """Go on copying a duplicated list's leads from `position`."""

    workspace: str
    source_id: str
    copy_id: str
    position: str | None

    def to_body(self) -> dict[str, Any]:
        return {"type": "copy_list", "workspace": self.workspace, "source_id": self.source_id,
                "copy_id": self.copy_id, "position": self.position}


@dataclass(frozen=True)
class BulkJob:
    """Go on applying a bulk action: by filter from `position`, or to the ids left."""

    workspace: str
    list_id: str
    request: Mapping[str, Any]  # BulkRequest.to_job()
    position: str

    def to_body(self) -> dict[str, Any]:
        return {"type": "bulk", "workspace": self.workspace, "list_id": self.list_id,
                "request": dict(self.request), "position": self.position}


@dataclass(frozen=True)
class BatchInsertJob:
    """Insert the rest of a `POST /leads/batch` that outlived its request.

    `items` are (index in the request, the lead id given at the request, the
    lead object as sent): parsed again here, so the message stays the request's
    own JSON and the ids stay the ones the 202 promised.
    """

    workspace: str
    list_id: str
    batch_id: str
    part: int
    items: tuple[tuple[int, str, Mapping[str, Any]], ...]

    def to_body(self) -> dict[str, Any]:
        return {"type": "lead_batch", "workspace": self.workspace, "list_id": self.list_id,
                "batch_id": self.batch_id, "part": self.part,
                "items": [[i, lead_id, dict(item)] for i, lead_id, item in self.items]}


@dataclass(frozen=True)
class StatusWritebackJob:
    """Write the current status of these leads back to the CRMs their list syncs with."""

    workspace: str
    list_id: str
    lead_ids: tuple[str, ...]

    def to_body(self) -> dict[str, Any]:
        return {"type": "status_writeback", "workspace": self.workspace,
                "list_id": self.list_id, "lead_ids": list(self.lead_ids)}


@dataclass(frozen=True)
class ExportJob:
    """Write part `part` of an export: the matching leads from `position` (None: the start)."""

    workspace: str
    export_id: str
    part: int
    position: str | None

    def to_body(self) -> dict[str, Any]:
        return {"type": "export", "workspace": self.workspace, "export_id": self.export_id,
                "part": self.part, "position": self.position}


@dataclass(frozen=True)
class ErasePersonJob:
    """Erase every trace of a person known by the hash alone (never the value)."""

    workspace: str
    erasure_id: str
    kind: str
    hash: str
    # The files walk goes on after this list id (a continuation).
    after_list: str | None = None
    # How many times the erasure came back for imports and exports still moving.
    rechecks: int = 0
    # The webhook delivery logs: done, or where their walk goes on.
    deliveries_done: bool = False
    after_delivery: str | None = None

    def to_body(self) -> dict[str, Any]:
        return {"type": "erase_person", "workspace": self.workspace,
                "erasure_id": self.erasure_id, "kind": self.kind, "hash": self.hash,
                "after_list": self.after_list, "rechecks": self.rechecks,
                "deliveries_done": self.deliveries_done,
                "after_delivery": self.after_delivery}


Job = (PurgeListJob | CopyListJob | BulkJob | BatchInsertJob | StatusWritebackJob | ExportJob
       | IndexFieldsJob | ErasePersonJob | IndexPeopleJob)


def _batch_items(raw: Any) -> tuple[tuple[int, str, Mapping[str, Any]], ...]:
    if not isinstance(raw, list) or not all(
            isinstance(e, list) and len(e) == 3 and isinstance(e[0], int)
            and isinstance(e[1], str) and isinstance(e[2], dict) for e in raw):
        raise DropMessage("job has no items", details={"field": "items"})
    return tuple((e[0], e[1], e[2]) for e in raw)


def parse_job(body: Mapping[str, Any]) -> Job:
    kind = body.get("type")
    if kind == "purge_list":
        shards = body.get("shards")
        if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
            raise DropMessage("job has no shards", details={"field": "shards"})
        fields = body.get("fields") or []
        history = body.get("field_history") or []
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields) \
                or not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise DropMessage("job has malformed fields", details={"field": "fields"})
        return PurgeListJob(required_str(body, "list_id"), required_str(body, "workspace"),
                            required_str(body, "identity"), shards, tuple(fields),
                            tuple(history))
    if kind == "index_fields":
        generations = body.get("generations")
        position = body.get("position")
        dropped = body.get("dropped") or []
        if not isinstance(generations, list) or not all(
                isinstance(g, int) and not isinstance(g, bool) for g in generations) \
                or not isinstance(dropped, list) or not all(isinstance(d, dict) for d in dropped) \
                or not (generations or dropped):
            raise DropMessage("job has no generations", details={"field": "generations"})
        return IndexFieldsJob(required_str(body, "workspace"), required_str(body, "list_id"),
                              tuple(generations), position if isinstance(position, str) else None,
                              tuple(dropped))
    if kind == "copy_list":
        position = body.get("position")
        return CopyListJob(required_str(body, "workspace"), required_str(body, "source_id"),
                           required_str(body, "copy_id"),
                           position if isinstance(position, str) else None)
    if kind == "bulk":
        request = body.get("request")
        if not isinstance(request, dict):
            raise DropMessage("job has no request", details={"field": "request"})
        # A selection by ids carries the ids left; one by filter, where to go on.
        position = "" if request.get("lead_ids") else required_str(body, "position")
        return BulkJob(required_str(body, "workspace"), required_str(body, "list_id"), request,
                       position)
    if kind == "lead_batch":
        return BatchInsertJob(required_str(body, "workspace"), required_str(body, "list_id"),
                              required_str(body, "batch_id"), required_count(body, "part"),
                              _batch_items(body.get("items")))
    if kind == "status_writeback":
        ids = body.get("lead_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise DropMessage("job has no lead_ids", details={"field": "lead_ids"})
        return StatusWritebackJob(required_str(body, "workspace"), required_str(body, "list_id"),
                                  tuple(ids))
    if kind == "export":
        position = body.get("position")
        return ExportJob(required_str(body, "workspace"), required_str(body, "export_id"),
                         required_count(body, "part"),
                         position if isinstance(position, str) else None)
    if kind == "index_people":
        position = body.get("position")
        return IndexPeopleJob(required_str(body, "workspace"), required_str(body, "list_id"),
                              position if isinstance(position, str) else None)
    if kind == "erase_person":
        after = body.get("after_list")
        rechecks = body.get("rechecks")
        after_delivery = body.get("after_delivery")
        return ErasePersonJob(required_str(body, "workspace"), required_str(body, "erasure_id"),
                              required_str(body, "kind"), required_str(body, "hash"),
                              after if isinstance(after, str) else None,
                              rechecks if isinstance(rechecks, int) and rechecks >= 0 else 0,
                              body.get("deliveries_done") is True,
                              after_delivery if isinstance(after_delivery, str) else None)
    raise DropMessage(f"unknown job type {str(kind)[:40]!r}", details={"field": "type"})

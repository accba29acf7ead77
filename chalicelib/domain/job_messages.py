"""The jobs queue's messages (list purge, list copy, bulk by filter): built and parsed here.

`parse_job` turns a body back into its shape; a body that is none of them
raises DropMessage (it can never succeed, so it is dropped, not retried).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import DropMessage
from chalicelib.domain.import_messages import required_str


@dataclass(frozen=True)
class PurgeListJob:
    """Delete a deleted list's leads, claims and counters, shard by shard."""

    list_id: str
    workspace: str
    identity: str
    shards: int

    def to_body(self) -> dict[str, Any]:
        return {"type": "purge_list", "list_id": self.list_id, "workspace": self.workspace,
                "identity": self.identity, "shards": self.shards}


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
    """Go on applying a bulk action by filter from `position`."""

    workspace: str
    list_id: str
    request: Mapping[str, Any]  # BulkRequest.to_job()
    position: str

    def to_body(self) -> dict[str, Any]:
        return {"type": "bulk", "workspace": self.workspace, "list_id": self.list_id,
                "request": dict(self.request), "position": self.position}


Job = PurgeListJob | CopyListJob | BulkJob


def parse_job(body: Mapping[str, Any]) -> Job:
    kind = body.get("type")
    if kind == "purge_list":
        shards = body.get("shards")
        if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
            raise DropMessage("job has no shards", details={"field": "shards"})
        return PurgeListJob(required_str(body, "list_id"), required_str(body, "workspace"),
                            required_str(body, "identity"), shards)
    if kind == "copy_list":
        position = body.get("position")
        return CopyListJob(required_str(body, "workspace"), required_str(body, "source_id"),
                           required_str(body, "copy_id"),
                           position if isinstance(position, str) else None)
    if kind == "bulk":
        request = body.get("request")
        if not isinstance(request, dict):
            raise DropMessage("job has no request", details={"field": "request"})
        return BulkJob(required_str(body, "workspace"), required_str(body, "list_id"), request,
                       required_str(body, "position"))
    raise DropMessage(f"unknown job type {str(kind)[:40]!r}", details={"field": "type"})

"""The import pipeline's queue messages: built and parsed here, nowhere else.

Each shape is a frozen dataclass with `to_body()` (what goes on the queue) and
`from_body()` (what a handler gets back). Parsing a body that is not the shape
raises DropMessage: a malformed message can never succeed, so it is dropped
with a log line instead of being retried into the DLQ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import unquote_plus

from chalicelib.domain.errors import DropMessage


class SplitBody(TypedDict):
    type: str
    import_id: str


class ChunkBody(TypedDict):
    type: str
    import_id: str
    chunk: int
    key: str
    rows: int


def required_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise DropMessage(f"message has no {name}", details={"field": name})
    return value


def required_count(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DropMessage(f"message has no {name}", details={"field": name})
    return value


@dataclass(frozen=True)
class SplitMessage:
    """Splits queue: stream the import's rows into chunks."""

    import_id: str

    def to_body(self) -> SplitBody:
        return {"type": "split", "import_id": self.import_id}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SplitMessage:
        return cls(required_str(body, "import_id"))


@dataclass(frozen=True)
class ChunkMessage:
    """Chunks queue: validate and save one chunk of rows (a JSON file in S3)."""

    import_id: str
    chunk: int
    key: str
    rows: int

    def to_body(self) -> ChunkBody:
        return {"type": "chunk", "import_id": self.import_id, "chunk": self.chunk,
                "key": self.key, "rows": self.rows}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ChunkMessage:
        return cls(required_str(body, "import_id"), required_count(body, "chunk"),
                   required_str(body, "key"), required_count(body, "rows"))

    @staticmethod
    def key_for(import_id: str, number: int) -> str:
        return f"chunks/{import_id}/{number:07d}.json"


@dataclass(frozen=True)
class UploadEvent:
    """Uploads queue: S3's ObjectCreated notification (S3 → SQS) for upload keys."""

    keys: tuple[str, ...]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> UploadEvent:
        records = body.get("Records", [])
        if not isinstance(records, list):
            raise DropMessage("S3 event has no Records list")
        keys: list[str] = []
        for record in records:
            obj = record.get("s3", {}).get("object", {}) if isinstance(record, dict) else {}
            key = obj.get("key") if isinstance(obj, dict) else None
            if isinstance(key, str) and key:
                keys.append(unquote_plus(key))
        # S3's test event ("s3:TestEvent") has no Records: nothing to do, no error.
        return cls(tuple(keys))

    @staticmethod
    def body_for(key: str) -> dict[str, Any]:
        """An S3-shaped event for one key (the watchdog re-sends a lost one)."""
        return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                             "s3": {"object": {"key": key}}}]}


def upload_import_id(key: str) -> str | None:
    """The import an upload key belongs to: uploads/<import id>/<secret>."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "uploads" or not parts[1]:
        return None
    return parts[1]

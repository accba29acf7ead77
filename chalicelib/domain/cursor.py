"""Opaque pagination cursors: URL-safe base64 of a small JSON object."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import BadRequest

MAX_CURSOR_LENGTH = 2048


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadRequest("cursor is not valid", code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc
    if not isinstance(data, dict):
        raise BadRequest("cursor is not valid", code="invalid_cursor")
    return data


@dataclass(frozen=True)
class LeadPosition:
    """Where a walk over a list's leads stands: shard, and last lead key read there."""

    shard: int
    sk: str | None = None

    def encode(self) -> str:
        return encode_cursor({"s": self.shard, "k": self.sk})

    @classmethod
    def decode(cls, cursor: str, shards: int | None = None) -> LeadPosition:
        data = decode_cursor(cursor)
        shard, sk = data.get("s"), data.get("k")
        bad_shard = not isinstance(shard, int) or isinstance(shard, bool) or shard < 0 \
            or (shards is not None and shard >= shards)
        if bad_shard or not isinstance(shard, int) \
                or not (sk is None or (isinstance(sk, str) and sk.startswith("L#"))):
            raise BadRequest("cursor is not valid", code="invalid_cursor")
        return cls(shard, sk)

"""Identifiers: time-ordered, URL-safe, prefixed by kind (ls_, ld_, ac_)."""

from __future__ import annotations

import hashlib
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase


def _b32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, *, now_ms: int | None = None) -> str:
    """`prefix_` + 10 chars of milliseconds + 16 random chars (a ULID in base32).

    Time first so ids sort by creation within a partition.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{prefix}_{_b32(ms, 10)}{_b32(secrets.randbits(80), 16)}"


def deterministic_id(prefix: str, key: str, *, now_ms: int) -> str:
    """Like new_id, but the random part derives from `key`: the same key, the same id.

    Imports use it per (import, row) so a redelivered chunk recognises its own work.
    """
    digest = hashlib.blake2b(key.encode(), digest_size=10).digest()
    return f"{prefix}_{_b32(now_ms, 10)}{_b32(int.from_bytes(digest, 'big'), 16)}"


def is_id(value: str, prefix: str) -> bool:
    """Whether `value` can be one of our ids of kind `prefix` ("ld", "ls", ...): a
    cheap check before a read, so a malformed id is a 404, never a key error."""
    return value.startswith(prefix + "_") and len(value) <= 64


def shard_of(key: str, shards: int) -> int:
    """Stable shard number in [0, shards) for a key (a lead id)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def fingerprint(value: str) -> str:
    """Fixed-length digest of an identity value, used in keys (bounded size)."""
    return hashlib.sha256(value.encode()).hexdigest()[:40]

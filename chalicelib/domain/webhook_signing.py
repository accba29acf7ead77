"""The `Leadpipe-Signature` header: HMAC-SHA256 over `<t>.<body>` with the endpoint's secret.

`t` (unix seconds) is signed with the body so a captured request cannot be
replayed later with a new time; receivers refuse a `t` too far from now
(docs/webhooks.md has the receiver's side, which `verify` mirrors).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Leadpipe-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value: `t=<unix>,v1=<hex>`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """True if `header` signs `body` with `secret` and its time is within `tolerance` of now."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))

"""Workspace API tokens as records: what is stored, what is shown, what a request may ask.

The token itself is never part of a record: only its SHA-256 (`token_hash`)
and its last four characters (`hint`, enough to tell two tokens apart in a
list, far too little to guess one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import FieldError, ValidationFailed

DEFAULT_TOKEN_NAME = "default"  # noqa: S105 (tokens made without a name, and legacy ones)
MAX_TOKEN_NAME = 100
MAX_EXPIRY_DAYS = 3650
HINT_LENGTH = 4
TOKEN_ID_PREFIX = "tok"  # noqa: S105 (an id prefix, not a secret)


def iso_from_epoch(seconds: float) -> str:
    """The project's timestamp form (see domain/clock.py) for epoch seconds."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_from_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def token_hint(token: str) -> str:
    return token[-HINT_LENGTH:]


@dataclass(frozen=True)
class TokenRecord:
    """One token as stored. `token_id` is None only on records written before tokens had ids."""

    token_hash: str
    workspace: str
    created_at: str
    token_id: str | None = None
    name: str = DEFAULT_TOKEN_NAME
    hint: str = ""
    expires_at: str | None = None
    last_used_at: str | None = None
    revoked: bool = False

    def expires_epoch(self) -> float | None:
        return epoch_from_iso(self.expires_at) if self.expires_at else None

    def is_expired(self, now: float) -> bool:
        expires = self.expires_epoch()
        return expires is not None and now >= expires

    def is_usable(self, now: float) -> bool:
        return not self.revoked and not self.is_expired(now)

    def to_api(self, now: float) -> dict[str, Any]:
        # Never the token, never its hash.
        return {
            "id": self.token_id,
            "name": self.name,
            "hint": self.hint,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "expired": self.is_expired(now),
        }


@dataclass(frozen=True)
class TokenRequest:
    name: str
    expires_in_days: int | None


def parse_token_request(payload: Mapping[str, Any]) -> TokenRequest:
    """`{"name": str, "expires_in_days": int | null}` → TokenRequest, or ValidationFailed.

    A relative lifetime rather than a timestamp: nothing to get wrong about
    time zones or formats, and no expiry in the past to refuse.
    """
    errors: list[FieldError] = []
    for key in payload:
        if key not in ("name", "expires_in_days"):
            errors.append(FieldError(str(key), "unknown_field", f"Unknown field {key!r}"))
    name = parse_token_name(payload.get("name"), errors)
    days = payload.get("expires_in_days")
    # bool is an int to Python, never to a client.
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= MAX_EXPIRY_DAYS):
        errors.append(FieldError("expires_in_days", "invalid_expiry",
                                 f"expires_in_days is a whole number from 1 to {MAX_EXPIRY_DAYS}"
                                 " (or null: never expires)"))
    if errors or name is None:
        raise ValidationFailed(errors)
    return TokenRequest(name=name, expires_in_days=days)


def parse_token_name(value: Any, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("name", "required", "name is required (a non-empty string)"))
        return None
    name = " ".join(value.split())
    if not name.isprintable():
        errors.append(FieldError("name", "invalid_name", "name holds control characters"))
        return None
    if len(name) > MAX_TOKEN_NAME:
        errors.append(FieldError("name", "value_too_long",
                                 f"name is at most {MAX_TOKEN_NAME} characters"))
        return None
    return name

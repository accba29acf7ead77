"""Webhook endpoints and their deliveries: the rules, no I/O (docs/webhooks.md).

An endpoint is a URL a workspace subscribed to some event types; a delivery
is one event sent to one endpoint, tried until a 2xx or until 24 hours after
its first attempt. The retry schedule, the state moves and the URL policy
(loopback only in the local stage) live here; signing is in webhook_signing.py.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.errors import BadRequest, FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.outbound_url import check_address, check_url, is_loopback_host
from chalicelib.domain.text import clean_text

EVENT_TYPES = (
    "lead.created", "lead.updated", "lead.status_changed", "lead.verified", "lead.deleted",
    "import.completed", "sync.completed", "follow_up.due",
)
MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_ENDPOINTS = 20  # a workspace's endpoints: each event is one message per endpoint

# Delivery states (GET /webhooks/{id}/deliveries).
PENDING, SUCCEEDED, RETRYING, FAILED = "pending", "succeeded", "retrying", "failed"
DELIVERY_STATES = (PENDING, SUCCEEDED, RETRYING, FAILED)

# Seconds after a failed attempt n (1-based) before attempt n + 1; the last
# delay repeats. A delivery is retried until RETRY_WINDOW after its first attempt.
RETRY_DELAYS = (30, 120, 600, 1800, 3600, 7200, 14400)
RETRY_WINDOW = 24 * 3600
# An endpoint none of whose attempts succeeded for this long is disabled.
DISABLE_AFTER = 24 * 3600
DISABLED_FAILING = "failing_for_24h"
# SQS delays a message at most this long; longer waits are hops of it.
MAX_QUEUE_DELAY = 900


@dataclass(frozen=True)
class Endpoint:
    id: str
    workspace: str
    url: str
    events: tuple[str, ...]
    description: str
    enabled: bool
    created_at: str
    updated_at: str
    disabled_reason: str | None = None
    # When its attempts started failing without a success since (epoch seconds).
    failing_since: float | None = None
    version: int = 1

    def subscribes(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": list(self.events),
                "description": self.description, "enabled": self.enabled,
                "disabled_reason": self.disabled_reason, "created_at": self.created_at,
                "updated_at": self.updated_at}


@dataclass(frozen=True)
class Delivery:
    """One event to one endpoint. `attempts` counts the attempts recorded."""

    id: str
    endpoint_id: str
    workspace: str
    event_id: str
    event_type: str
    created_at: str
    status: str = PENDING
    attempts: int = 0
    first_attempt_at: float | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    last_attempt_at: str | None = None
    next_attempt_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("workspace")
        data.pop("first_attempt_at")
        return data


@dataclass
class Prefetched:
    """A batch's endpoints (None: gone) with their sealed secrets, by (workspace,
    endpoint id), and the attempts each delivery recorded (0: none yet), by
    (workspace, endpoint id, delivery id)."""

    endpoints: dict[tuple[str, str], tuple[Endpoint, str] | None] = field(default_factory=dict)
    attempts: dict[tuple[str, str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptResult:
    """What one POST gave: a status code, or an error code (timeout, refused...)."""

    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_events(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed([FieldError("events", "invalid_events",
                                           "events is a non-empty list of event types")])
    unknown = [v for v in value if v not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed([FieldError(
            "events", "unknown_event_type",
            f"Unknown event type(s): {', '.join(map(str, unknown))[:200]}; "
            f"known: {', '.join(EVENT_TYPES)}")])
    return tuple(dict.fromkeys(str(v) for v in value))


def parse_url(value: Any, *, allow_loopback: bool) -> str:
    """The URL if its form may be saved (its host's addresses are checked separately)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise BadRequest(f"url is a URL of at most {MAX_URL} characters", code="invalid_url")
    url = value.strip()
    check_url(url)
    host = (urlsplit(url).hostname or "").strip("[]")
    if not allow_loopback and is_loopback_host(host):
        raise BadRequest("Refusing to call a loopback address", code="forbidden_address")
    return url


def check_addresses(addresses: Iterable[str], *, allow_loopback: bool) -> None:
    """Refuse a host that resolves to any address we must not call (BadRequest
    `forbidden_address`); loopback only where allowed (the local stage)."""
    for address in addresses:
        check_address(address)
        with contextlib.suppress(ValueError):
            if not allow_loopback and ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
                raise BadRequest("Refusing to call a loopback address", code="forbidden_address")


def parse_description(value: Any) -> str:
    """The text rule every user text passes (domain/text.py), one line."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed([FieldError("description", "invalid_description",
                                           f"description is text of at most {MAX_DESCRIPTION} "
                                           "characters")])
    try:
        return clean_text(value, field="description", max_length=MAX_DESCRIPTION,
                          multiline=False) or ""
    except InvalidValue as exc:
        raise ValidationFailed([FieldError("description", exc.code, exc.message)]) from None


def check_keys(payload: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                for k in unknown[:10]])


def patch_endpoint(endpoint: Endpoint, payload: Mapping[str, Any], *, url: str | None,
                   now: str) -> Endpoint:
    """The endpoint after a PATCH (url already checked); enabling clears the reason."""
    changes: dict[str, Any] = {"updated_at": now, "version": endpoint.version + 1}
    if url is not None:
        changes["url"] = url
    if "events" in payload:
        changes["events"] = parse_events(payload["events"])
    if "description" in payload:
        changes["description"] = parse_description(payload["description"])
    if "enabled" in payload:
        if not isinstance(payload["enabled"], bool):
            raise ValidationFailed([FieldError("enabled", "invalid_enabled",
                                               "enabled is true or false")])
        changes["enabled"] = payload["enabled"]
        if payload["enabled"]:
            changes.update(disabled_reason=None, failing_since=None)
        elif endpoint.enabled:
            changes["disabled_reason"] = "disabled_by_user"
    return replace(endpoint, **changes)


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt `attempt` (1-based)."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]


def next_attempt(attempt: int, first_attempt_at: float, now: float) -> float | None:
    """When to try again after failed attempt `attempt`, or None: the window is over.

    The last try falls at the window's end, so a delivery failing throughout
    has failed for the full 24 hours (and its endpoint is disabled then).
    """
    end = first_attempt_at + RETRY_WINDOW
    return None if now >= end else min(now + retry_delay(attempt), end)


def hop_delay(not_before: float, now: float) -> int:
    """The SQS delay of the next hop towards `not_before` (0: due now)."""
    return max(0, min(MAX_QUEUE_DELAY, int(not_before - now + 0.999)))


def should_disable(failing_since: float | None, now: float) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER

"""Follow-ups: a lead's next things to do, each due at a time (pure).

A follow-up is `open` until its time comes, then `due` (raised once by the
scheduled job, services/follow_ups.py), and `cancelled` when taken back.
The lead's `next_follow_up_at` is the earliest of its open and due ones: a
follow-up that fell due and was not dealt with is still the next thing to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from chalicelib.domain.clock import iso_utc
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.text import clean_text

FOLLOW_UP_STATUSES: Final = ("open", "due", "cancelled")
PENDING: Final = ("open", "due")
MAX_NOTE: Final = 2000
MAX_PER_LEAD: Final = 100


@dataclass(frozen=True)
class FollowUp:
    id: str
    lead_id: str
    list_id: str
    due_at: str
    created_at: str
    status: str = "open"
    note: str | None = None
    # The event that asked for it (a call with outcome callback), if any.
    event_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "lead_id": self.lead_id, "list_id": self.list_id,
                "due_at": self.due_at, "status": self.status, "note": self.note,
                "event_id": self.event_id, "created_at": self.created_at}


def parse_follow_up(payload: Mapping[str, Any]) -> tuple[str, str | None]:
    """(due_at, note) of a `POST .../follow-ups` body; ValidationFailed."""
    errors = [FieldError(str(k), "unknown_field", f"Unknown field {k!r}")
              for k in sorted(map(str, payload)) if k not in ("due_at", "note")]
    due_at = None
    raw = payload.get("due_at")
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.append(FieldError("due_at", "invalid_time",
                                 "due_at is an ISO 8601 time with an offset"))
    else:
        due_at = iso_utc(moment)
    note = payload.get("note")
    if note is not None and not isinstance(note, str):
        errors.append(FieldError("note", "invalid_type", "note is a string"))
        note = None
    try:
        note = clean_text(note, field="note", max_length=MAX_NOTE) if note else None
    except InvalidValue as exc:
        errors.append(FieldError("note", exc.code, exc.message))
    if errors or due_at is None:
        raise ValidationFailed(errors)
    return due_at, note


def next_follow_up(follow_ups: Iterable[FollowUp]) -> str | None:
    """The lead's next_follow_up_at: the earliest pending one."""
    return min((f.due_at for f in follow_ups if f.status in PENDING), default=None)


@dataclass(frozen=True)
class DueEntry:
    """A follow-up waiting in the due queue (`key`: the queue item's, opaque here)."""

    workspace: str
    list_id: str
    lead_id: str
    follow_up_id: str
    due_at: str
    key: Mapping[str, Any]

"""A lead's timeline: what happened to it, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.text import clean_text

ACTIVITY_TYPES = (
    "created", "imported", "edited", "status_changed", "note_added", "tags_changed", "verified",
    "updated_by_import",
)
MAX_NOTE_LENGTH = 5000
# Fields whose change is reported on its own line of the timeline, not as "edited".
_OWN_EVENT = {"status": "status_changed", "tags": "tags_changed"}
_TRACKED = (
    "first_name", "last_name", "email", "emails", "phone", "phone_extension", "phones",
    "company", "job_title", "linkedin_url", "location", "notes", "custom_fields",
)


@dataclass(frozen=True)
class Activity:
    id: str
    lead_id: str
    type: str
    at: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "lead_id": self.lead_id, "type": self.type, "at": self.at,
                "data": self.data}


def parse_note(payload: Mapping[str, Any]) -> str:
    """The text of a note to add: multi-line text under the rule every user text follows.

    Raises ValidationFailed (unknown_field, required, invalid_text, value_too_long).
    """
    errors = [FieldError(str(k), "unknown_field", f"Unknown field {k!r}")
              for k in sorted(map(str, payload)) if k != "text"]
    raw = payload.get("text")
    text = None
    try:
        text = clean_text(raw, field="text", max_length=MAX_NOTE_LENGTH) \
            if isinstance(raw, str) else None
    except InvalidValue as exc:
        errors.append(FieldError("text", exc.code, exc.message))
    else:
        if text is None:
            errors.append(FieldError("text", "required", "text is a non-empty string"))
    if errors or text is None:
        raise ValidationFailed(errors)
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def describe_changes(before: Lead, after: Lead) -> list[tuple[str, dict[str, Any]]]:
    """(activity type, data) for each kind of change between two versions of a lead."""
    events: list[tuple[str, dict[str, Any]]] = []
    edited = {
        name: {"from": _plain(getattr(before, name)), "to": _plain(getattr(after, name))}
        for name in _TRACKED
        if getattr(before, name) != getattr(after, name)
    }
    if edited:
        events.append(("edited", {"changes": edited}))
    if before.status != after.status:
        events.append((_OWN_EVENT["status"], {"from": before.status, "to": after.status}))
    if before.tags != after.tags:
        added = [t for t in after.tags if t not in before.tags]
        removed = [t for t in before.tags if t not in after.tags]
        events.append((_OWN_EVENT["tags"], {"added": added, "removed": removed}))
    return events


def with_current_verdict(items: list[Activity], lead: Lead) -> list[Activity]:
    """The first page of a timeline with the lead's current email verdict in its place.

    The verdict lives on the lead (one write per lead, not two); a stored
    "verified" entry exists only when a re-verification changed it, and then
    stands for it.
    """
    at = lead.email_checked_at
    if at is None or any(a.type == "verified" and a.at == at for a in items):
        return items
    verdict = Activity(f"ac_verified_{lead.id}", lead.id, "verified", at,
                       {"email": lead.email, "email_status": lead.email_status,
                        "reason": lead.email_status_reason})
    # at the same instant the verdict came first: what it caused reads above it
    newer = [a for a in items if a.at >= at]
    return [*newer, verdict, *items[len(newer):]]

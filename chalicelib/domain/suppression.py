"""Suppression entries: a workspace's people who must not be added to any list.

Pure: no I/O. An entry is keyed by `sha256(kind:value)` of the normalised
value (domain/people.py); it keeps a masked form for display, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Conflict, FieldError, ValidationFailed
from chalicelib.domain.people import SUPPRESSION_KINDS, PersonKey, parse_person

_REASON = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Reasons the service writes itself; a POST may give these or any other code.
EVENT_REASONS = ("unsubscribed", "bounced")


@dataclass(frozen=True)
class Suppression:
    id: str
    kind: str
    hash: str
    reason: str
    created_at: str
    masked: str | None = None  # None: stored as a hash only (an erased person)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "value": self.masked,
                "reason": self.reason, "created_at": self.created_at}


@dataclass(frozen=True)
class SuppressionRequest:
    key: PersonKey
    reason: str


def parse_suppression(payload: Mapping[str, Any]) -> SuppressionRequest:
    """`{"email"|"phone"|"linkedin_url"|"domain", "reason"?}`; ValidationFailed otherwise."""
    unknown = set(payload) - {*SUPPRESSION_KINDS, "reason"}
    if unknown:
        raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                for k in sorted(unknown)])
    key = parse_person(payload, SUPPRESSION_KINDS)
    reason = payload.get("reason", "manual")
    if not isinstance(reason, str) or not _REASON.fullmatch(reason):
        raise ValidationFailed([FieldError(
            "reason", "invalid_reason",
            "reason is a code: lowercase letters, digits and _, at most 40 characters")])
    return SuppressionRequest(key, reason)


class Suppressed(Conflict):
    """The person is on the workspace's suppression list."""

    code = "suppressed"

    def __init__(self, suppression_id: str, reason: str) -> None:
        super().__init__("This person is suppressed in the workspace",
                         details={"suppression_id": suppression_id, "reason": reason})
        self.suppression_id = suppression_id

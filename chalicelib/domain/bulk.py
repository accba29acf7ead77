"""Bulk actions on a selection of leads or on everything a filter matches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.statuses import LEAD_STATUSES
from chalicelib.domain.text import MAX_TAGS, normalise_tag

BULK_ACTIONS = ("delete", "set_status", "add_tags", "remove_tags")
MAX_BULK_IDS = 1000


@dataclass(frozen=True)
class BulkRequest:
    action: str
    lead_ids: tuple[str, ...] | None = None
    filter: LeadFilter | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()

    def to_job(self) -> dict[str, Any]:
        return {"action": self.action, "lead_ids": list(self.lead_ids or ()) or None,
                "filter": self.filter.as_dict() if self.filter else {},
                "status": self.status, "tags": list(self.tags)}

    @classmethod
    def from_job(cls, job: Mapping[str, Any]) -> BulkRequest:
        ids = job.get("lead_ids")
        return cls(action=job["action"], lead_ids=tuple(ids) if ids else None,
                   filter=LeadFilter.parse(job.get("filter") or {}),
                   status=job.get("status"), tags=tuple(job.get("tags") or ()))

    def changes_for(self, lead: Lead) -> dict[str, Any] | None:
        """Field changes this action makes to a lead; None when it changes nothing."""
        if self.action == "set_status":
            return None if lead.status == self.status else {"status": self.status}
        if self.action == "add_tags":
            seen = {x.casefold() for x in lead.tags}
            tags = list(lead.tags)
            for tag in self.tags:
                if tag.casefold() not in seen:
                    seen.add(tag.casefold())
                    tags.append(tag)
            # A lead holds MAX_TAGS at most; past that, adding changes nothing.
            capped = tuple(tags[:MAX_TAGS])
            return {"tags": capped} if capped != lead.tags else None
        if self.action == "remove_tags":
            drop = {t.casefold() for t in self.tags}
            kept = tuple(t for t in lead.tags if t.casefold() not in drop)
            return {"tags": kept} if kept != lead.tags else None
        return None


def parse_bulk_request(payload: Mapping[str, Any]) -> BulkRequest:
    errors: list[FieldError] = []
    allowed = {"action", "lead_ids", "filter", "status", "tags"}
    for key in payload:
        if key not in allowed:
            errors.append(FieldError(str(key), "unknown_field", f"Unknown field {key!r}"))
    action = payload.get("action")
    if action not in BULK_ACTIONS:
        errors.append(FieldError("action", "invalid_action",
                                 f"action must be one of {', '.join(BULK_ACTIONS)}"))
    has_ids, has_filter = "lead_ids" in payload, "filter" in payload
    if has_ids == has_filter:
        errors.append(FieldError("lead_ids", "invalid_selection",
                                 "give exactly one of lead_ids or filter"))
    lead_ids: tuple[str, ...] | None = None
    if has_ids:
        raw_ids = payload["lead_ids"]
        if not isinstance(raw_ids, list) or not all(isinstance(i, str) for i in raw_ids) \
                or len(raw_ids) > MAX_BULK_IDS:
            errors.append(FieldError("lead_ids", "invalid_type",
                                     f"lead_ids is an array of at most {MAX_BULK_IDS} ids"))
        else:
            lead_ids = tuple(dict.fromkeys(raw_ids))
    lead_filter: LeadFilter | None = None
    if has_filter:
        if not isinstance(payload["filter"], dict):
            errors.append(FieldError("filter", "invalid_type", "filter must be an object"))
        else:
            try:
                lead_filter = LeadFilter.parse(payload["filter"])
            except ValidationFailed as exc:
                errors.extend(FieldError(f"filter.{e.field}", e.code, e.message)
                              for e in exc.errors)
    status = payload.get("status")
    if action == "set_status" and status not in LEAD_STATUSES:
        errors.append(FieldError("status", "invalid_status",
                                 f"status must be one of {', '.join(LEAD_STATUSES)}"))
    tags: list[str] = []
    if action in ("add_tags", "remove_tags"):
        raw_tags = payload.get("tags")
        if not isinstance(raw_tags, list) or not raw_tags or len(raw_tags) > MAX_TAGS \
                or not all(isinstance(t, str) for t in raw_tags):
            errors.append(FieldError("tags", "invalid_type",
                                     f"tags is a non-empty array of at most {MAX_TAGS} strings"))
        else:
            for i, raw in enumerate(raw_tags):
                try:
                    tags.append(normalise_tag(raw))
                except InvalidValue as exc:
                    errors.append(FieldError(f"tags[{i}]", exc.code, exc.message))
    if errors:
        raise ValidationFailed(errors)
    return BulkRequest(action=str(action), lead_ids=lead_ids, filter=lead_filter,
                       status=status if action == "set_status" else None,
                       tags=tuple(dict.fromkeys(tags)))

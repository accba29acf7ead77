"""Search and filter over leads, as the API's query parameters describe it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import SOURCE_KINDS, source_kind
from chalicelib.domain.search_words import matches_query
from chalicelib.domain.statuses import EMAIL_STATUSES, LEAD_STATUSES

MAX_FILTER_LENGTH = 200


@dataclass(frozen=True)
class LeadFilter:
    q: str | None = None
    status: str | None = None
    email_status: str | None = None
    tag: str | None = None
    source: str | None = None  # api, file, google_sheets, hubspot, salesforce
    company: str | None = None
    job_title: str | None = None
    location: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LeadFilter:
        errors: list[FieldError] = []
        names = {f.name for f in fields(cls)}
        values: dict[str, str | None] = {}
        for key, value in raw.items():
            if key not in names:
                errors.append(FieldError(key, "unknown_field", f"Unknown filter {key!r}"))
                continue
            if value is None:
                continue
            if not isinstance(value, str) or len(value) > MAX_FILTER_LENGTH:
                errors.append(FieldError(key, "invalid_filter",
                                         f"{key} must be a string of at most "
                                         f"{MAX_FILTER_LENGTH} characters"))
                continue
            values[key] = value.strip() or None
        if values.get("status") and values["status"] not in LEAD_STATUSES:
            errors.append(FieldError("status", "invalid_status", "Unknown lead status"))
        if values.get("email_status") and values["email_status"] not in EMAIL_STATUSES:
            errors.append(FieldError("email_status", "invalid_email_status",
                                     "Unknown email status"))
        if values.get("source") and values["source"] not in SOURCE_KINDS:
            errors.append(FieldError("source", "invalid_source",
                                     "source must be one of " + ", ".join(SOURCE_KINDS)))
        if errors:
            raise ValidationFailed(errors)
        return cls(**values)

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def matches(self, lead: Lead) -> bool:
        if self.status and lead.status != self.status:
            return False
        if self.email_status and lead.email_status != self.email_status:
            return False
        if self.tag and self.tag.casefold() not in {t.casefold() for t in lead.tags}:
            return False
        if self.source and source_kind(lead) != self.source:
            return False
        for name in ("company", "job_title", "location"):
            wanted = getattr(self, name)
            if wanted and wanted.casefold() not in (getattr(lead, name) or "").casefold():
                return False
        return not self.q or matches_query(lead, self.q)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

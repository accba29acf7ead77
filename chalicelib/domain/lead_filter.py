"""Search and filter over leads, as the API's query parameters describe it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.clock import iso_utc, parse_iso
from chalicelib.domain.custom_index import FilterableField, encode
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import SOURCE_KINDS, source_kind
from chalicelib.domain.search_words import matches_query
from chalicelib.domain.statuses import EMAIL_STATUSES, LEAD_STATUSES
from chalicelib.domain.text import normalise_custom_field_key

MAX_FILTER_LENGTH = 200
TEXT_FILTERS = ("q", "status", "email_status", "tag", "source", "company", "job_title",
                "location")
CUSTOM_OPS = ("eq", "gte", "lte")
# Outreach filters (docs/events.md): a campaign id, and ranges of two lead times.
TIME_FIELDS = ("last_activity_at", "next_follow_up_at")
TIME_FILTERS = tuple(f"{name}.{op}" for name in TIME_FIELDS for op in ("gte", "lte"))
OUTREACH_FILTERS = ("campaign", *TIME_FILTERS)


def _time_bound(key: str, value: str, errors: list[FieldError]) -> str | None:
    try:
        return iso_utc(parse_iso(value))
    except ValueError:
        errors.append(FieldError(key, "invalid_filter",
                                 f"{key} is an ISO 8601 date or time"))
        return None


@dataclass(frozen=True)
class CustomCriterion:
    """`cf.<key>=v` (eq), `cf.<key>.gte=v`, `cf.<key>.lte=v`; `encoded` once bound
    to the list's field (domain/custom_index.encode), which also gives `generation`."""

    key: str
    op: str
    raw: str
    kind: str = ""
    encoded: str = ""
    generation: int = 0

    @property
    def param(self) -> str:
        return f"cf.{self.key}" + ("" if self.op == "eq" else f".{self.op}")


def _custom(key: str, value: str, errors: list[FieldError]) -> CustomCriterion | None:
    name, _, op = key[3:].partition(".")
    op = op or "eq"
    try:
        normalised = normalise_custom_field_key(name)
    except InvalidValue:
        normalised = ""
    if not normalised or op not in CUSTOM_OPS:
        errors.append(FieldError(key, "invalid_filter",
                                 "custom field filters are cf.<key>=, cf.<key>.gte=, "
                                 "cf.<key>.lte="))
        return None
    return CustomCriterion(normalised, op, value)


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
    custom: tuple[CustomCriterion, ...] = ()
    campaign: str | None = None
    # (name, op) -> ISO time in UTC, e.g. ("last_activity_at", "gte").
    times: tuple[tuple[str, str, str], ...] = ()
    # The list's filterable text fields: `q` finds their words too (set by bind).
    text_keys: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LeadFilter:
        errors: list[FieldError] = []
        values: dict[str, str | None] = {}
        custom: list[CustomCriterion] = []
        times: list[tuple[str, str, str]] = []
        for key, value in raw.items():
            if key not in TEXT_FILTERS and key not in OUTREACH_FILTERS \
                    and not key.startswith("cf."):
                errors.append(FieldError(key, "unknown_field", f"Unknown filter {key!r}"))
                continue
            if value is None:
                continue
            if not isinstance(value, str) or len(value) > MAX_FILTER_LENGTH:
                errors.append(FieldError(key, "invalid_filter",
                                         f"{key} must be a string of at most "
                                         f"{MAX_FILTER_LENGTH} characters"))
                continue
            if key.startswith("cf."):
                if value.strip() and (criterion := _custom(key, value.strip(), errors)):
                    custom.append(criterion)
                continue
            if key in TIME_FILTERS:
                if value.strip() and (bound := _time_bound(key, value.strip(), errors)):
                    name, _, op = key.partition(".")
                    times.append((name, op, bound))
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
        text: dict[str, Any] = dict(values)
        return cls(**text, custom=tuple(sorted(custom, key=lambda c: (c.key, c.op))),
                   times=tuple(sorted(times)))

    def bind(self, filterable: Sequence[FilterableField]) -> LeadFilter:
        """This filter against a list's filterable fields: each custom criterion
        typed and encoded; 400 for a field the list does not index (yet)."""
        by_key = {f.key: f for f in filterable}
        errors: list[FieldError] = []
        bound: list[CustomCriterion] = []
        for c in self.custom:
            field = by_key.get(c.key)
            if field is None or not field.ready:
                code, what = (("field_not_filterable", "is not a filterable field of this "
                               "list: PATCH /lists/{id} filterable_fields") if field is None
                              else ("field_indexing", "is still being indexed; try again "
                                    "in a moment"))
                errors.append(FieldError(c.param, code, f"{c.key} {what}"))
                continue
            encoded = encode(c.raw, field.type)
            if encoded is None or (c.op != "eq" and field.type in ("text", "boolean")):
                errors.append(FieldError(c.param, "invalid_filter",
                                         f"{c.param} takes a {field.type}"
                                         + (" (ranges need a number or date field)"
                                            if c.op != "eq" else "")))
                continue
            bound.append(replace(c, kind=field.type, encoded=encoded,
                                 generation=field.generation))
        if errors:
            raise ValidationFailed(errors)
        text_keys = tuple(f.key for f in filterable if f.type == "text" and f.ready)
        return replace(self, custom=tuple(bound), text_keys=text_keys)

    @property
    def is_empty(self) -> bool:
        return not self.as_dict()

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
        for c in self.custom:
            value = encode(lead.custom_fields.get(c.key), c.kind) if c.kind else None
            if value is None or not (value == c.encoded if c.op == "eq" else
                                     value >= c.encoded if c.op == "gte" else
                                     value <= c.encoded):
                return False
        if self.campaign and self.campaign not in lead.campaigns:
            return False
        for name, op, bound in self.times:
            value = getattr(lead, name)
            if not value or not (value >= bound if op == "gte" else value <= bound):
                return False
        return not self.q or matches_query(lead, self.q, self.text_keys)

    def time_range(self, name: str) -> tuple[str, str]:
        """(lo, hi) asked of a lead time ("" where open)."""
        lo = max((b for n, op, b in self.times if n == name and op == "gte"), default="")
        hi = min((b for n, op, b in self.times if n == name and op == "lte"), default="")
        return lo, hi

    def as_dict(self) -> dict[str, str]:
        """The filter as query parameters (what parse reads back)."""
        out = {name: str(getattr(self, name)) for name in TEXT_FILTERS
               if getattr(self, name) is not None}
        out.update({c.param: c.raw for c in self.custom})
        if self.campaign is not None:
            out["campaign"] = self.campaign
        out.update({f"{name}.{op}": bound for name, op, bound in self.times})
        return out

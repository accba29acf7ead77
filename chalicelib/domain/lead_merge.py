"""What an import row does to a lead the list already holds, per import mode.

Pure: given the lead and the row's normalised fields (convert_row), the
changes to apply, or {} when the row changes nothing ("unchanged").

- fill_empty: every empty field takes the row's value; where the lead already
  has a different primary phone or email, the row's goes to the alternates
  (nothing the lead holds is changed, nothing the row brings is lost); tags,
  alternates and custom fields are merged (the lead's first). Never status.
- overwrite: every non-empty value of the row replaces the lead's; lists
  (tags, alternates) are replaced by the row's when it has any; custom fields
  are replaced key by key; a mapped status column sets the status.
Empty cells change nothing in either mode. The identity field cannot change:
the row was matched to this lead by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.import_state import ImportMode
from chalicelib.domain.lead import MAX_ALTERNATES, Lead
from chalicelib.domain.text import MAX_CUSTOM_FIELDS, MAX_TAGS

SCALAR_FIELDS = ("first_name", "last_name", "company", "job_title", "linkedin_url",
                 "location", "notes")


def _phone_text(phone: str | None, extension: str | None) -> str | None:
    # As alternates store phones (lead.py): E.164 with ";ext=" when there is one.
    return phone if phone is None or extension is None else f"{phone};ext={extension}"


def _union(first: Iterable[str], second: Iterable[str], limit: int,
           exclude: str | None) -> tuple[str, ...]:
    merged: list[str] = []
    for value in (*first, *second):
        if value != exclude and value not in merged and len(merged) < limit:
            merged.append(value)
    return tuple(merged)


def merge_row(lead: Lead, row: Mapping[str, Any], mode: ImportMode) -> dict[str, Any]:
    """The changes `row` makes to `lead` under `mode`; {} if none (or mode is skip)."""
    if mode is ImportMode.SKIP:
        return {}
    target: dict[str, Any] = {}
    fill = mode is ImportMode.FILL_EMPTY
    for name in SCALAR_FIELDS:
        value = row.get(name)
        current = getattr(lead, name)
        if value and (current is None or not fill):
            target[name] = value
    email, emails = _primary_and_alternates(
        lead.email, lead.emails, row.get("email"), tuple(row.get("emails") or ()), fill)
    target["email"], target["emails"] = email, emails
    phone, phones = _primary_and_alternates(
        _phone_text(lead.phone, lead.phone_extension), lead.phones,
        _phone_text(row.get("phone"), row.get("phone_extension")),
        tuple(row.get("phones") or ()), fill)
    if phone != _phone_text(lead.phone, lead.phone_extension):
        target["phone"], target["phone_extension"] = row.get("phone"), row.get("phone_extension")
    target["phones"] = phones
    row_tags = tuple(row.get("tags") or ())
    if fill:
        target["tags"] = _union(lead.tags, row_tags, MAX_TAGS, None)
    elif row_tags:
        target["tags"] = row_tags
    target["custom_fields"] = _custom_fields(lead.custom_fields, row.get("custom_fields") or {},
                                             fill)
    if not fill and row.get("status"):
        target["status"] = row["status"]
    return {name: value for name, value in target.items() if getattr(lead, name) != value}


def _primary_and_alternates(primary: str | None, alternates: tuple[str, ...],
                            new_primary: str | None, new_alternates: tuple[str, ...],
                            fill: bool) -> tuple[str | None, tuple[str, ...]]:
    if fill:
        extra = new_alternates
        if new_primary and primary is None:
            primary = new_primary
        elif new_primary and new_primary != primary:
            extra = (new_primary, *new_alternates)
        return primary, _union(alternates, extra, MAX_ALTERNATES, primary)
    if new_primary:
        primary = new_primary
    kept = new_alternates if new_alternates else alternates
    return primary, _union(kept, (), MAX_ALTERNATES, primary)


def _custom_fields(current: Mapping[str, Any], new: Mapping[str, Any],
                   fill: bool) -> dict[str, Any]:
    merged = dict(current)
    for key, value in new.items():
        if value in (None, ""):
            continue
        if key in merged and fill:
            continue
        if key not in merged and len(merged) >= MAX_CUSTOM_FIELDS:
            continue
        merged[key] = value
    return merged


def changed_fields(before: Lead, changes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"from", "to"}} of a merge, for the lead's `updated_by_import` entry."""
    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    return {name: {"from": plain(getattr(before, name)), "to": plain(value)}
            for name, value in changes.items()}

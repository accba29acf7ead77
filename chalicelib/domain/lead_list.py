"""Lists of leads and the input that creates or edits them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.phone import is_valid_region
from chalicelib.domain.statuses import DEFAULT_IDENTITY, DEFAULT_REGION, IDENTITY_FIELDS
from chalicelib.domain.text import clean_text

MAX_LIST_NAME = 200


@dataclass(frozen=True)
class LeadList:
    id: str
    workspace: str
    name: str
    identity: str
    default_region: str
    shards: int
    created_at: str
    updated_at: str
    copy_status: str | None = None  # "copying" while a duplicate is being filled
    filterable_fields: tuple[FilterableField, ...] = ()
    # The next generation a newly marked field gets, and every "key#generation"
    # ever marked (the purge of a deleted list erases their postings).
    next_generation: int = 1
    field_history: tuple[str, ...] = ()

    def to_api(self, lead_count: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "identity": self.identity,
            "default_region": self.default_region,
            "lead_count": lead_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.copy_status:
            data["copy_status"] = self.copy_status
        data["filterable_fields"] = [f.to_api() for f in self.filterable_fields]
        return data


def _name(value: Any, errors: list[FieldError]) -> str | None:
    # One line of text by the rule every user text follows (domain/text).
    try:
        name = clean_text(value, field="name", max_length=MAX_LIST_NAME, multiline=False) \
            if isinstance(value, str) else None
    except InvalidValue as exc:
        errors.append(FieldError("name", exc.code, exc.message))
        return None
    if name is None:
        errors.append(FieldError("name", "required", "name is required (a non-empty string)"))
    return name


def _region(value: Any, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str) or not is_valid_region(value.strip().upper()):
        errors.append(FieldError("default_region", "invalid_region",
                                 "default_region must be a two-letter region code such as US"))
        return None
    return value.strip().upper()


def _unknown(payload: Mapping[str, Any], allowed: set[str], errors: list[FieldError]) -> None:
    for key in payload:
        if key not in allowed:
            errors.append(FieldError(str(key), "unknown_field", f"Unknown field {key!r}"))


def parse_list_create(payload: Mapping[str, Any]) -> dict[str, str]:
    errors: list[FieldError] = []
    _unknown(payload, {"name", "identity", "default_region"}, errors)
    name = _name(payload.get("name"), errors)
    identity = payload.get("identity", DEFAULT_IDENTITY)
    if identity not in IDENTITY_FIELDS:
        errors.append(FieldError("identity", "invalid_identity",
                                 f"identity must be one of {', '.join(IDENTITY_FIELDS)}"))
    region = _region(payload.get("default_region", DEFAULT_REGION), errors)
    if errors or name is None or region is None:
        raise ValidationFailed(errors)
    return {"name": name, "identity": str(identity), "default_region": region}


def parse_list_update(payload: Mapping[str, Any]) -> dict[str, str]:
    errors: list[FieldError] = []
    if "identity" in payload:
        errors.append(FieldError("identity", "immutable",
                                 "identity cannot change once a list holds leads; "
                                 "duplicate the list into a new one instead"))
    _unknown(payload, {"name", "default_region", "identity", "filterable_fields"}, errors)
    changes: dict[str, str] = {}
    if "name" in payload and (name := _name(payload["name"], errors)):
        changes["name"] = name
    if "default_region" in payload and (region := _region(payload["default_region"], errors)):
        changes["default_region"] = region
    if errors:
        raise ValidationFailed(errors)
    return changes


def parse_duplicate(payload: Mapping[str, Any]) -> str:
    errors: list[FieldError] = []
    _unknown(payload, {"name"}, errors)
    name = _name(payload.get("name"), errors)
    if errors or name is None:
        raise ValidationFailed(errors)
    return name

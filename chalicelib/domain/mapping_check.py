"""Checking a column mapping a user chose (merged over auto_map by the caller)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.column_mapping import CUSTOM_PREFIX, LIST_TARGETS, TARGET_FIELDS
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.statuses import IDENTITY_FIELDS
from chalicelib.domain.text import MAX_CUSTOM_FIELDS, normalise_custom_field_key


def validate_mapping(mapping: Mapping[str, Any], headers: list[str],
                     identity: str) -> dict[str, str | None]:
    """Check a complete mapping (user choices merged over auto_map by the caller).

    Returns column -> target for every header, in header order (a header the
    mapping leaves out is ignored), with custom keys normalised. Raises
    ValidationFailed listing every problem: unknown_column,
    unknown_target_field, invalid_type, invalid_custom_field_key,
    duplicate_target, too_many_custom_fields, identity_not_mapped.
    """
    if identity not in IDENTITY_FIELDS:
        raise ValueError(f"unknown identity {identity!r}")
    errors: list[FieldError] = []
    known = set(headers)
    for column in mapping:
        if not isinstance(column, str) or column not in known:
            errors.append(FieldError(f"mapping.{column}", "unknown_column",
                                     f"No column named {column!r} in the file"))
    cleaned: dict[str, str | None] = dict.fromkeys(headers)
    claimed: dict[str, str] = {}
    for column in headers:
        if column not in mapping:
            continue
        field = f"mapping.{column}"
        target = _clean_target(mapping[column], field, errors)
        if target is None:
            continue
        if target not in LIST_TARGETS:
            holder = claimed.setdefault(target, column)
            if holder != column:
                errors.append(FieldError(field, "duplicate_target",
                                         f"Columns {holder!r} and {column!r} are both mapped "
                                         f"to {target}; it takes one column"))
                continue
        cleaned[column] = target
    customs = sum(1 for t in cleaned.values() if t is not None and t.startswith(CUSTOM_PREFIX))
    if customs > MAX_CUSTOM_FIELDS:
        errors.append(FieldError("mapping", "too_many_custom_fields",
                                 f"At most {MAX_CUSTOM_FIELDS} columns can be custom fields "
                                 f"({customs} are)"))
    if identity not in claimed:
        errors.append(FieldError("mapping", "identity_not_mapped",
                                 f"No column is mapped to {identity}, which identifies leads "
                                 "in this list"))
    if errors:
        raise ValidationFailed(errors, "Invalid column mapping")
    return cleaned


def _clean_target(target: Any, field: str, errors: list[FieldError]) -> str | None:
    if target is None:
        return None
    if not isinstance(target, str):
        errors.append(FieldError(field, "invalid_type",
                                 "A target is a field name, 'custom:<key>' or null"))
        return None
    if target.startswith(CUSTOM_PREFIX):
        try:
            return CUSTOM_PREFIX + normalise_custom_field_key(target[len(CUSTOM_PREFIX):])
        except InvalidValue as exc:
            errors.append(FieldError(field, exc.code, exc.message))
            return None
    if target not in TARGET_FIELDS:
        errors.append(FieldError(field, "unknown_target_field",
                                 f"Unknown target {target!r}: use one of "
                                 f"{', '.join(TARGET_FIELDS)}, 'custom:<key>' or null"))
        return None
    return target

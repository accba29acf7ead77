"""Filterable custom fields: which a list indexes, and how values sort (pure).

A list marks up to 10 custom fields filterable, each typed text, number,
date or boolean (`PATCH /lists/{id}` `{"filterable_fields": [...]}`). Each
lead's value of such a field becomes one posting whose sort key *sorts as
the type does*, so exact values and ranges are key conditions:

- number: the IEEE-754 double, bits flipped so byte order is numeric order;
- date: `YYYY-MM-DD` (a datetime counts by its day);
- boolean: `0` / `1` (true, yes, 1 / false, no, 0 as written in a file);
- text: folded (accents off, case folded), whole value, 100 characters.

A value that is not of the field's type is not indexed (and a filter on
the field does not match it). Each time a field becomes filterable it gets a
new generation, part of its postings' key: postings of an earlier marking
can never answer for the current one.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.search_words import fold
from chalicelib.domain.text import normalise_custom_field_key

FIELD_TYPES = ("text", "number", "date", "boolean")
MAX_FILTERABLE = 10
MAX_TEXT_KEY = 100
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class FilterableField:
    key: str
    type: str
    generation: int
    ready: bool = False  # False while its existing leads are being indexed

    def to_api(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type,
                "status": "ready" if self.ready else "indexing"}

    def to_record(self) -> dict[str, Any]:
        return {"key": self.key, "type": self.type, "generation": self.generation,
                "ready": self.ready}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> FilterableField:
        return cls(str(data["key"]), str(data["type"]), int(data["generation"]),
                   bool(data.get("ready")))


def encode(value: Any, kind: str) -> str | None:
    """The sortable key text of a value as `kind`, or None if it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "number":
        return _number(value)
    if kind == "date":
        return _date(value)
    if kind == "boolean":
        return _boolean(value)
    text = fold(str(value)).strip()
    return text[:MAX_TEXT_KEY] or None


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value.strip().replace(",", "") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    bits = struct.unpack(">Q", struct.pack(">d", number + 0.0))[0]
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 1 << 63
    return f"{bits:016x}"


def _date(value: Any) -> str | None:
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _boolean(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).strip().casefold()
    return "1" if text in _TRUE else "0" if text in _FALSE else None


def posting_pk(list_id: str, shard: int, field: FilterableField) -> str:
    return f"CF#{list_id}#{shard:03d}#{field.key}#{field.generation}"


def posting_sk(encoded: str, lead_id: str) -> str:
    return f"{encoded}#L#{lead_id}"


def lead_values(custom_fields: Mapping[str, Any],
                fields: Sequence[FilterableField]) -> list[tuple[FilterableField, str]]:
    out: list[tuple[FilterableField, str]] = []
    for field in fields:
        encoded = encode(custom_fields.get(field.key), field.type)
        if encoded is not None:
            out.append((field, encoded))
    return out


def parse_filterable(raw: Any, current: Sequence[FilterableField],
                     next_generation: int) -> tuple[FilterableField, ...]:
    """The list's fields after a PATCH: kept ones keep their state, new ones index."""
    errors: list[FieldError] = []
    if not isinstance(raw, list) or len(raw) > MAX_FILTERABLE:
        raise ValidationFailed([FieldError(
            "filterable_fields", "invalid_filterable_fields",
            f"filterable_fields must be a list of at most {MAX_FILTERABLE} "
            '{"key", "type"} objects')])
    by_key = {f.key: f for f in current}
    result: list[FilterableField] = []
    for i, entry in enumerate(raw):
        where = f"filterable_fields[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"key", "type"} \
                or not isinstance(entry.get("key"), str) or entry.get("type") not in FIELD_TYPES:
            errors.append(FieldError(where, "invalid_filterable_field",
                                     'each entry is {"key": <custom field>, "type": '
                                     + " | ".join(FIELD_TYPES) + "}"))
            continue
        try:
            key = normalise_custom_field_key(entry["key"])
        except InvalidValue as exc:
            errors.append(FieldError(where, exc.code, exc.message))
            continue
        if any(f.key == key for f in result):
            errors.append(FieldError(where, "duplicate_filterable_field",
                                     f"{key!r} is listed twice"))
            continue
        kept = by_key.get(key)
        if kept is not None and kept.type == entry["type"]:
            result.append(kept)
        else:
            result.append(FilterableField(key, entry["type"], next_generation))
            next_generation += 1
    if errors:
        raise ValidationFailed(errors)
    return tuple(result)


def mark_ready(fields: Sequence[FilterableField],
               generations: Sequence[int]) -> tuple[FilterableField, ...]:
    return tuple(replace(f, ready=True) if f.generation in generations else f
                 for f in fields)

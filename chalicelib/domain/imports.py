"""Import rows: turning one row of a source into lead fields, and cutting rows into chunks.

A row is rejected only for what makes it unusable: its identity field is
missing or invalid, it has more cells than the header, or it repeats a person
seen earlier in the file or already in the list. A bad *optional* value (a
broken phone on an email list, an over-long job title) is dropped with a
warning and the lead is saved without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.email_address import normalise_email
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.fingerprint_table import FirstOccurrences
from chalicelib.domain.lead import parse_lead_fields
from chalicelib.domain.linkedin import normalise_linkedin_url
from chalicelib.domain.phone import normalise_phone
from chalicelib.domain.statuses import LEAD_STATUSES

LIST_TARGETS = frozenset({"emails", "phones", "tags"})
PREVIEW_ROWS = 10
SAMPLE_ROWS = 1000
_TAG_SPLIT = re.compile(r"[,;|]")
# Alternates in one cell (a JSON array arrives joined with "; "): an address
# cannot hold these unquoted; a phone may hold ";ext=", so only "; " splits it.
_LIST_SPLIT = {"tags": _TAG_SPLIT, "emails": _TAG_SPLIT, "phones": re.compile(r";\s+|\|")}
_STATUS_WORDS = {s.replace("_", ""): s for s in LEAD_STATUSES}

# Stable reason codes of the error report, with the message each one carries.
REASONS = {
    "missing_identity": "The list's identity field is empty",
    "invalid_email": "The email address is not valid",
    "invalid_phone": "The phone number is not a valid number",
    "unparseable_phone": "The phone number could not be read",
    "invalid_linkedin_url": "Not a LinkedIn profile URL",
    "value_too_long": "A value is longer than allowed",
    "ragged_row": "The row has more cells than the header",
    "duplicate_in_file": "The same person appears earlier in the file",
    "duplicate_in_list": "The person is already in the list",
    "suppressed": "The person is on the workspace's suppression list",
    "suppressed_erased": "The person was erased (right to be forgotten): the row's cells "
                         "are not kept",
    "processing_failed": "The row could not be processed; import it again",
    "stalled": "The import stopped before this row was processed; import it again",
    "invalid_json": "The record is not valid JSON or not an object",
    "too_deeply_nested": "The record is nested more than 5 levels deep",
}


@dataclass
class RowResult:
    """What became of one data row."""

    number: int
    fields: dict[str, Any] | None = None  # lead fields when the row is usable
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.fields is not None and not self.errors


def _split_name(full: str) -> tuple[str | None, str | None]:
    full = " ".join(full.split())
    if not full:
        return None, None
    if "," in full:  # "Lovelace, Ada" as CRMs export it
        last, _, first = full.partition(",")
        return first.strip() or None, last.strip() or None
    first, _, last = full.partition(" ")
    return first or None, last or None


def _status_value(raw: str) -> str | None:
    key = re.sub(r"[^a-z]", "", raw.lower())
    return _STATUS_WORDS.get(key)


def row_payload(cells: Sequence[str], columns: Sequence[tuple[int, str]],
                warnings: list[FieldError]) -> dict[str, Any]:
    """Cells → the API's lead payload shape, per the mapping (index, target)."""
    payload: dict[str, Any] = {}
    custom: dict[str, str] = {}
    full_name: str | None = None
    for index, target in columns:
        value = cells[index] if index < len(cells) else ""
        if not value or not value.strip():
            continue
        if target in LIST_TARGETS:
            parts = _LIST_SPLIT[target].split(value)
            payload.setdefault(target, []).extend(p for p in parts if p.strip())
        elif target.startswith("custom:"):
            custom[target[7:]] = value
        elif target == "full_name":
            full_name = value
        elif target == "status":
            status = _status_value(value)
            if status is None:
                warnings.append(FieldError("status", "invalid_status",
                                           f"Unknown status {value[:50]!r} ignored"))
            else:
                payload["status"] = status
        else:
            payload[target] = value
    if full_name and not payload.get("first_name") and not payload.get("last_name"):
        first, last = _split_name(full_name)
        if first:
            payload["first_name"] = first
        if last:
            payload["last_name"] = last
    if custom:
        payload["custom_fields"] = custom
    return payload


def _drop(payload: dict[str, Any], error_field: str) -> None:
    """Remove the offending value named by a FieldError's field path."""
    name, _, rest = error_field.partition("[")
    if name.startswith("custom_fields."):
        payload.get("custom_fields", {}).pop(name.split(".", 1)[1], None)
    elif rest and isinstance(payload.get(name), list):
        index = int(rest.rstrip("]"))
        if index < len(payload[name]):
            payload[name][index] = ""  # keeps the other indexes stable; blanks are skipped
    else:
        payload.pop(name, None)


def convert_row(number: int, cells: Sequence[str], columns: Sequence[tuple[int, str]],
                header_width: int, identity: str, default_region: str, *,
                problem: str | None = None, problem_message: str | None = None) -> RowResult:
    """One row → lead fields, or the reasons it cannot be saved.

    `problem` is a reason the reader already found (a malformed JSON record):
    the row is rejected with it.
    """
    result = RowResult(number)
    if problem is not None:
        result.errors.append(FieldError("row", problem, problem_message or problem))
        return result
    if len(cells) > header_width and any(c.strip() for c in cells[header_width:]):
        result.errors.append(FieldError("row", "ragged_row",
                                        f"{len(cells)} cells for {header_width} columns"))
        return result
    payload = row_payload(cells, columns, result.warnings)
    if not payload.get(identity):
        result.errors.append(FieldError(identity, "missing_identity", REASONS["missing_identity"]))
        return result
    for _ in range(3):  # each pass drops the bad optional values the last one found
        try:
            # A stray control character in a cell is removed, not the row's
            # failure: the file's author cannot be asked (domain/text).
            result.fields = parse_lead_fields(payload, default_region=default_region,
                                              controls="strip")
            return result
        except ValidationFailed as exc:
            fatal = [e for e in exc.errors if e.field == identity]
            if fatal:
                result.errors.extend(fatal)
                return result
            for error in exc.errors:
                result.warnings.append(error)
                _drop(payload, error.field)
    result.errors.append(FieldError("row", "processing_failed", REASONS["processing_failed"]))
    return result


def preview_entry(result: RowResult) -> dict[str, Any]:
    return {
        "row": result.number,
        "lead": result.fields if result.ok else None,
        "errors": [e.as_dict() for e in result.errors],
        "warnings": [w.as_dict() for w in result.warnings],
    }


def summarise(results: Sequence[RowResult], duplicates_in_sample: int) -> dict[str, Any]:
    by_code: dict[str, int] = {}
    for r in results:
        for e in r.errors:
            by_code[e.code] = by_code.get(e.code, 0) + 1
    return {
        "rows_sampled": len(results),
        "valid": sum(1 for r in results if r.ok) - duplicates_in_sample,
        "invalid": sum(1 for r in results if not r.ok),
        "duplicates_in_sample": duplicates_in_sample,
        "with_warnings": sum(1 for r in results if r.ok and r.warnings),
        "errors_by_code": by_code,
    }


def mapped_columns(headers: Sequence[str],
                   mapping: Mapping[str, str | None]) -> list[tuple[int, str]]:
    return [(i, target) for i, h in enumerate(headers)
            if (target := mapping.get(h)) is not None]


def check_start_mapping(mapping: Any) -> dict[str, str | None]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
        raise ValidationFailed([FieldError("mapping", "invalid_type",
                                           "mapping is an object from column to field")])
    return dict(mapping)


def identity_key(raw: str, identity: str, region: str) -> str | None:
    """The normalised identity value, or None when the row cannot be saved anyway."""
    try:
        if identity == "email":
            return normalise_email(raw)
        if identity == "phone":
            return normalise_phone(raw, region).e164
        return normalise_linkedin_url(raw)
    except InvalidValue:
        return None


# [row number, cells, row of the earlier occurrence or None, reader problem or None,
#  its message or None]; the last two are left out when there is no problem.
ChunkRow = list[Any]


def split_chunks(rows: Iterable[Any], *, width: int, identity_index: int, identity: str,
                 region: str, chunk_rows: int,
                 seen: FirstOccurrences | None = None) -> Iterator[list[ChunkRow]]:
    """Cut data rows into chunks, marking repeats of a person seen earlier in the file.

    Only rows that can be saved (identity valid, not ragged) are remembered, so
    a person's first *usable* row wins, whichever chunk is processed first.
    Memory: one chunk plus 12 bytes a distinct person. `seen` carries the
    people of earlier calls (a source read page by page).
    """
    seen = seen if seen is not None else FirstOccurrences()
    chunk: list[ChunkRow] = []
    for row in rows:
        cells = row.cells
        earlier = None
        problem = getattr(row, "problem", None)
        if problem is not None:
            chunk.append([row.number, cells, None, problem, getattr(row, "problem_message", None)])
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
            continue
        ragged = len(cells) > width and any(c.strip() for c in cells[width:])
        raw = cells[identity_index] if identity_index < len(cells) else ""
        if raw.strip() and not ragged:
            value = identity_key(raw, identity, region)
            if value is not None:
                earlier = seen.first_row(value, row.number)
        chunk.append([row.number, cells, earlier])
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

"""Imports: their lifecycle, and turning one file row into lead fields.

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
from chalicelib.domain.statuses import LEAD_STATUSES, VERDICT_STATUSES

IMPORT_STATUSES = (
    "awaiting_upload", "analysing", "ready", "running", "completed",
    "completed_with_errors", "failed",
)
FINISHED = frozenset({"completed", "completed_with_errors", "failed"})
LIST_TARGETS = frozenset({"emails", "phones", "tags"})
PREVIEW_ROWS = 10
SAMPLE_ROWS = 1000
_TAG_SPLIT = re.compile(r"[,;|]")
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
    "processing_failed": "The row could not be processed; import it again",
}


@dataclass(frozen=True)
class ImportCounts:
    saved: int = 0
    duplicates: int = 0
    invalid: int = 0

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(self.saved + other.saved, self.duplicates + other.duplicates,
                            self.invalid + other.invalid)

    @property
    def rows(self) -> int:
        return self.saved + self.duplicates + self.invalid

    def as_dict(self) -> dict[str, int]:
        return {"saved": self.saved, "duplicates": self.duplicates, "invalid": self.invalid}


def verification_counts(saved: int, verdicts: Mapping[str, int]) -> dict[str, int]:
    """The import's saved leads by email status; what has no verdict yet is pending.

    `verdicts` are counted once per verification batch, which may land a moment
    before its chunk's `saved`: pending never goes below zero meanwhile.
    """
    counts = {status: int(verdicts.get(status, 0)) for status in (*VERDICT_STATUSES, "none")}
    return {"pending": max(0, saved - sum(counts.values())), **counts}


@dataclass(frozen=True)
class ImportJob:
    id: str
    workspace: str
    list_id: str
    filename: str
    status: str
    created_at: str
    updated_at: str
    object_key: str
    default_region: str
    auto_start: bool = False
    sheet: str | None = None
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    file: Mapping[str, Any] | None = None
    preview: Sequence[Mapping[str, Any]] = ()
    sample_summary: Mapping[str, Any] | None = None
    total_rows: int | None = None
    chunks_total: int | None = None
    chunks_done: int = 0
    counts: ImportCounts = ImportCounts()
    started_at: str | None = None
    finished_at: str | None = None
    error: Mapping[str, str] | None = None
    verification: Mapping[str, int] | None = None

    @property
    def processed_rows(self) -> int:
        return self.counts.rows

    @property
    def progress(self) -> int:
        if self.status in FINISHED:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.processed_rows * 100 // self.total_rows)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "list_id": self.list_id, "filename": self.filename,
            "status": self.status, "created_at": self.created_at,
            "updated_at": self.updated_at, "default_region": self.default_region,
            "file": dict(self.file) if self.file else None,
            "mapping": dict(self.mapping), "preview": list(self.preview),
            "sample_summary": dict(self.sample_summary) if self.sample_summary else None,
            "total_rows": self.total_rows, "processed_rows": self.processed_rows,
            "progress": self.progress, "counts": self.counts.as_dict(),
            "started_at": self.started_at, "finished_at": self.finished_at,
            "error": dict(self.error) if self.error else None,
        }
        if self.verification is not None:
            data["verification"] = dict(self.verification)
        return data


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
            parts = _TAG_SPLIT.split(value) if target == "tags" else [value]
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
                header_width: int, identity: str, default_region: str) -> RowResult:
    result = RowResult(number)
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
            result.fields = parse_lead_fields(payload, default_region=default_region)
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


ChunkRow = list[Any]  # [row number, cells, row of the earlier occurrence or None]


def split_chunks(rows: Iterable[Any], *, width: int, identity_index: int, identity: str,
                 region: str, chunk_rows: int) -> Iterator[list[ChunkRow]]:
    """Cut data rows into chunks, marking repeats of a person seen earlier in the file.

    Only rows that can be saved (identity valid, not ragged) are remembered, so
    a person's first *usable* row wins, whichever chunk is processed first.
    Memory: one chunk plus 12 bytes a distinct person.
    """
    seen = FirstOccurrences()
    chunk: list[ChunkRow] = []
    for row in rows:
        cells = row.cells
        earlier = None
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

"""The lead: its fields, and turning untrusted input into normalised values.

Only normalised values are stored (E.164 phones, lowercased emails, canonical
LinkedIn URLs), so the stored value is also the value compared for dedupe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from chalicelib.domain.email_address import normalise_email
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.linkedin import normalise_linkedin_url
from chalicelib.domain.phone import normalise_phone
from chalicelib.domain.statuses import EMAIL_STATUSES, LEAD_STATUSES
from chalicelib.domain.text import (
    MAX_CUSTOM_FIELDS,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
    Controls,
    clean_text,
    normalise_custom_field_key,
    normalise_tag,
)

TEXT_FIELDS = ("first_name", "last_name", "company", "job_title", "location", "notes")
# The text fields that may span lines; the others are one line (domain/text).
MULTILINE_FIELDS = frozenset({"notes"})
MAX_ALTERNATES = 20
# Every field a client may send when creating or editing a lead.
INPUT_FIELDS = frozenset(
    {*TEXT_FIELDS, "email", "emails", "phone", "phones", "linkedin_url", "tags",
     "custom_fields", "status"}
)
CustomValue = str | int | float | bool | None


@dataclass(frozen=True)
class Lead:
    id: str
    list_id: str
    created_at: str
    updated_at: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    emails: tuple[str, ...] = ()
    phone: str | None = None
    phone_extension: str | None = None
    phones: tuple[str, ...] = ()
    company: str | None = None
    job_title: str | None = None
    linkedin_url: str | None = None
    location: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, CustomValue] = field(default_factory=dict)
    status: str = "new"
    email_status: str = "pending"
    # Why the verifier said so (a code of domain/deliverability.REASONS), and when.
    email_status_reason: str | None = None
    email_checked_at: str | None = None
    version: int = 0
    # Where the lead came from when not the API, e.g. {"import_id", "row", "filename"}.
    source: Mapping[str, Any] | None = None
    # The import that last updated this lead (fill_empty/overwrite): a
    # redelivered chunk sees its own mark and counts the row updated again
    # without writing it twice. Internal: not in the API.
    import_mark: str | None = None
    # What outreach events made of the lead (domain/event_rules.py): the newest
    # event's time, its campaigns by id ({name, step, total_steps, last_event,
    # last_event_at}) and its earliest pending follow-up.
    last_activity_at: str | None = None
    campaigns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    next_follow_up_at: str | None = None

    def identity_value(self, identity: str) -> str | None:
        value = getattr(self, identity)
        return value if isinstance(value, str) else None

    def with_changes(self, changes: Mapping[str, Any], *, updated_at: str) -> Lead:
        return replace(self, **changes, updated_at=updated_at)

    def to_api(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("version")
        data.pop("import_mark")
        data["emails"] = list(self.emails)
        data["phones"] = list(self.phones)
        data["tags"] = list(self.tags)
        data["custom_fields"] = dict(self.custom_fields)
        data["campaigns"] = {k: dict(v) for k, v in self.campaigns.items()}
        data["source"] = dict(self.source) if self.source else None
        return data


def _require_str(value: Any, name: str, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "invalid_type", f"{name} must be a string"))
        return None
    return value


def _require_str_list(value: Any, name: str, limit: int, errors: list[FieldError]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(FieldError(name, "invalid_type", f"{name} must be an array of strings"))
        return []
    if len(value) > limit:
        errors.append(FieldError(name, "too_many_values", f"{name} holds at most {limit} values"))
        return []
    return value


def _normalise_each(value: Any, name: str, limit: int, normalise: Callable[[str], str],
                    errors: list[FieldError], *, skip_blank: bool = True) -> list[str]:
    """Normalise every string of an array field; an error names its index."""
    result: list[str] = []
    for i, raw in enumerate(_require_str_list(value, name, limit, errors)):
        if skip_blank and not raw.strip():
            continue
        try:
            result.append(normalise(raw))
        except InvalidValue as exc:
            errors.append(FieldError(f"{name}[{i}]", exc.code, exc.message))
    return result


def _unique(values: list[str], exclude: str | None = None) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value != exclude:
            seen.setdefault(value, None)
    return tuple(seen)


def _phone_text(e164: str | None, extension: str | None) -> str | None:
    # Alternates keep an extension in RFC 3966 style so no digit is lost.
    return e164 if e164 is None or extension is None else f"{e164};ext={extension}"


def _format_alternate_phone(raw: str, region: str) -> str:
    phone = normalise_phone(raw, region)
    return str(_phone_text(phone.e164, phone.extension))


def parse_lead_fields(
    payload: Mapping[str, Any], *, default_region: str, partial: bool = False,
    controls: Controls = "reject",
) -> dict[str, Any]:
    """Validate and normalise client input into Lead field values.

    With `partial` (PATCH) only the keys present are returned; null clears a
    field. `controls` says what a control character in a text is: an
    `invalid_text` error (API input) or removed (an imported row); see
    domain/text. Raises ValidationFailed listing every bad field at once.
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for key in payload:
        if key not in INPUT_FIELDS:
            errors.append(FieldError(str(key), "unknown_field", f"Unknown field {key!r}"))

    if not partial:
        # Absent fields take their empty values without going through the
        # normalisers: an import row usually fills a handful of fields.
        out.update(dict.fromkeys(TEXT_FIELDS), email=None, emails=[], phone=None,
                   phone_extension=None, phones=[], linkedin_url=None, tags=(),
                   custom_fields={})

    for name in TEXT_FIELDS:
        if name in payload:
            raw = _require_str(payload.get(name), name, errors)
            try:
                out[name] = None if raw is None else clean_text(
                    raw, field=name, multiline=name in MULTILINE_FIELDS, controls=controls)
            except InvalidValue as exc:
                errors.append(FieldError(name, exc.code, exc.message))

    if "email" in payload:
        out["email"] = _normalise_scalar(payload, "email", normalise_email, errors)
    if "emails" in payload:
        out["emails"] = _normalise_each(payload.get("emails"), "emails", MAX_ALTERNATES,
                                        normalise_email, errors)

    if "phone" in payload:
        raw = _require_str(payload.get("phone"), "phone", errors)
        out["phone"], out["phone_extension"] = None, None
        if raw is not None and raw.strip():
            try:
                phone = normalise_phone(raw, default_region)
                out["phone"], out["phone_extension"] = phone.e164, phone.extension
            except InvalidValue as exc:
                errors.append(FieldError("phone", exc.code, exc.message))
    if "phones" in payload:
        out["phones"] = _normalise_each(
            payload.get("phones"), "phones", MAX_ALTERNATES,
            lambda raw: _format_alternate_phone(raw, default_region), errors)

    if "linkedin_url" in payload:
        out["linkedin_url"] = _normalise_scalar(payload, "linkedin_url", normalise_linkedin_url,
                                                errors)

    if "tags" in payload:
        # a blank tag is an error, not nothing: normalise_tag says so
        out["tags"] = _unique(_normalise_each(
            payload.get("tags"), "tags", MAX_TAGS,
            lambda raw: normalise_tag(raw, controls=controls), errors, skip_blank=False))

    if "custom_fields" in payload:
        out["custom_fields"] = _parse_custom_fields(payload.get("custom_fields"), errors,
                                                    controls)

    if "status" in payload:
        status = payload["status"]
        if status not in LEAD_STATUSES:
            errors.append(FieldError("status", "invalid_status",
                                     f"status must be one of {', '.join(LEAD_STATUSES)}"))
        else:
            out["status"] = status

    if errors:
        raise ValidationFailed(errors)
    if "emails" in out:
        out["emails"] = _unique(out["emails"], exclude=out.get("email"))
    if "phones" in out:
        out["phones"] = _unique(out["phones"], exclude=_phone_text(out.get("phone"),
                                                                   out.get("phone_extension")))
    return out


def _normalise_scalar(payload: Mapping[str, Any], name: str,
                      normalise: Callable[[str], str], errors: list[FieldError]) -> str | None:
    """One string field through its normaliser; blank is None, a failure a FieldError."""
    raw = _require_str(payload.get(name), name, errors)
    if raw is None or not raw.strip():
        return None
    try:
        return normalise(raw)
    except InvalidValue as exc:
        errors.append(FieldError(name, exc.code, exc.message))
        return None


def _parse_custom_fields(value: Any, errors: list[FieldError],
                         controls: Controls) -> dict[str, CustomValue]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError("custom_fields", "invalid_type",
                                 "custom_fields must be an object"))
        return {}
    if len(value) > MAX_CUSTOM_FIELDS:
        errors.append(FieldError("custom_fields", "too_many_custom_fields",
                                 f"A lead holds at most {MAX_CUSTOM_FIELDS} custom fields"))
        return {}
    result: dict[str, CustomValue] = {}
    for raw_key, raw_value in value.items():
        try:
            key = normalise_custom_field_key(str(raw_key))
        except InvalidValue as exc:
            errors.append(FieldError(f"custom_fields.{raw_key}", exc.code, exc.message))
            continue
        name = f"custom_fields.{key}"
        if key in result:
            errors.append(FieldError(name, "duplicate_custom_field_key",
                                     f"{raw_key!r} is the same field as another key ({key})"))
            continue
        if isinstance(raw_value, str):
            try:
                result[key] = clean_text(raw_value, field=name, max_length=MAX_TEXT_LENGTH,
                                         controls=controls)
            except InvalidValue as exc:
                errors.append(FieldError(name, exc.code, exc.message))
        elif raw_value is None or isinstance(raw_value, bool | int | float):
            if isinstance(raw_value, float) and not math.isfinite(raw_value):
                errors.append(FieldError(name, "invalid_type", "numbers must be finite"))
            else:
                result[key] = raw_value
        else:
            errors.append(FieldError(name, "invalid_type",
                                     "custom field values are strings, numbers, booleans or null"))
    return result


def fresh_email_status(email: str | None) -> dict[str, Any]:
    """The verification fields of a lead whose email was just set (or cleared)."""
    return {"email_status": "pending" if email else "none", "email_status_reason": None,
            "email_checked_at": None}


def check_identity(fields: Mapping[str, Any], identity: str) -> None:
    """A lead must carry its list's identity field: it is what dedupe compares."""
    if not fields.get(identity):
        raise ValidationFailed([FieldError(identity, "missing_identity",
                                           f"{identity} is required: it identifies leads "
                                           "in this list")])


def check_email_status(value: str) -> str:
    if value not in EMAIL_STATUSES:
        allowed = ", ".join(EMAIL_STATUSES)
        raise ValidationFailed([FieldError("email_status", "invalid_email_status",
                                           f"email_status must be one of {allowed}")])
    return value

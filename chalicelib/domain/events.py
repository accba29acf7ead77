"""Outreach events as engines send them to `POST /events` (pure: parsing only).

An event says what happened to a lead in an outreach engine (a mail sent, a
call with its transcript, a reply). Each is checked on its own: a bad event
becomes an `invalid` result with its reasons and never fails the batch. What
an event does to the lead is domain/event_rules.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from chalicelib.domain.clock import iso_utc, parse_iso
from chalicelib.domain.errors import BadRequest, FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.statuses import IDENTITY_FIELDS
from chalicelib.domain.text import clean_text

EVENT_TYPES: Final = ("email_sent", "email_opened", "email_clicked", "replied", "bounced",
                      "unsubscribed", "call", "message", "meeting_booked")
CALL_OUTCOMES: Final = ("answered", "no_answer", "voicemail", "busy", "failed",
                        "not_interested", "callback")
CHANNELS: Final = ("whatsapp", "sms", "linkedin")
DIRECTIONS: Final = ("inbound", "outbound")
MAX_EVENTS: Final = 500
MAX_ID_LENGTH: Final = 200
MAX_TRANSCRIPT_BYTES: Final = 100_000
MAX_MESSAGE_LENGTH: Final = 20_000
MAX_URL_LENGTH: Final = 2048
MAX_EXTRA_BYTES: Final = 10_000  # `extracted`, and the data of the other types
MAX_CALL_SECONDS: Final = 86_400
# Engines' clocks drift: an event may be this far ahead of ours, no further.
CLOCK_SKEW: Final = timedelta(minutes=5)
# Activity ids carry their time (domain/ids.py): nothing before this is taken.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_TOP_KEYS: Final = frozenset({"id", "type", "occurred_at", "lead", "campaign", "data"})
_CALL_KEYS: Final = frozenset({"direction", "duration_s", "outcome", "callback_at",
                               "transcript", "recording_url", "extracted"})
_MESSAGE_KEYS: Final = frozenset({"channel", "direction", "text"})


@dataclass(frozen=True)
class LeadRef:
    """How an event names its lead: its id (with its list, optionally), or
    its list and the list's identity value (raw: normalised with the list)."""

    lead_id: str | None = None
    list_id: str | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str | None = None
    step: int | None = None
    total_steps: int | None = None


@dataclass(frozen=True)
class OutreachEvent:
    id: str
    type: str
    occurred_at: str  # ISO 8601 UTC (domain/clock.iso_utc): sorts as text
    lead: LeadRef
    campaign: Campaign | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> str | None:
        value = self.data.get("direction")
        return value if isinstance(value, str) else None

    @property
    def outcome(self) -> str | None:
        value = self.data.get("outcome")
        return value if isinstance(value, str) else None

    @property
    def callback_at(self) -> str | None:
        value = self.data.get("callback_at")
        return value if isinstance(value, str) else None


def batch_of(body: Mapping[str, Any]) -> list[Any]:
    """The events of a `POST /events` body; 400 for a wrong shape or over 500."""
    unknown = sorted(str(k) for k in body if k != "events")
    events = body.get("events")
    if unknown or not isinstance(events, list):
        raise BadRequest('The body is {"events": [...]}', code="invalid_events",
                         details={"unknown_fields": unknown})
    if len(events) > MAX_EVENTS:
        raise BadRequest(f"At most {MAX_EVENTS} events a request ({len(events)} sent)",
                         code="too_many_events", details={"max": MAX_EVENTS})
    return events


def event_id_of(raw: Any) -> str | None:
    """The engine's id of a raw event, if it has a usable one (echoed in its result)."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else None


def parse_event(raw: Any, *, now: datetime) -> OutreachEvent:
    """One event, checked and normalised; ValidationFailed lists every reason."""
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError("", "invalid_event", "an event is a JSON object")])
    errors = [FieldError(str(k), "unknown_field", f"Unknown field {k!r}")
              for k in sorted(map(str, raw)) if k not in _TOP_KEYS]
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_ID_LENGTH \
            or not event_id.isprintable():
        errors.append(FieldError("id", "invalid_id",
                                 f"id is the engine's printable id, 1-{MAX_ID_LENGTH} characters"))
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        errors.append(FieldError("type", "unknown_type",
                                 "type is one of " + ", ".join(EVENT_TYPES)))
    occurred = _time(raw.get("occurred_at"), "occurred_at", errors)
    if occurred is not None and occurred > now + CLOCK_SKEW:
        errors.append(FieldError("occurred_at", "occurred_at_in_future",
                                 "occurred_at is more than 5 minutes ahead of now"))
    elif occurred is not None and occurred < EARLIEST:
        errors.append(FieldError("occurred_at", "occurred_at_too_old",
                                 "occurred_at is before 2000"))
    lead = _lead_ref(raw.get("lead"), errors)
    campaign = _campaign(raw.get("campaign"), errors)
    data = _data(kind, raw.get("data"), errors) if kind in EVENT_TYPES else {}
    if errors or occurred is None or lead is None or not isinstance(event_id, str):
        raise ValidationFailed(errors)
    return OutreachEvent(event_id, str(kind), iso_utc(occurred), lead, campaign, data)


def _time(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    """An ISO 8601 time *with* its offset (a time without one is ambiguous)."""
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    errors.append(FieldError(name, "invalid_time",
                             f"{name} is an ISO 8601 time with an offset, "
                             "e.g. 2026-11-26T09:30:00Z"))
    return None


def _lead_ref(value: Any, errors: list[FieldError]) -> LeadRef | None:
    if isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values()):
        keys = set(value)
        if keys in ({"id"}, {"id", "list_id"}):
            return LeadRef(lead_id=value["id"], list_id=value.get("list_id"))
        identity = keys - {"list_id"}
        if "list_id" in keys and len(identity) == 1 and identity <= set(IDENTITY_FIELDS):
            name = identity.pop()
            return LeadRef(list_id=value["list_id"], field=name, value=value[name])
    errors.append(FieldError("lead", "invalid_lead",
                             'lead is {"id"} or {"list_id", and one of "email", "phone", '
                             '"linkedin_url"}'))
    return None


def _positive_int(value: Any, name: str, errors: list[FieldError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
        errors.append(FieldError(name, "invalid_number", f"{name} is a whole number 0-10000"))
        return None
    return value


def _campaign(value: Any, errors: list[FieldError]) -> Campaign | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"id", "name", "step", "total_steps"}:
        errors.append(FieldError("campaign", "invalid_campaign",
                                 'campaign is {"id", "name"?, "step"?, "total_steps"?}'))
        return None
    cid = value.get("id")
    if not isinstance(cid, str) or not cid.strip() or len(cid) > 100 or not cid.isprintable():
        errors.append(FieldError("campaign.id", "invalid_campaign",
                                 "campaign.id is a printable string of 1-100 characters"))
        return None
    name = value.get("name")
    try:
        name = clean_text(name, field="campaign.name", max_length=200, multiline=False) \
            if isinstance(name, str) else None
    except InvalidValue as exc:
        errors.append(FieldError("campaign.name", exc.code, exc.message))
    return Campaign(cid.strip(), name, _positive_int(value.get("step"), "campaign.step", errors),
                    _positive_int(value.get("total_steps"), "campaign.total_steps", errors))


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def _data(kind: Any, value: Any, errors: list[FieldError]) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors.append(FieldError("data", "invalid_data", "data is a JSON object"))
        return {}
    if kind == "call":
        return _call(value, errors)
    if kind == "message":
        return _message(value, errors)
    if _json_size(value) > MAX_EXTRA_BYTES:
        errors.append(FieldError("data", "data_too_large",
                                 f"data is at most {MAX_EXTRA_BYTES} bytes of JSON"))
        return {}
    return dict(value)


def _unknown(value: Mapping[str, Any], allowed: frozenset[str],
             errors: list[FieldError]) -> None:
    errors.extend(FieldError(f"data.{k}", "unknown_field", f"Unknown field {k!r}")
                  for k in sorted(map(str, value)) if k not in allowed)


def _choice(value: Mapping[str, Any], name: str, allowed: tuple[str, ...],
            errors: list[FieldError], *, required: bool) -> str | None:
    raw = value.get(name)
    if raw is None and not required:
        return None
    if raw not in allowed:
        errors.append(FieldError(f"data.{name}", f"invalid_{name}",
                                 f"data.{name} is one of " + ", ".join(allowed)))
        return None
    return str(raw)


def _long_text(value: Mapping[str, Any], name: str, max_bytes: int,
               errors: list[FieldError]) -> str | None:
    raw = value.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.append(FieldError(f"data.{name}", "invalid_type", f"data.{name} is a string"))
        return None
    if len(raw.encode(errors="replace")) > max_bytes:
        errors.append(FieldError(f"data.{name}", f"{name}_too_large",
                                 f"data.{name} is at most {max_bytes} bytes"))
        return None
    try:
        return clean_text(raw, field=f"data.{name}", max_length=max_bytes)
    except InvalidValue as exc:
        errors.append(FieldError(f"data.{name}", exc.code, exc.message))
        return None


def _call(value: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    _unknown(value, _CALL_KEYS, errors)
    out: dict[str, Any] = {
        "direction": _choice(value, "direction", DIRECTIONS, errors, required=False)
        or "outbound",
        "outcome": _choice(value, "outcome", CALL_OUTCOMES, errors, required=True),
    }
    duration = value.get("duration_s")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int | float) \
                or not 0 <= duration <= MAX_CALL_SECONDS:
            errors.append(FieldError("data.duration_s", "invalid_duration",
                                     f"data.duration_s is a number of seconds, "
                                     f"0-{MAX_CALL_SECONDS}"))
        else:
            out["duration_s"] = duration
    if value.get("callback_at") is not None or out["outcome"] == "callback":
        callback = _time(value.get("callback_at"), "data.callback_at", errors)
        if callback is not None:
            out["callback_at"] = iso_utc(callback)
    transcript = _long_text(value, "transcript", MAX_TRANSCRIPT_BYTES, errors)
    if transcript is not None:
        out["transcript"] = transcript
    url = value.get("recording_url")
    if url is not None:
        if _web_url(url):
            out["recording_url"] = url
        else:
            errors.append(FieldError("data.recording_url", "invalid_url",
                                     f"data.recording_url is an http(s) URL of at most "
                                     f"{MAX_URL_LENGTH} characters"))
    extracted = value.get("extracted")
    if extracted is not None:
        if not isinstance(extracted, dict) or _json_size(extracted) > MAX_EXTRA_BYTES:
            errors.append(FieldError("data.extracted", "invalid_extracted",
                                     f"data.extracted is an object of at most "
                                     f"{MAX_EXTRA_BYTES} bytes of JSON"))
        else:
            out["extracted"] = extracted
    return {k: v for k, v in out.items() if v is not None}


def _web_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def _message(value: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    _unknown(value, _MESSAGE_KEYS, errors)
    out: dict[str, Any] = {
        "channel": _choice(value, "channel", CHANNELS, errors, required=True),
        "direction": _choice(value, "direction", DIRECTIONS, errors, required=True),
        "text": _long_text(value, "text", MAX_MESSAGE_LENGTH * 4, errors),
    }
    return {k: v for k, v in out.items() if v is not None}


def parse_time(value: str) -> str:
    """An ISO time as stored (UTC, milliseconds); ValueError."""
    return iso_utc(parse_iso(value))

"""A sync: a list kept in step with a CRM object, once or on a schedule.

Pure: what a sync is, parsing its create/update requests, the default
mappings of CRM fields to lead fields, when it runs next, and the row a CRM
record becomes (every run is an import of such rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.column_mapping import CUSTOM_PREFIX, TARGET_FIELDS
from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.import_state import ImportMode, parse_mode
from chalicelib.domain.schedules import parse_schedule
from chalicelib.domain.status_writeback import DEFAULT_STATUS_MAPS, check_status_mapping

# The API's object names → the CRM's.
OBJECTS: dict[Provider, dict[str, str]] = {
    Provider.HUBSPOT: {"contacts": "contacts"},
    Provider.SALESFORCE: {"leads": "Lead", "contacts": "Contact"},
}
# Columns every CRM row has besides the CRM's own fields.
LOCATION, CRM_ID, TAGS = "location", "crm_id", "tags"
# A search index lags behind writes (HubSpot: up to a minute): read changes
# from a little before the bookmark; a record read twice is simply unchanged.
LOOKBACK = timedelta(minutes=5)
MIN_INTERVAL = timedelta(minutes=1)
LEASE = timedelta(hours=2)  # a run holding a sync longer than this has died
DELETED_TAG = {Provider.HUBSPOT: "deleted-in-hubspot", Provider.SALESFORCE: "deleted-in-salesforce"}

_LOCATION_PARTS: dict[tuple[Provider, str], tuple[str, ...]] = {
    (Provider.HUBSPOT, "contacts"): ("city", "state", "country"),
    (Provider.SALESFORCE, "Lead"): ("City", "State", "Country"),
    (Provider.SALESFORCE, "Contact"): ("MailingCity", "MailingState", "MailingCountry"),
}
DEFAULT_MAPPINGS: dict[tuple[Provider, str], dict[str, str | None]] = {
    (Provider.HUBSPOT, "contacts"): {
        "firstname": "first_name", "lastname": "last_name", "email": "email",
        "phone": "phone", "mobilephone": "phones", "company": "company",
        "jobtitle": "job_title", "hs_linkedin_url": "linkedin_url", LOCATION: "location",
        CRM_ID: "custom:hubspot_id", "hs_lead_status": "custom:hubspot_lead_status",
        TAGS: "tags", "city": None, "state": None, "country": None},
    (Provider.SALESFORCE, "Lead"): {
        "FirstName": "first_name", "LastName": "last_name", "Email": "email",
        "Phone": "phone", "MobilePhone": "phones", "Company": "company",
        "Title": "job_title", LOCATION: "location", CRM_ID: "custom:salesforce_id",
        "Status": "custom:salesforce_status", TAGS: "tags",
        "City": None, "State": None, "Country": None},
    (Provider.SALESFORCE, "Contact"): {
        "FirstName": "first_name", "LastName": "last_name", "Email": "email",
        "Phone": "phone", "MobilePhone": "phones", "Account.Name": "company",
        "Title": "job_title", LOCATION: "location", CRM_ID: "custom:salesforce_id",
        TAGS: "tags", "MailingCity": None, "MailingState": None, "MailingCountry": None},
}
# Read by the row source, never mapped: they are the record's id, time and state.
_INTERNAL = frozenset({"Id", "SystemModstamp", "IsDeleted", "hs_object_id", "lastmodifieddate"})


@dataclass(frozen=True)
class Sync:
    id: str
    workspace: str
    list_id: str
    connection_id: str
    provider: Provider
    object: str  # the API's name: contacts / leads
    schedule: str | None
    mapping: Mapping[str, str | None]
    mode: ImportMode
    write_back_status: bool
    created_at: str
    updated_at: str
    bookmark: str | None = None  # changes at or after this were not all read yet
    next_run_at: str | None = None
    last_run: Mapping[str, Any] | None = None
    running_import_id: str | None = None
    lease_until: str | None = None
    error: Mapping[str, str] | None = None
    status_mapping: Mapping[str, str | None] = field(default_factory=dict)
    # Statuses written back: when, how many, and the last values the CRM refused.
    write_back: Mapping[str, Any] | None = None

    @property
    def crm_object(self) -> str:
        return OBJECTS[self.provider][self.object]

    def effective_mapping(self) -> dict[str, str | None]:
        return {**DEFAULT_MAPPINGS[(self.provider, self.crm_object)], **self.mapping}

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "list_id": self.list_id, "connection_id": self.connection_id,
                "provider": self.provider.value, "object": self.object,
                "schedule": self.schedule, "mapping": self.effective_mapping(),
                "mode": self.mode.value, "write_back_status": self.write_back_status,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "bookmark": self.bookmark, "next_run_at": self.next_run_at,
                "last_run": dict(self.last_run) if self.last_run else None,
                "running_import_id": self.running_import_id,
                "error": dict(self.error) if self.error else None,
                "status_mapping": {**DEFAULT_STATUS_MAPS[self.provider], **self.status_mapping},
                "write_back": dict(self.write_back) if self.write_back else None}

    def with_changes(self, changes: Mapping[str, Any], now: str) -> Sync:
        return replace(self, **changes, updated_at=now)

    def to_record(self) -> dict[str, Any]:
        """What is stored (the lease lives beside it, written on its own)."""
        data = asdict(self)
        data.update(provider=self.provider.value, mode=self.mode.value,
                    mapping=dict(self.mapping), status_mapping=dict(self.status_mapping))
        for kept_apart in ("running_import_id", "lease_until", "write_back"):
            data.pop(kept_apart)
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any], running_import_id: str | None,
                    lease_until: str | None) -> Sync:
        values = dict(data)
        values.update(provider=Provider(values["provider"]), mode=ImportMode(values["mode"]),
                      running_import_id=running_import_id, lease_until=lease_until)
        return cls(**values)


def _check_schedule(value: Any, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200:
        errors.append(FieldError("schedule", "invalid_schedule",
                                 "schedule is rate(...), cron(...) or null"))
        return None
    try:
        step = parse_schedule(value)
        start = datetime(2030, 1, 1, tzinfo=UTC)
        first = step(start)
        second = step(first) if first else None
    except (ValueError, OverflowError) as exc:  # rate(99999999999999 days) overflows
        errors.append(FieldError("schedule", "invalid_schedule", str(exc)[:200]))
        return None
    if first is None or second is None:
        errors.append(FieldError("schedule", "invalid_schedule", "the schedule never fires"))
    elif second - first < MIN_INTERVAL:
        errors.append(FieldError("schedule", "invalid_schedule",
                                 "a sync runs at most once a minute"))
    return value.strip()


def _check_mapping(value: Any, errors: list[FieldError]) -> dict[str, str | None]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 100:
        errors.append(FieldError("mapping", "invalid_type",
                                 "mapping is an object from CRM field to lead field"))
        return {}
    mapping: dict[str, str | None] = {}
    for source, target in value.items():
        if not isinstance(source, str) or not source or len(source) > 100 or any(
                not (c.isalnum() or c in "_.") for c in source):
            errors.append(FieldError(f"mapping.{source}"[:120], "invalid_field_name",
                                     "CRM field names are letters, digits, _ and ."))
        elif target is not None and (not isinstance(target, str) or not (
                target in TARGET_FIELDS or (target.startswith(CUSTOM_PREFIX)
                                            and 1 < len(target) - len(CUSTOM_PREFIX) <= 64))):
            errors.append(FieldError(f"mapping.{source}", "unknown_target_field",
                                     "map to a lead field, custom:<key> or null"))
        else:
            mapping[source] = target
    return mapping


def parse_sync_create(payload: Mapping[str, Any], provider: Provider) -> dict[str, Any]:
    allowed = {"connection_id", "object", "schedule", "mapping", "mode", "write_back_status",
               "status_mapping"}
    errors = [FieldError(k, "unknown_field", f"Unknown field {k!r}")
              for k in sorted(set(payload) - allowed)]
    if provider not in OBJECTS:
        errors.append(FieldError("connection_id", "wrong_provider",
                                 "syncs read HubSpot or Salesforce connections"))
        raise ValidationFailed(errors)
    obj = payload.get("object", "contacts")
    if not isinstance(obj, str) or obj not in OBJECTS[provider]:
        errors.append(FieldError("object", "unknown_object",
                                 f"object is one of {', '.join(OBJECTS[provider])}"))
    values = _parse_common(payload, errors)
    if errors:
        raise ValidationFailed(errors)
    return {"object": obj, **values}


def parse_sync_update(payload: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {"schedule", "mapping", "mode", "write_back_status", "status_mapping"}
    errors = [FieldError(k, "unknown_field", f"Unknown field {k!r}")
              for k in sorted(set(payload) - allowed)]
    values = _parse_common(payload, errors)
    if errors:
        raise ValidationFailed(errors)
    return {k: v for k, v in values.items() if k in payload}


def _parse_common(payload: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    write_back = payload.get("write_back_status", False)
    if not isinstance(write_back, bool):
        errors.append(FieldError("write_back_status", "invalid_type", "a boolean"))
    # A sync's CRM is the source of the fields it maps: by default they follow it.
    mode = parse_mode(payload["mode"]) if payload.get("mode") is not None \
        else ImportMode.OVERWRITE
    return {"schedule": _check_schedule(payload.get("schedule"), errors),
            "mapping": _check_mapping(payload.get("mapping"), errors),
            "status_mapping": check_status_mapping(payload.get("status_mapping"), errors),
            "mode": mode, "write_back_status": bool(write_back)}


def next_run(schedule: str | None, after: datetime) -> datetime | None:
    return parse_schedule(schedule)(after) if schedule else None


def read_fields(provider: Provider, crm_object: str, mapping: Mapping[str, str | None],
                defaults: Sequence[str]) -> list[str]:
    """The CRM fields a run asks for: the defaults, the mapped ones and the location's."""
    wanted = [*defaults, *_LOCATION_PARTS[(provider, crm_object)],
              *(k for k in mapping if k not in (LOCATION, CRM_ID, TAGS))]
    return list(dict.fromkeys(wanted))


def header(fields: Sequence[str]) -> list[str]:
    return [*(f for f in fields if f not in _INTERNAL), LOCATION, CRM_ID, TAGS]


def record_row(provider: Provider, crm_object: str, fields: Sequence[str], record_id: str,
               values: Mapping[str, str], deleted: bool) -> list[str]:
    """A CRM record as a row under `header(fields)`."""
    location = ", ".join(v for p in _LOCATION_PARTS[(provider, crm_object)]
                         if (v := (values.get(p) or "").strip()))
    return [*(values.get(f, "") for f in fields if f not in _INTERNAL), location, record_id,
            DELETED_TAG[provider] if deleted else ""]

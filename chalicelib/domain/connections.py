"""Connections to a workspace's accounts elsewhere: HubSpot, Salesforce, Google Sheets.

A connection holds credentials (encrypted by the adapter before they are
stored, never returned: only a hint) and what the API shows about them.
Pure: parsing the create request, the API view, token freshness.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.text import sanitise

MAX_NAME = 100
MAX_SECRET = 4096
# Refresh an access token this long before it expires: a page fetch started
# just before expiry must not fail half way.
REFRESH_MARGIN_SECONDS = 300


class Provider(StrEnum):
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"
    GOOGLE_SHEETS = "google_sheets"


DISPLAY_NAMES = {Provider.HUBSPOT: "HubSpot", Provider.SALESFORCE: "Salesforce",
                 Provider.GOOGLE_SHEETS: "Google Sheets"}


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    REAUTHORIZE = "reauthorize"  # a refresh failed: the user must connect again


# Which credential fields a provider takes (one of the alternatives, each a set).
_CREDENTIALS: dict[Provider, tuple[frozenset[str], ...]] = {
    Provider.HUBSPOT: (frozenset({"access_token"}), frozenset({"refresh_token"})),
    Provider.SALESFORCE: (frozenset({"refresh_token"}),
                          frozenset({"access_token", "instance_url"})),
    Provider.GOOGLE_SHEETS: (frozenset({"access_token"}), frozenset({"refresh_token"})),
}
_SECRET_FIELDS = ("access_token", "refresh_token")


@dataclass(frozen=True)
class Credentials:
    """What authenticates us to the provider; only ever stored encrypted."""

    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds of the access token, if known
    instance_url: str | None = None  # Salesforce: the org's API host

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Credentials:
        return cls(**{k: raw[k] for k in ("access_token", "refresh_token", "expires_at",
                                          "instance_url") if raw.get(k) is not None})

    def fresh(self, now: float) -> bool:
        """An access token that will outlive the margin (or whose expiry is unknown)."""
        if not self.access_token:
            return False
        return self.expires_at is None or self.expires_at - now > REFRESH_MARGIN_SECONDS

    def hint(self) -> str:
        secret = self.refresh_token or self.access_token or ""
        return "…" + secret[-4:] if len(secret) >= 8 else "…"


@dataclass(frozen=True)
class Connection:
    id: str
    workspace: str
    provider: Provider
    name: str
    status: ConnectionStatus
    created_at: str
    updated_at: str
    hint: str
    credentials: Credentials = field(repr=False)  # never shown, never logged
    error: dict[str, str] | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "provider": self.provider.value,
                                "name": self.name, "status": self.status.value,
                                "created_at": self.created_at, "updated_at": self.updated_at,
                                "credential_hint": self.hint}
        if self.credentials.instance_url:
            body["instance_url"] = self.credentials.instance_url
        if self.error:
            body["error"] = self.error
        return body

    def with_credentials(self, credentials: Credentials, now_iso: str) -> Connection:
        return replace(self, credentials=credentials, status=ConnectionStatus.ACTIVE,
                       error=None, updated_at=now_iso, hint=credentials.hint())

    def needing_reauthorization(self, message: str, now_iso: str) -> Connection:
        return replace(self, status=ConnectionStatus.REAUTHORIZE, updated_at=now_iso,
                       error={"code": "reauthorize", "message": message})


def parse_provider(raw: Any, field_name: str = "provider") -> Provider:
    try:
        return Provider(raw)
    except ValueError:
        raise ValidationFailed([FieldError(
            field_name, "unknown_provider",
            "provider is one of " + ", ".join(p.value for p in Provider))]) from None


def parse_connection_create(payload: Mapping[str, Any]) -> tuple[Provider, str, Credentials]:
    """`{"provider", "name"?, ...credentials}` → what to store, or per-field errors."""
    provider = parse_provider(payload.get("provider"))
    allowed = {"provider", "name", *(f for alt in _CREDENTIALS[provider] for f in alt)}
    errors = [FieldError(k, "unknown_field", f"Unknown field {k!r}")
              for k in sorted(set(payload) - allowed)]
    name = payload.get("name", DISPLAY_NAMES[provider])
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        errors.append(FieldError("name", "invalid_type",
                                 f"name is a string of 1 to {MAX_NAME} characters"))
        name = ""
    given = {k for k in payload if k in ("access_token", "refresh_token", "instance_url")}
    for key in given:
        value = payload[key]
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SECRET:
            errors.append(FieldError(key, "invalid_type",
                                     f"{key} is a string of 1 to {MAX_SECRET} characters"))
    if not any(alt <= given for alt in _CREDENTIALS[provider]):
        options = " or ".join("+".join(sorted(alt)) for alt in _CREDENTIALS[provider])
        errors.append(FieldError("credentials", "credentials_required",
                                 f"{provider.value} needs {options}"))
    if errors:
        raise ValidationFailed(errors)
    values = {k: str(payload[k]).strip() for k in given}
    credentials = Credentials(access_token=values.get("access_token"),
                              refresh_token=values.get("refresh_token"),
                              instance_url=values.get("instance_url"))
    return provider, sanitise(name.strip(), field="name", multiline=False,
                              controls="reject"), credentials


def secret_fields() -> tuple[str, ...]:
    return _SECRET_FIELDS

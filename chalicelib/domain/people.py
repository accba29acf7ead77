"""A person across lists: the hashed keys of the people index and the suppression list.

Pure: no I/O. A person is known by a normalised identity value (lowercased
email, E.164 phone, canonical LinkedIn URL) or, for suppression only, an
email domain. Keys hold `sha256(kind:value)`, never the value itself, so an
erased person can stay suppressed without leaving personal data behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.email_address import email_domain, normalise_email
from chalicelib.domain.errors import FieldError, InvalidValue, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.linkedin import normalise_linkedin_url
from chalicelib.domain.phone import normalise_phone

PERSON_KINDS = ("email", "phone", "linkedin_url")
SUPPRESSION_KINDS = (*PERSON_KINDS, "domain")
# The lead item's attribute holding `<workspace>#<hash>` per kind (sparse GSIs).
PERSON_ATTRIBUTES = {"email": "px_email", "phone": "px_phone", "linkedin_url": "px_linkedin"}


@dataclass(frozen=True)
class HashedPerson:
    """A person known by the hash alone (an erasure's work never holds the value)."""

    kind: str
    hash: str


@dataclass(frozen=True)
class PersonKey:
    kind: str
    value: str  # normalised

    @property
    def hash(self) -> str:
        return person_hash(self.kind, self.value)

    def hashed(self) -> HashedPerson:
        return HashedPerson(self.kind, self.hash)

    def masked(self) -> str:
        return mask_value(self.kind, self.value)


def person_hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def normalise_value(kind: str, raw: str, *, default_region: str = "US") -> str:
    """The normalised form of a person's value; InvalidValue when it is not one."""
    if kind == "email":
        return normalise_email(raw)
    if kind == "phone":
        return normalise_phone(raw, default_region).e164
    if kind == "linkedin_url":
        return normalise_linkedin_url(raw)
    if kind == "domain":
        return email_domain(normalise_email(f"x@{raw.strip().lstrip('@')}"))
    raise InvalidValue(f"unknown kind {kind!r}", code="invalid_kind")


def parse_person(payload: Mapping[str, Any], kinds: tuple[str, ...] = PERSON_KINDS,
                 *, default_region: str = "US") -> PersonKey:
    """Exactly one of `kinds` in `payload`, normalised; ValidationFailed otherwise."""
    given = [k for k in kinds if payload.get(k) not in (None, "")]
    if len(given) != 1:
        raise ValidationFailed([FieldError(
            "|".join(kinds), "one_required", f"give exactly one of {', '.join(kinds)}")])
    kind = given[0]
    raw = payload[kind]
    if not isinstance(raw, str) or len(raw) > 2048:
        raise ValidationFailed([FieldError(kind, "invalid_type", f"{kind} is a string")])
    try:
        return PersonKey(kind, normalise_value(kind, raw, default_region=default_region))
    except InvalidValue as exc:
        raise ValidationFailed([FieldError(kind, exc.code, str(exc))]) from exc


def lead_person_keys(lead: Lead) -> list[PersonKey]:
    """The lead's identity values the people index knows it by (primary ones)."""
    values = {"email": lead.email, "phone": lead.phone, "linkedin_url": lead.linkedin_url}
    return [PersonKey(kind, value) for kind, value in values.items() if value]


def suppression_keys(lead: Lead) -> list[PersonKey]:
    """Every key a suppression of this lead's person could be stored under: its
    email, phone and LinkedIn URL, and its email's domain."""
    keys = lead_person_keys(lead)
    if lead.email and "@" in lead.email:
        keys.append(PersonKey("domain", lead.email.rpartition("@")[2]))
    return keys


def person_attributes(workspace: str, lead: Lead) -> dict[str, str]:
    """The people-index GSI key attributes of a lead item (absent when empty)."""
    return {PERSON_ATTRIBUTES[k.kind]: person_index_value(workspace, k)
            for k in lead_person_keys(lead)}


def person_index_value(workspace: str, key: PersonKey | HashedPerson) -> str:
    return f"{workspace}#{key.hash}"


def cell_is(kind: str, hash_: str, cell: str, *, default_region: str = "US") -> bool:
    """Whether a raw cell (of an error report) holds the person's value."""
    text = cell.strip().lstrip("'")
    if not text or len(text) > 2048:
        return False
    try:
        return person_hash(kind, normalise_value(kind, text,
                                                 default_region=default_region)) == hash_
    except (InvalidValue, ValueError):
        return False


def mask_value(kind: str, value: str) -> str:
    """What a suppression shows of its value: enough to recognise, not to read back."""
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "phone":
        return f"***{value[-2:]}"
    if kind == "linkedin_url":
        slug = value.rstrip("/").rpartition("/")[2]
        return f"linkedin.com/in/{slug[:2]}***"
    return value  # a domain is not a person's data


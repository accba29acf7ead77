"""What a sync needs from a CRM: pages of records changed since a bookmark, and writes.

Implemented by adapters/hubspot_crm.py and adapters/salesforce_crm.py; tested
against the loopback sandboxes (tools/sandboxes). Records come as flat text
fields, the row shape every other source gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.domain.errors import LeadpipeError


@dataclass(frozen=True)
class CrmAuth:
    access_token: str
    instance_url: str | None = None  # Salesforce: the org's API host


@dataclass(frozen=True)
class CrmRecord:
    id: str  # the CRM's id (HubSpot hs_object_id, Salesforce Id)
    modified_at: str  # ISO 8601 UTC: HubSpot lastmodifieddate, Salesforce SystemModstamp
    fields: Mapping[str, str] = field(default_factory=dict)  # name -> text ("" for null)
    deleted: bool = False  # HubSpot archived, Salesforce IsDeleted


@dataclass(frozen=True)
class CrmPage:
    records: Sequence[CrmRecord]
    cursor: str | None  # opaque; pass it back for the next page; None: this was the last


@dataclass(frozen=True)
class WriteResult:
    id: str
    ok: bool
    code: str | None = None  # the CRM's error code, e.g. INVALID_OPTION
    message: str | None = None


class CrmUnauthorized(LeadpipeError):
    """The CRM refused the access token (401 / INVALID_SESSION_ID): refresh once, retry."""

    code = "crm_unauthorized"


class CrmQuotaExceeded(LeadpipeError):
    """The org's API quota is spent (Salesforce REQUEST_LIMIT_EXCEEDED): stop, keep the bookmark."""

    code = "crm_quota_exceeded"


class CrmError(LeadpipeError):
    """Any other refusal (bad query, 4xx) or a CRM that kept failing (429/5xx after retries)."""

    code = "crm_error"


class CrmReader(Protocol):
    def default_fields(self, object_name: str) -> tuple[str, ...]:
        """The fields read when a sync names none (what the default mapping maps)."""
        ...

    def page(self, auth: CrmAuth, object_name: str, fields: Sequence[str],
             since: str | None, cursor: str | None) -> CrmPage:
        """One page of records: all of them (`since` None) or those changed at or
        after `since` (ISO 8601), oldest change or lowest id first; deleted ones
        included where the CRM can tell (HubSpot: a first run lists archived
        contacts too; Salesforce: queryAll). 429 and 5xx are retried with
        back-off inside; raises CrmUnauthorized, CrmQuotaExceeded or CrmError."""
        ...

    def write(self, auth: CrmAuth, object_name: str,
              updates: Sequence[tuple[str, Mapping[str, str]]]) -> list[WriteResult]:
        """Update records (id, field -> value) in the CRM's batches (HubSpot
        batch/update of 100, Salesforce composite/sobjects of 200); one result
        per update, in order."""
        ...

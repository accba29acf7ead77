"""Statuses flowing back to the CRM: which CRM field, which value for which status.

Pure. A sync with `write_back_status` writes a synced lead's status to the
record it came from (the CRM id the sync stored as custom:hubspot_id or
custom:salesforce_id), mapped by the sync's `status_mapping` over these
defaults; a status mapped to null (or not mapped) is not written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import FieldError
from chalicelib.domain.statuses import LEAD_STATUSES

STATUS_FIELD = {Provider.HUBSPOT: "hs_lead_status", Provider.SALESFORCE: "Status"}
CRM_ID_FIELD = {Provider.HUBSPOT: "hubspot_id", Provider.SALESFORCE: "salesforce_id"}
DEFAULT_STATUS_MAPS: dict[Provider, dict[str, str | None]] = {
    Provider.HUBSPOT: {
        "new": "NEW", "contacted": "ATTEMPTED_TO_CONTACT", "replied": "CONNECTED",
        "callback": "IN_PROGRESS", "qualified": "OPEN_DEAL", "not_interested": "UNQUALIFIED"},
    Provider.SALESFORCE: {
        "new": "Open - Not Contacted", "contacted": "Working - Contacted",
        "replied": "Working - Contacted", "callback": "Working - Contacted",
        "not_interested": "Closed - Not Converted"},
}
MAX_REJECTIONS_SHOWN = 20


def check_status_mapping(value: Any, errors: list[FieldError]) -> dict[str, str | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError("status_mapping", "invalid_type",
                                 "status_mapping is an object from lead status to CRM value"))
        return {}
    mapping: dict[str, str | None] = {}
    for status, crm_value in value.items():
        if status not in LEAD_STATUSES:
            errors.append(FieldError(f"status_mapping.{str(status)[:40]}", "unknown_status",
                                     "keys are lead statuses"))
        elif crm_value is not None and (not isinstance(crm_value, str) or not crm_value
                                        or len(crm_value) > 255):
            errors.append(FieldError(f"status_mapping.{status}", "invalid_type",
                                     "a CRM value (1-255 characters) or null"))
        else:
            mapping[status] = crm_value
    return mapping


def crm_value(provider: Provider, overrides: Mapping[str, str | None],
              status: str) -> str | None:
    return {**DEFAULT_STATUS_MAPS[provider], **overrides}.get(status)

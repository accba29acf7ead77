"""Lead statuses, email statuses and list identity fields."""

from __future__ import annotations

from typing import Final

LEAD_STATUSES: Final = (
    "new",
    "contacted",
    "replied",
    "qualified",
    "callback",
    "not_interested",
    "completed",
    "bounced",
    "unsubscribed",
    "invalid",
)
# "none": the lead has no email, so there is nothing to verify.
EMAIL_STATUSES: Final = ("pending", "valid", "risky", "invalid", "unknown", "none")
VERDICT_STATUSES: Final = ("valid", "risky", "invalid", "unknown")
IDENTITY_FIELDS: Final = ("email", "linkedin_url", "phone")
DEFAULT_IDENTITY: Final = "email"
DEFAULT_REGION: Final = "US"

"""One error tree. Every error carries a stable machine-readable `code`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LeadpipeError(Exception):
    """Base of every error leadpipe raises on purpose."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}


class InvalidValue(LeadpipeError, ValueError):
    """One value could not be normalised; `code` says why (e.g. invalid_phone)."""

    code = "invalid_value"


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ValidationFailed(LeadpipeError, ValueError):
    """A request or record failed validation; `details.errors` lists each field."""

    code = "validation_error"
    status = 400

    def __init__(self, errors: list[FieldError], message: str = "Invalid data") -> None:
        super().__init__(message, details={"errors": [e.as_dict() for e in errors]})
        self.errors = errors


class BadRequest(LeadpipeError):
    """The request itself is malformed (bad JSON, wrong shape)."""

    code = "bad_request"
    status = 400


class Unauthorized(LeadpipeError):
    """Missing or unknown bearer token."""

    code = "unauthorized"
    status = 401


class NotFound(LeadpipeError):
    """No such object in this workspace."""

    code = "not_found"
    status = 404


class Conflict(LeadpipeError):
    """The write collides with an existing object."""

    code = "conflict"
    status = 409


class DuplicateLead(Conflict):
    """A lead with the same identity value already exists in the list."""

    code = "duplicate"

    def __init__(self, existing_lead_id: str, identity: str) -> None:
        super().__init__(
            f"A lead with this {identity} already exists in the list",
            details={"lead_id": existing_lead_id, "identity": identity},
        )
        self.existing_lead_id = existing_lead_id


class PayloadTooLarge(LeadpipeError):
    """The request body is over the limit."""

    code = "payload_too_large"
    status = 413


class RateLimited(LeadpipeError):
    """The workspace made more requests this minute than its limit; retry after `retry_after` s."""

    code = "rate_limited"
    status = 429

    def __init__(self, *, retry_after: int, limit: int) -> None:
        super().__init__(f"More than {limit} requests a minute for this workspace; "
                         f"retry in {retry_after} s",
                         details={"retry_after": retry_after, "limit_per_minute": limit})
        self.retry_after = retry_after


class DropMessage(LeadpipeError):
    """A queue message that can never succeed (malformed, its list deleted): drop it.

    SQS handlers retry every other exception (a bug, a throttle, a timeout) until
    the DLQ handler settles what it was for; only this one is dropped, logged.
    """

    code = "message_dropped"

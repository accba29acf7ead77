"""Salesforce REST (Lead, Contact) as a CrmReader: SOQL queryAll pages and composite updates.

A page is one SOQL `queryAll` answer, so records in the recycle bin come back
too (IsDeleted → deleted):

    SELECT <fields> FROM <object> [WHERE SystemModstamp >= <since>]
    ORDER BY SystemModstamp ASC, Id ASC

then Salesforce's `nextRecordsUrl` until `done`; that URL's path is the
cursor (checked to be a query locator path before it is called). Salesforce
gives up to 2,000 records a page. SystemModstamp, not LastModifiedDate:
system changes (a conversion, a cascade) move it too. `since` is floored to
the second, as SOQL datetime literals carry none: a record may come twice,
never not at all. Records emptied from the recycle bin (after 15 days, or by
hand) are gone from queryAll too: a run older than that misses their deletion.

SOQL is built from text, so nothing unchecked enters it: object and field
names must look like identifiers (`Account.Name`: one dot, a relationship),
and `since` is parsed and written out again by us.

Every answer's `Sforce-Limit-Info: api-usage=N/M` is kept in
`last_api_usage`, for a caller that wants to stop before the org's quota.

429 and 5xx (and a connection failure) are retried: Retry-After seconds when
sent, else 1, 2, 4, 8 s: five tries in all. 401 / INVALID_SESSION_ID is
CrmUnauthorized, 403 REQUEST_LIMIT_EXCEEDED CrmQuotaExceeded, an expired
query locator CrmError `crm_cursor_expired` (start the run again from its
bookmark), any other refusal CrmError with Salesforce's message and errorCode.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from chalicelib.adapters.retrying_http import GaveUp, send_with_retries
from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.clock import iso_utc, parse_iso
from chalicelib.domain.errors import LeadpipeError
from chalicelib.services.crm_ports import (
    CrmAuth,
    CrmError,
    CrmPage,
    CrmQuotaExceeded,
    CrmRecord,
    CrmUnauthorized,
    WriteResult,
)

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "Lead": ("Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Company", "Title",
             "City", "State", "Country", "Status", "SystemModstamp", "IsDeleted"),
    "Contact": ("Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Account.Name",
                "Title", "MailingCity", "MailingState", "MailingCountry", "SystemModstamp",
                "IsDeleted"),
}
INTERNAL_FIELDS = ("Id", "SystemModstamp", "IsDeleted")
BATCH_LIMIT = 200  # composite/sobjects records
_NAME = r"[A-Za-z][A-Za-z0-9_]{0,79}"
_OBJECT = re.compile(_NAME)
_FIELD = re.compile(rf"{_NAME}(?:\.{_NAME})?")
_VERSION = re.compile(r"v\d{2,3}\.\d")
_LOCATOR = re.compile(r"/services/data/v\d{2,3}\.\d/(?:query|queryAll)/[A-Za-z0-9]{15,18}-\d{1,9}")
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class SalesforceCrm:
    def __init__(self, http: SafeHttp | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 api_version: str = "v61.0") -> None:
        if not _VERSION.fullmatch(api_version):
            raise ValueError(f"api_version must look like v61.0, not {api_version!r}")
        self._http = http or SafeHttp()
        self._sleep = sleep
        self.api_version = api_version
        self.last_api_usage: tuple[int, int] | None = None  # (used, limit) as last seen

    # -- CrmReader ---------------------------------------------------------------------

    def default_fields(self, object_name: str) -> tuple[str, ...]:
        if object_name not in DEFAULT_FIELDS:
            raise CrmError(f"No default fields for Salesforce object {object_name!r}",
                           code="crm_unsupported_object")
        return DEFAULT_FIELDS[object_name]

    def page(self, auth: CrmAuth, object_name: str, fields: Sequence[str],
             since: str | None, cursor: str | None) -> CrmPage:
        _check_object(object_name)
        _check_fields(fields)
        if cursor is not None:
            if not _LOCATOR.fullmatch(cursor):
                raise CrmError("This cursor is not a Salesforce query locator",
                               code="crm_bad_cursor")
            body = self._call(auth, "GET", cursor)
        else:
            body = self._call(auth, "GET", f"/services/data/{self.api_version}/queryAll",
                              params={"q": soql(object_name, fields, since)})
        records = body.get("records")
        if not isinstance(records, list):
            raise CrmError("Salesforce's answer has no records", code="crm_bad_answer")
        following = body.get("nextRecordsUrl")
        if body.get("done", True) or not following:
            following = None
        elif not isinstance(following, str) or not _LOCATOR.fullmatch(following):
            raise CrmError("Salesforce gave an unexpected nextRecordsUrl", code="crm_bad_answer")
        return CrmPage([_record(r, fields) for r in records if isinstance(r, dict)], following)

    def write(self, auth: CrmAuth, object_name: str,
              updates: Sequence[tuple[str, Mapping[str, str]]]) -> list[WriteResult]:
        _check_object(object_name)
        for _, values in updates:
            for name in values:
                if not _OBJECT.fullmatch(name) or name.lower() in ("id", "attributes"):
                    raise CrmError(f"{name!r} is not a Salesforce field that can be updated",
                                   code="crm_invalid_field")
        results: list[WriteResult] = []
        for start in range(0, len(updates), BATCH_LIMIT):
            results.extend(self._write_batch(auth, object_name,
                                             updates[start:start + BATCH_LIMIT]))
        return results

    # -- writing -----------------------------------------------------------------------

    def _write_batch(self, auth: CrmAuth, object_name: str,
                     updates: Sequence[tuple[str, Mapping[str, str]]]) -> list[WriteResult]:
        # "" means "no value": Salesforce wants null for that (a date or number field
        # refuses ""; a text field stores "" as null anyway).
        records = [{"attributes": {"type": object_name}, "id": record_id,
                    **{name: (value if value != "" else None) for name, value in values.items()}}
                   for record_id, values in updates]
        body = self._call(auth, "PATCH", f"/services/data/{self.api_version}/composite/sobjects",
                          json={"allOrNone": False, "records": records})
        if not isinstance(body, list) or len(body) != len(updates):
            raise CrmError("Salesforce did not answer one result per record",
                           code="crm_bad_answer")
        results = []
        for (record_id, _), result in zip(updates, body, strict=True):
            if isinstance(result, dict) and result.get("success"):
                results.append(WriteResult(record_id, True))
                continue
            errors = result.get("errors") if isinstance(result, dict) else None
            first = errors[0] if isinstance(errors, list) and errors \
                and isinstance(errors[0], dict) else {}
            results.append(WriteResult(record_id, False, str(first.get("statusCode", "UNKNOWN")),
                                       str(first.get("message", ""))))
        return results

    # -- HTTP --------------------------------------------------------------------------

    def _call(self, auth: CrmAuth, method: str, path: str, **kwargs: Any) -> Any:
        if not auth.instance_url:
            raise CrmError("A Salesforce token comes with its instance URL; this one has none",
                           code="crm_no_instance_url")
        url = auth.instance_url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {auth.access_token}"}
        response = send_with_retries(self._http, method, url, headers=headers, sleep=self._sleep,
                                     on_response=self._note_usage, gave_up=_gave_up,
                                     refused=_refused, **kwargs)
        if response.status_code in (200, 201):
            return response.json()
        raise _error(response)

    def _note_usage(self, response: requests.Response) -> None:
        found = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if found:
            self.last_api_usage = (int(found.group(1)), int(found.group(2)))


# -- SOQL ------------------------------------------------------------------------------


def soql(object_name: str, fields: Sequence[str], since: str | None) -> str:
    """The query for a page run; names are checked here too, whoever calls it."""
    _check_object(object_name)
    _check_fields(fields)
    # Salesforce refuses a field selected twice, and matches names without case.
    unique: dict[str, str] = {}
    for name in (*fields, *INTERNAL_FIELDS):
        unique.setdefault(name.lower(), name)
    names = ", ".join(unique.values())
    where = f" WHERE SystemModstamp >= {soql_datetime(since)}" if since is not None else ""
    # Every part was checked above (identifiers) or written by us (the datetime).
    return f"SELECT {names} FROM {object_name}{where} ORDER BY SystemModstamp ASC, Id ASC"  # noqa: S608


def soql_datetime(since: str) -> str:
    """2026-01-01T00:00:00Z from any ISO 8601 instant, floored to the second (naive: UTC)."""
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise CrmError(f"{since!r} is not an ISO 8601 timestamp", code="crm_invalid_since") \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_object(object_name: str) -> None:
    if not _OBJECT.fullmatch(object_name):
        raise CrmError(f"{object_name!r} is not a Salesforce object name",
                       code="crm_unsupported_object")


def _check_fields(fields: Sequence[str]) -> None:
    for name in fields:
        if not _FIELD.fullmatch(name):
            raise CrmError(f"{name!r} is not a Salesforce field name", code="crm_invalid_field")


# -- records ---------------------------------------------------------------------------


def _record(row: dict[str, Any], fields: Sequence[str]) -> CrmRecord:
    return CrmRecord(id=str(_value(row, "Id") or ""),
                     modified_at=_iso_utc(str(_value(row, "SystemModstamp") or "")),
                     fields={name: _text(_value(row, name)) for name in fields},
                     deleted=_value(row, "IsDeleted") is True)


def _value(row: Mapping[str, Any], name: str) -> Any:
    """A (possibly Parent.Field) value; Salesforce answers with its own spelling of names."""
    head, _, rest = name.partition(".")
    found = row.get(head)
    if found is None:
        lowered = head.lower()
        found = next((v for k, v in row.items() if k.lower() == lowered), None)
    if rest:
        return _value(found, rest) if isinstance(found, dict) else None
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return ""  # a relationship asked for as a field: no single text
    return str(value)


def _iso_utc(value: str) -> str:
    """2026-01-05T09:00:00.000Z from Salesforce's 2026-01-05T09:00:00.000+0000."""
    try:
        return iso_utc(parse_iso(value))
    except ValueError:
        raise CrmError(f"Salesforce gave an unreadable time {value!r}",
                       code="crm_bad_answer") from None


# -- errors ----------------------------------------------------------------------------


def _gave_up(end: GaveUp) -> CrmError:
    if end.exception is not None:
        return CrmError(f"Salesforce did not answer ({type(end.exception).__name__})",
                        code="crm_unavailable")
    return CrmError(f"Salesforce kept answering {end.status} after {end.retries} retries",
                    code="crm_rate_limited" if end.status == 429 else "crm_unavailable",
                    details={"status": end.status})


def _refused(error: LeadpipeError) -> CrmError:
    """SafeHttp refused the instance URL."""
    return CrmError(error.message, code=error.code)


def _error(response: requests.Response) -> CrmError | CrmUnauthorized | CrmQuotaExceeded:
    try:
        body = response.json()
    except ValueError:
        body = None
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    error_code = str(first.get("errorCode") or "")
    message = str(first.get("message") or f"Salesforce answered {response.status_code}")
    details = {"status": response.status_code, "error_code": error_code}
    if response.status_code == 401 or error_code == "INVALID_SESSION_ID":
        return CrmUnauthorized(message, details=details)
    if error_code == "REQUEST_LIMIT_EXCEEDED":
        return CrmQuotaExceeded(message, details=details)
    if error_code == "INVALID_QUERY_LOCATOR":
        return CrmError(message, code="crm_cursor_expired", details=details)
    return CrmError(message, details=details)

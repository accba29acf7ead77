"""HubSpot CRM v3 contacts as a CrmReader: list pages, search since a bookmark, batch updates.

A first run (`since` None) lists live contacts (`GET /crm/v3/objects/contacts`,
100 a page, the most the list API gives), then archived ones
(`archived=true`), which come back as deleted records: the run costs
ceil(live / 100) + max(1, ceil(archived / 100)) requests.

An incremental run searches (`POST .../contacts/search`) for
`lastmodifieddate GTE since`, sorted by `hs_object_id`, 200 a page. HubSpot's
search refuses (400) any page reaching past its 10,000th result, so before
the next page would, the reader starts again above the last id it has seen
(an extra `hs_object_id GT` filter, offset back to 0): no request is wasted
and none fails. Sorting by id, not by date, keeps that floor exact, and a
contact changed during the run only moves later in time, never out of the set.

Limits a caller must know:
- search does not return archived contacts: an incremental run does not see
  deletions, a periodic full run does;
- search lags writes (seconds for a create, up to a minute for an update):
  the caller's bookmark should look back a little (a minute or two) behind
  the last change it saw; reading a contact twice is harmless.

The cursor is opaque to callers: base64url JSON, `{"mode": "list", "phase":
"live"|"archived", "after"}` or `{"mode": "search", "floor", "after", "last"}`.

429 and 5xx (and a connection failure) are retried: Retry-After seconds when
HubSpot sends it (search 429s do not), else 1, 2, 4, 8 s: five tries in all.
A 429 of the DAILY policy is not retried: it is CrmQuotaExceeded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from chalicelib.adapters.retrying_http import GaveUp, send_with_retries
from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.clock import iso_utc, parse_iso
from chalicelib.domain.connections import Provider
from chalicelib.domain.errors import LeadpipeError
from chalicelib.provider_settings import provider_apps
from chalicelib.services.crm_ports import (
    CrmAuth,
    CrmError,
    CrmPage,
    CrmQuotaExceeded,
    CrmRecord,
    CrmUnauthorized,
    WriteResult,
)

CONTACTS = "/crm/v3/objects/contacts"
OBJECT_NAME = "contacts"
DEFAULT_FIELDS = ("firstname", "lastname", "email", "phone", "mobilephone", "company",
                  "jobtitle", "city", "state", "country", "hs_lead_status", "hs_linkedin_url",
                  "hs_object_id", "lastmodifieddate")
INTERNAL_FIELDS = ("hs_object_id", "lastmodifieddate")
LIST_LIMIT = 100  # the list API's maximum
SEARCH_LIMIT = 200  # the search API's maximum
SEARCH_CAP = 10_000  # no search page may reach past this result
BATCH_LIMIT = 100  # batch/update inputs
_PROPERTY = re.compile(r"[A-Za-z0-9_]{1,100}")
_ID = re.compile(r"[0-9]{1,20}")


class HubSpotCrm:
    def __init__(self, http: SafeHttp | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._http = http or SafeHttp()
        self._sleep = sleep

    # -- CrmReader ---------------------------------------------------------------------

    def default_fields(self, object_name: str) -> tuple[str, ...]:
        _check_object(object_name)
        return DEFAULT_FIELDS

    def page(self, auth: CrmAuth, object_name: str, fields: Sequence[str],
             since: str | None, cursor: str | None) -> CrmPage:
        _check_object(object_name)
        names = _properties(fields)
        state = _decode(cursor) if cursor is not None else None
        if since is None:
            if state is not None and state.get("mode") != "list":
                raise _bad_cursor()
            return self._list(auth, fields, names, state or {"mode": "list", "phase": "live"})
        since_ms = _epoch_ms(since)
        if state is not None and state.get("mode") != "search":
            raise _bad_cursor()
        return self._search(auth, fields, names, since_ms, state or {"mode": "search"})

    def write(self, auth: CrmAuth, object_name: str,
              updates: Sequence[tuple[str, Mapping[str, str]]]) -> list[WriteResult]:
        _check_object(object_name)
        results: list[WriteResult | None] = [None] * len(updates)
        sendable: list[int] = []
        for index, (record_id, _) in enumerate(updates):
            if _ID.fullmatch(record_id):
                sendable.append(index)
            else:
                results[index] = WriteResult(record_id, False, "INVALID_ID",
                                             "A HubSpot contact id is a number")
        for start in range(0, len(sendable), BATCH_LIMIT):
            batch = sendable[start:start + BATCH_LIMIT]
            for index, result in zip(batch, self._write_batch(auth, [updates[i] for i in batch]),
                                     strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    # -- reading -----------------------------------------------------------------------

    def _list(self, auth: CrmAuth, fields: Sequence[str], names: list[str],
              state: dict[str, Any]) -> CrmPage:
        archived = state.get("phase") == "archived"
        params = {"limit": str(LIST_LIMIT), "properties": ",".join(names)}
        if archived:
            params["archived"] = "true"
        if state.get("after"):
            params["after"] = str(state["after"])
        body = self._call(auth, "GET", CONTACTS, params=params)
        records = [_record(r, fields) for r in _results(body)]
        after = _next_after(body)
        if after is not None:
            following: dict[str, Any] | None = {
                "mode": "list", "phase": "archived" if archived else "live", "after": after}
        elif not archived:  # live ones done: deletions are the archived listing
            following = {"mode": "list", "phase": "archived"}
        else:
            following = None
        return CrmPage(records, _encode(following))

    def _search(self, auth: CrmAuth, fields: Sequence[str], names: list[str], since_ms: int,
                state: dict[str, Any]) -> CrmPage:
        floor, after, last = state.get("floor"), state.get("after"), state.get("last")
        try:
            body = self._call(auth, "POST", CONTACTS + "/search",
                              json=_search_body(names, since_ms, floor, after))
        except CrmError as error:
            if error.details.get("status") != 400 or after is None or last is None:
                raise
            # Past the cap after all (HubSpot moved it?): go on above the last id seen.
            floor, after = last, None
            body = self._call(auth, "POST", CONTACTS + "/search",
                              json=_search_body(names, since_ms, floor, after))
        results = _results(body)
        records = [_record(r, fields) for r in results]
        if results:
            last = int(str(results[-1].get("id")))
        next_after = _next_after(body)
        following: dict[str, Any] | None = None
        if next_after is not None:
            following = {"mode": "search", "floor": floor, "after": next_after, "last": last}
            if next_after.isdigit() and int(next_after) + SEARCH_LIMIT > SEARCH_CAP:
                following = {"mode": "search", "floor": last, "after": None, "last": last}
        return CrmPage(records, _encode(following))

    # -- writing -----------------------------------------------------------------------

    def _write_batch(self, auth: CrmAuth,
                     updates: list[tuple[str, Mapping[str, str]]]) -> list[WriteResult]:
        inputs = [{"id": record_id, "properties": dict(values)} for record_id, values in updates]
        response = self._send(auth, "POST", CONTACTS + "/batch/update", json={"inputs": inputs})
        if response.status_code == 400:
            # One bad value can refuse the whole batch: one at a time, the good ones land.
            return [self._write_one(auth, record_id, values) for record_id, values in updates]
        if response.status_code not in (200, 207):
            raise _error(response)
        failed: dict[str, tuple[str, str]] = {}
        for error in _json(response).get("errors") or []:
            if not isinstance(error, dict):
                continue
            code, message = _error_code(error), str(error.get("message", ""))
            for record_id in (error.get("context") or {}).get("ids") or []:
                failed.setdefault(str(record_id), (code, message))
        results = []
        for record_id, _ in updates:
            if record_id in failed:
                code, message = failed[record_id]
                results.append(WriteResult(record_id, False, code, message))
            else:
                results.append(WriteResult(record_id, True))
        return results

    def _write_one(self, auth: CrmAuth, record_id: str, values: Mapping[str, str]) -> WriteResult:
        response = self._send(auth, "PATCH", f"{CONTACTS}/{record_id}",
                              json={"properties": dict(values)})
        if response.status_code == 200:
            return WriteResult(record_id, True)
        if response.status_code in (400, 404, 409):
            body = _json(response)
            return WriteResult(record_id, False, _error_code(body), str(body.get("message", "")))
        raise _error(response)

    # -- HTTP --------------------------------------------------------------------------

    def _call(self, auth: CrmAuth, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(auth, method, path, **kwargs)
        if response.status_code != 200:
            raise _error(response)
        return _json(response)

    def _send(self, auth: CrmAuth, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The answer to a request, 429/5xx retried; raises on 401 and when retries run out."""
        url = provider_apps()[Provider.HUBSPOT].api_url + path
        headers = {"Authorization": f"Bearer {auth.access_token}"}
        return send_with_retries(self._http, method, url, headers=headers, sleep=self._sleep,
                                 on_response=_refusal, gave_up=_gave_up, refused=_refused,
                                 honours_retry_after=lambda status: status == 429, **kwargs)


# -- helpers ---------------------------------------------------------------------------


def _check_object(object_name: str) -> None:
    if object_name != OBJECT_NAME:
        raise CrmError(f"HubSpot reads {OBJECT_NAME!r}, not {object_name!r}",
                       code="crm_unsupported_object")


def _properties(fields: Sequence[str]) -> list[str]:
    for name in fields:
        if not _PROPERTY.fullmatch(name):
            raise CrmError(f"{name!r} is not a HubSpot property name", code="crm_invalid_field")
    return list(dict.fromkeys([*fields, *INTERNAL_FIELDS]))


def _epoch_ms(since: str) -> int:
    try:
        moment = datetime.fromisoformat(since.replace("z", "Z"))
    except ValueError:
        raise CrmError(f"{since!r} is not an ISO 8601 timestamp", code="crm_invalid_since") \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _search_body(names: list[str], since_ms: int, floor: int | None,
                 after: str | None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]
    if floor is not None:
        filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": str(floor)})
    body: dict[str, Any] = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": names, "limit": SEARCH_LIMIT}
    if after is not None:
        body["after"] = after
    return body


def _record(result: dict[str, Any], fields: Sequence[str]) -> CrmRecord:
    properties = result.get("properties") or {}
    archived = bool(result.get("archived"))
    stamp = (result.get("archivedAt") if archived else None) or result.get("updatedAt") \
        or properties.get("lastmodifieddate")
    record_id = str(result.get("id") or properties.get("hs_object_id") or "")
    return CrmRecord(
        id=record_id, modified_at=_iso_utc(str(stamp or "")),
        fields={name: "" if properties.get(name) is None else str(properties[name])
                for name in fields},
        deleted=archived)


def _iso_utc(value: str) -> str:
    """2026-01-05T09:00:00.000Z, whatever offset or precision HubSpot wrote."""
    if value.isdigit():
        return iso_utc(datetime.fromtimestamp(int(value) / 1000, UTC))
    try:
        return iso_utc(parse_iso(value))
    except ValueError:
        raise CrmError(f"HubSpot gave an unreadable time {value!r}",
                       code="crm_bad_answer") from None


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    results = body.get("results")
    if not isinstance(results, list):
        raise CrmError("HubSpot's answer has no results", code="crm_bad_answer")
    return [r for r in results if isinstance(r, dict)]


def _next_after(body: dict[str, Any]) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return None if after in (None, "") else str(after)


def _encode(state: dict[str, Any] | None) -> str | None:
    if state is None:
        return None
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(state, dict) or state.get("phase") not in (None, "live", "archived"):
        raise _bad_cursor()
    for key in ("after", "floor", "last"):
        value = state.get(key)
        if value is not None and not (isinstance(value, int) if key != "after"
                                      else isinstance(value, str)):
            raise _bad_cursor()
    return state


def _bad_cursor() -> CrmError:
    return CrmError("This cursor was not made by the HubSpot reader for this kind of run",
                    code="crm_bad_cursor")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _message(response: requests.Response) -> str:
    return str(_json(response).get("message") or "")


def _error_code(error: Mapping[str, Any]) -> str:
    """The most specific code HubSpot gives: a property's (INVALID_OPTION), else the category."""
    details = error.get("errors")
    if isinstance(details, list) and details and isinstance(details[0], dict) \
            and details[0].get("code"):
        return str(details[0]["code"])
    return str(error.get("subCategory") or error.get("category") or "UNKNOWN")


def _refusal(response: requests.Response) -> None:
    """401 and a spent daily quota are final: no retry helps."""
    if response.status_code == 401:
        raise CrmUnauthorized(_message(response) or "HubSpot refused the access token",
                              details={"status": 401})
    if response.status_code == 429 and _json(response).get("policyName") == "DAILY":
        raise CrmQuotaExceeded("HubSpot's daily API limit is spent",
                               details={"status": 429, "policy": "DAILY"})


def _gave_up(end: GaveUp) -> CrmError:
    if end.exception is not None:
        return CrmError(f"HubSpot did not answer ({type(end.exception).__name__})",
                        code="crm_unavailable")
    if end.status == 429:
        return CrmError(f"HubSpot kept answering 429 after {end.retries} retries",
                        code="crm_rate_limited",
                        details={"status": 429, "retry_after": end.retry_after})
    return CrmError(f"HubSpot kept answering {end.status} after {end.retries} retries",
                    code="crm_unavailable", details={"status": end.status})


def _refused(error: LeadpipeError) -> CrmError:
    return CrmError(error.message, code=error.code)


def _error(response: requests.Response) -> CrmError:
    body = _json(response)
    message = str(body.get("message") or f"HubSpot answered {response.status_code}")
    return CrmError(message, details={"status": response.status_code,
                                      "category": body.get("category"),
                                      "sub_category": body.get("subCategory")})

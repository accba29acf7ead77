"""A HubSpot CRM v3 sandbox: contacts (list, search, update, batch update, archive) and OAuth.

Speaks the subset leadpipe uses, with HubSpot's shapes and limits:

- `POST /oauth/v1/token`: `{token_type, refresh_token, access_token, expires_in}`;
  errors are HubSpot's `{"status": "BAD_REFRESH_TOKEN", "message", ...}`, not RFC 6749's;
- `GET /crm/v3/objects/contacts` (`limit` ≤ 100, `after`, `properties`,
  `archived=true` lists only archived contacts) and `GET .../contacts/{id}`;
- `POST /crm/v3/objects/contacts/search`: filterGroups (OR) of filters (AND),
  one sort, `limit` ≤ 200, `after` an offset; a page reaching past the 10,000th
  result is refused 400, which is how the real search shows its cap;
- `PATCH .../contacts/{id}`, `POST .../contacts/batch/update` (≤ 100 inputs;
  per-input errors answer 207), `DELETE .../contacts/{id}` (archives);
- errors `{"status": "error", "message", "correlationId", "category", ...}`;
  401 INVALID_AUTHENTICATION / EXPIRED_AUTHENTICATION;
- `burst_limit` requests per rolling 10 s → 429 RATE_LIMIT / TEN_SECONDLY_ROLLING.

Responses give `createdate`/`lastmodifieddate` as ISO instants (as HubSpot
does); search filters on them take epoch milliseconds (or ISO).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from tools.sandboxes.common import AccessToken, RollingWindow, Sandbox
from tools.sandboxes.credentials import HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET
from tools.sandboxes.hubspot_search import SEARCH_CAP, SearchError, run_search, to_ms
from tools.sandboxes.samples import people
from tools.sandboxes.wire import (
    BadRequestError,
    Request,
    Response,
    Route,
    correlation_id,
    iso_z,
    route,
)

LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
                 "CONNECTED", "BAD_TIMING")
LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                    "opportunity", "customer", "evangelist", "other")
ENUMS = {"hs_lead_status": LEAD_STATUSES, "lifecyclestage": LIFECYCLE_STAGES}
WRITABLE = frozenset({"firstname", "lastname", "email", "phone", "mobilephone", "company",
                      "jobtitle", "city", "state", "country", "zip", "website", "hs_lead_status",
                      "lifecyclestage", "hs_linkedin_url", "createdate"})
READ_ONLY = frozenset({"hs_object_id", "lastmodifieddate"})
KNOWN = WRITABLE | READ_ONLY
DEFAULT_PROPERTIES = ("firstname", "lastname", "email")  # what a request naming none gets
ALWAYS = ("createdate", "hs_object_id", "lastmodifieddate")
LIST_MAX, BATCH_MAX = 100, 100
CONTACTS = "/crm/v3/objects/contacts"


@dataclass
class Contact:
    id: str
    properties: dict[str, str]  # writable properties that have a value
    created_ms: int
    updated_ms: int
    archived_ms: int | None = None

    def values(self) -> dict[str, str]:
        return {**self.properties, "hs_object_id": self.id, "createdate": iso_z(self.created_ms),
                "lastmodifieddate": iso_z(self.updated_ms)}


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> Response:
    return Response(status, {"status": "error", "message": message,
                             "correlationId": correlation_id(), "category": category, **extra})


def _validate(properties: Any) -> list[dict[str, Any]]:
    """HubSpot's validation results for a `properties` object; empty when all are valid."""
    if not isinstance(properties, dict):
        raise BadRequestError("properties must be an object of property name to value")
    problems = []
    for name, value in properties.items():
        if name not in KNOWN:
            problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif name in READ_ONLY:
            problems.append((name, "READ_ONLY_VALUE", f'"{name}" is a read only property; '
                             "its value cannot be set."))
        elif name == "createdate" and not _is_date(value):
            problems.append((name, "INVALID_DATE", f"{value} is not a valid date"))
        elif name in ENUMS and value not in ("", None) and str(value) not in ENUMS[name]:
            problems.append((name, "INVALID_OPTION", f"{value} was not one of the allowed "
                             f"options: [{', '.join(ENUMS[name])}]"))
    return [{"isValid": False, "message": message, "error": code, "name": name,
             "localizedErrorMessage": message} for name, code, message in problems]


def _validation_error(problems: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"status": "error",
            "message": "Property values were not valid: "
            + json.dumps(problems, separators=(",", ":"), ensure_ascii=False),
            "correlationId": correlation_id(), "category": "VALIDATION_ERROR",
            "errors": [{"message": p["message"], "code": p["error"],
                        "context": {"propertyName": [p["name"]]}} for p in problems], **extra}


def _object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequestError("the request body must be a JSON object")
    return body


def _is_date(value: Any) -> bool:
    try:
        to_ms(str(value))
    except SearchError:
        return False
    return True


def _names(values: Iterable[str]) -> list[str]:
    return [name for value in values for name in value.split(",") if name]


class HubSpotSandbox(Sandbox):
    """HubSpot's contacts API on loopback. `start()` returns the base URL (the client's host)."""

    name = "hubspot"
    provider_title = "HubSpot"
    oauth_path = "/oauth/v1/token"

    def __init__(self, *, client_id: str = HUBSPOT_CLIENT_ID,
                 client_secret: str = HUBSPOT_CLIENT_SECRET,
                 token_ttl_seconds: float = 1800, private_app_tokens: Iterable[str] = (),
                 refresh_tokens: Iterable[str] = (), burst_limit: int | None = None,
                 retry_after: bool = False, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret,
                         token_ttl_seconds=token_ttl_seconds, static_tokens=private_app_tokens,
                         refresh_tokens=refresh_tokens, host=host, port=port)
        self.contacts: dict[str, Contact] = {}  # in id order: ids only ever ascend
        self._next_id = 1001
        self.burst = RollingWindow(burst_limit, 10.0) if burst_limit else None
        self.retry_after = retry_after  # the real API sends none on search 429s

    # -- test helpers ------------------------------------------------------------------

    def add_contact(self, *, created_ms: int | None = None, **properties: Any) -> str:
        with self.lock:
            if problems := _validate(properties):
                raise ValueError(problems)
            stamp = self.stamp_ms() if created_ms is None else created_ms
            contact_id, self._next_id = str(self._next_id), self._next_id + 1
            self.contacts[contact_id] = Contact(contact_id, {}, stamp, stamp)
            self._apply(self.contacts[contact_id], properties, stamp)
            return contact_id

    def update_contact(self, contact_id: str, **properties: Any) -> None:
        """Change properties as a HubSpot user would: lastmodifieddate moves on."""
        with self.lock:
            if problems := _validate(properties):
                raise ValueError(problems)
            self._apply(self.contacts[contact_id], properties, self.stamp_ms())

    def archive(self, contact_id: str) -> None:
        with self.lock:
            contact = self.contacts[contact_id]
            contact.archived_ms = contact.updated_ms = self.stamp_ms()

    def seed(self, count: int, *, seed: int = 11) -> list[str]:
        """`count` realistic contacts, the same for the same `seed`, created in 2026-01."""
        with self.lock:
            ids = []
            for person in people(count, seed):
                contact_id = self.add_contact(
                    created_ms=person.created_ms, firstname=person.first, lastname=person.last,
                    email=person.email, phone=person.phone, mobilephone=person.mobile,
                    company=person.company, jobtitle=person.title, city=person.city,
                    state=person.state, country=person.country, hs_linkedin_url=person.linkedin,
                    hs_lead_status=LEAD_STATUSES[person.status_index % len(LEAD_STATUSES)])
                self.contacts[contact_id].updated_ms = person.modified_ms
                ids.append(contact_id)
            return ids

    def throttle_next(self, count: int = 1, *, retry_after: float | None = None) -> None:
        """The next `count` API requests answer HubSpot's 429."""
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else {}
        self.fail_next(429, self._rate_limit_body(), headers, count)

    # -- plumbing ----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        one = CONTACTS + r"/(?P<id>[^/]+)"
        return [route("GET", CONTACTS, self._list),
                route("POST", CONTACTS + "/search", self._search),
                route("POST", CONTACTS + "/batch/update", self._batch_update),
                route("GET", one, self._get), route("PATCH", one, self._patch),
                route("DELETE", one, self._delete)]

    def _apply(self, contact: Contact, properties: dict[str, Any], stamp: int) -> None:
        for name, value in properties.items():
            if name == "createdate":
                contact.created_ms = to_ms(str(value))
            elif value in ("", None):
                contact.properties.pop(name, None)  # HubSpot clears a property set to ""
            else:
                contact.properties[name] = str(value).lower() if isinstance(value, bool) \
                    else str(value)
        contact.updated_ms = max(contact.updated_ms, stamp)

    def render(self, contact: Contact, names: list[str] | None) -> dict[str, Any]:
        values = contact.values()
        wanted = [n for n in dict.fromkeys([*(names or DEFAULT_PROPERTIES), *ALWAYS]) if n in KNOWN]
        body = {"id": contact.id, "properties": {n: values.get(n) for n in wanted},
                "createdAt": iso_z(contact.created_ms), "updatedAt": iso_z(contact.updated_ms),
                "archived": contact.archived_ms is not None}
        if contact.archived_ms is not None:
            body["archivedAt"] = iso_z(contact.archived_ms)
        return body

    def unauthorized(self, problem: str, token: AccessToken | None) -> Response:
        if problem == "expired" and token is not None and token.expires_at is not None:
            ago = max(0, int(self.now() - token.expires_at))
            return hubspot_error(401, f"The OAuth token used to make this call expired {ago} "
                                 "second(s) ago.", "EXPIRED_AUTHENTICATION",
                                 context={"expire time": [iso_z(int(token.expires_at * 1000))]})
        return hubspot_error(401, "Authentication credentials not found. This API supports OAuth "
                             "2.0 authentication and you can find more details at "
                             "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                             "INVALID_AUTHENTICATION")

    def not_found(self, request: Request) -> Response:
        return hubspot_error(404, "resource not found", "OBJECT_NOT_FOUND")

    def bad_request(self, message: str) -> Response:
        return hubspot_error(400, message, "VALIDATION_ERROR")

    oauth_errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "client_id": (400, "BAD_CLIENT_ID", "missing or invalid client id"),
        "client_secret": (400, "BAD_CLIENT_SECRET", "missing or invalid client secret"),
        "code": (400, "BAD_AUTH_CODE", "missing or unknown auth code"),
        "redirect_uri": (400, "BAD_REDIRECT_URI",
                         "redirect_uri does not match initial authorization request"),
        "refresh_token": (400, "BAD_REFRESH_TOKEN", "missing or invalid refresh token"),
        "grant_type": (400, "BAD_GRANT_TYPE", "missing or unknown grant type"),
    }

    def oauth_error(self, problem: str) -> Response:
        status, code, message = self.oauth_errors[problem]
        return Response(status, {"status": code, "message": message,
                                 "correlationId": correlation_id()})

    def token_body(self, access: AccessToken, refresh_token: str | None) -> dict[str, Any]:
        # HubSpot hands the (unchanged) refresh token back on every refresh.
        return {"token_type": "bearer", "refresh_token": refresh_token or access.grant,
                "access_token": access.token, "expires_in": int(self.token_ttl_seconds)}

    def _rate_limit_body(self) -> dict[str, Any]:
        return {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": correlation_id(),
                "policyName": "TEN_SECONDLY_ROLLING", "requestId": correlation_id()}

    def before_api(self, request: Request) -> Response | None:
        if self.burst is None or self.burst.allow(self.now()):
            return None
        wait = self.burst.retry_after(self.now())
        headers = {"Retry-After": str(max(1, math.ceil(wait)))} if self.retry_after else {}
        return Response(429, self._rate_limit_body(), headers)

    def after_api(self, request: Request, response: Response) -> None:
        if self.burst is not None and not request.path.endswith("/search"):
            response.headers.update({
                "X-HubSpot-RateLimit-Max": str(self.burst.limit),
                "X-HubSpot-RateLimit-Remaining": str(self.burst.remaining(self.now())),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})

    # -- endpoints ---------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        limit = _int(request.arg("limit", "10"), "limit")
        if not 1 <= limit <= LIST_MAX:
            raise BadRequestError(f"limit must be between 1 and {LIST_MAX}; got {limit}")
        after = _int(request.arg("after", "0"), "after")
        archived = request.arg("archived", "false") == "true"
        names = _names(request.query.get("properties", [])) or None
        page: list[dict[str, Any]] = []
        more: Contact | None = None
        for contact in self.contacts.values():
            if int(contact.id) < after or (contact.archived_ms is not None) != archived:
                continue
            if len(page) == limit:
                more = contact
                break
            page.append(self.render(contact, names))
        body: dict[str, Any] = {"results": page}
        if more is not None:
            # The cursor names where the next page starts: writes meanwhile move nothing.
            link = f"{self.url}{CONTACTS}?limit={limit}&after={more.id}"
            body["paging"] = {"next": {"after": more.id, "link": link}}
        return Response(200, body)

    def _get(self, request: Request) -> Response:
        contact = self.contacts.get(request.params["id"])
        archived = request.arg("archived", "false") == "true"
        if contact is None or (contact.archived_ms is not None) != archived:
            return self.not_found(request)
        return Response(200, self.render(contact, _names(request.query.get("properties", []))))

    def _search(self, request: Request) -> Response:
        live = [c for c in self.contacts.values() if c.archived_ms is None]
        query = _object(request)
        try:
            total, page, after = run_search(live, query)
        except SearchError as error:
            return hubspot_error(400, str(error), "VALIDATION_ERROR")
        names = query.get("properties") or None
        body: dict[str, Any] = {"total": total, "results": [self.render(c, names) for c in page]}
        if after is not None:
            body["paging"] = {"next": {"after": str(after)}}
        return Response(200, body)

    def _patch(self, request: Request) -> Response:
        contact = self.contacts.get(request.params["id"])
        if contact is None or contact.archived_ms is not None:
            return self.not_found(request)
        properties = _object(request).get("properties")
        if problems := _validate(properties):
            return Response(400, _validation_error(problems))
        assert isinstance(properties, dict)  # _validate refuses anything else
        self._apply(contact, properties, self.stamp_ms())
        return Response(200, self.render(contact, list(properties)))

    def _batch_update(self, request: Request) -> Response:
        started = iso_z(int(self.now() * 1000))
        inputs = _object(request).get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise BadRequestError("inputs must be a list of {id, properties}")
        if len(inputs) > BATCH_MAX:
            raise BadRequestError(f"Batch input limit exceeded: {len(inputs)} inputs, "
                                  f"at most {BATCH_MAX}")
        ids = [str(i.get("id")) for i in inputs]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise BadRequestError(f"Duplicate IDs found in batch input: {duplicates}. "
                                  "IDs must be unique")
        results, errors, missing = [], [], []
        for entry, contact_id in zip(inputs, ids, strict=True):
            contact = self.contacts.get(contact_id)
            if contact is None or contact.archived_ms is not None:
                missing.append(contact_id)
            elif problems := _validate(entry.get("properties")):
                errors.append(_validation_error(problems, context={"ids": [contact_id]}))
            else:
                properties: dict[str, Any] = entry["properties"]
                self._apply(contact, properties, self.stamp_ms())
                results.append(self.render(contact, list(properties)))
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": "Could not get some CONTACT objects, they may be deleted "
                           "or not exist. Check that ids are valid.",
                           "context": {"ids": missing}})
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                                "completedAt": iso_z(int(self.now() * 1000))}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        return Response(207 if errors else 200, body)

    def _delete(self, request: Request) -> Response:
        contact = self.contacts.get(request.params["id"])
        if contact is not None and contact.archived_ms is None:
            contact.archived_ms = contact.updated_ms = self.stamp_ms()
        return Response(204)  # HubSpot answers 204 for an unknown id too


def _int(value: str | None, name: str) -> int:
    try:
        return int(value or "")
    except ValueError as error:
        raise BadRequestError(f"{name} must be an integer; got {value!r}") from error


__all__ = ["ENUMS", "LEAD_STATUSES", "SEARCH_CAP", "Contact", "HubSpotSandbox"]

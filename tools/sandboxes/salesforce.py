"""A Salesforce REST sandbox: OAuth, SOQL query/queryAll with cursors, Lead and Contact updates.

Speaks the subset leadpipe uses, with Salesforce's shapes:

- `POST /services/oauth2/token` → `{access_token, instance_url, id, token_type,
  issued_at, signature}` (no `expires_in`: a session just stops working,
  `token_ttl_seconds` after it was issued); errors are RFC 6749's
  `{"error": "invalid_grant", "error_description": ...}`;
- `GET /services/data/vXX.X/query?q=` and `/queryAll?q=` (deleted records
  too) for the SOQL of `soql.py`, `batch_size` records a page with
  `nextRecordsUrl` (`/services/data/v61.0/query/01g...-2000`) until `done`;
- `GET|PATCH /services/data/vXX.X/sobjects/{Lead|Contact}/{Id}` (PATCH: 204) and
  `PATCH /services/data/vXX.X/composite/sobjects` (≤ 200 records, one SaveResult
  each, in order; `allOrNone` rolls everything back on one error);
- errors are lists `[{"message", "errorCode"}]`: 401 INVALID_SESSION_ID,
  403 REQUEST_LIMIT_EXCEEDED past `api_limit` requests, 400 MALFORMED_QUERY...;
  every API answer carries `Sforce-Limit-Info: api-usage=N/LIMIT`.

Ids are 18 characters with Salesforce's case-safe suffix: 00Q... for Lead,
003... for Contact, 001... for Account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from tools.sandboxes.common import AccessToken, Sandbox
from tools.sandboxes.credentials import SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET
from tools.sandboxes.salesforce_records import (
    LEAD_STATUSES,
    PREFIXES,
    SCHEMAS,
    SfRecord,
    make_id,
    normalise_id,
    save_problems,
    sf_datetime,
)
from tools.sandboxes.samples import people
from tools.sandboxes.soql import Condition, SoqlError, parse
from tools.sandboxes.wire import BadRequestError, Request, Response, Route, route

DATA = r"/services/data/v(?P<version>\d+\.\d)"
COLLECTION_MAX = 200
CURSOR_IDLE_SECONDS = 15 * 60  # an unused query locator expires, as Salesforce's do
ORG_ID, USER_ID = make_id("00D", 1), make_id("005", 1)


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        error["fields"] = fields
    return Response(status, [error])


@dataclass
class _Cursor:
    records: list[dict[str, Any]]  # rendered when queried: later writes change no page
    endpoint: str
    expires_at: float


class SalesforceSandbox(Sandbox):
    """Salesforce's REST API on loopback; the instance URL is the sandbox's own URL."""

    name = "salesforce"
    provider_title = "Salesforce"
    # Salesforce's consent page is on the login host, where leadpipe looks for it
    # (chalicelib/provider_settings.py: <login URL>/services/oauth2/authorize).
    authorize_paths = ("/oauth/authorize", "/services/oauth2/authorize")
    oauth_path = "/services/oauth2/token"
    content_type = "application/json;charset=UTF-8"

    oauth_errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "client_id": (400, "invalid_client_id", "client identifier invalid"),
        "client_secret": (400, "invalid_client", "invalid client credentials"),
        "code": (400, "invalid_grant", "invalid authorization code"),
        "redirect_uri": (400, "redirect_uri_mismatch", "redirect_uri must match configuration"),
        "refresh_token": (400, "invalid_grant", "expired access/refresh token"),
        "grant_type": (400, "unsupported_grant_type", "grant type not supported"),
    }

    def __init__(self, *, client_id: str = SALESFORCE_CLIENT_ID,
                 client_secret: str = SALESFORCE_CLIENT_SECRET, token_ttl_seconds: float = 7200,
                 refresh_tokens: Iterable[str] = (), static_tokens: Iterable[str] = (),
                 batch_size: int = 2000, api_limit: int = 5000, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret,
                         token_ttl_seconds=token_ttl_seconds, static_tokens=static_tokens,
                         refresh_tokens=refresh_tokens, host=host, port=port)
        self.records: dict[str, SfRecord] = {}
        self.accounts: dict[str, str] = {}  # Account Id -> Name
        self.batch_size, self.api_limit, self.api_usage = batch_size, api_limit, 0
        self._cursors: dict[str, _Cursor] = {}
        self._serial = 0

    # -- test helpers ------------------------------------------------------------------

    def add_lead(self, *, created_ms: int | None = None, **fields: Any) -> str:
        """A Lead (Status "Open - Not Contacted" unless given), created now or at `created_ms`."""
        return self._add("Lead", {"Status": LEAD_STATUSES[0], "IsConverted": False, **fields},
                         created_ms)

    def add_contact(self, *, account_name: str | None = None, created_ms: int | None = None,
                    **fields: Any) -> str:
        """A Contact, in the Account named `account_name` (created on first use)."""
        with self.lock:
            if account_name is not None:
                fields["AccountId"] = self._account(account_name)
            return self._add("Contact", fields, created_ms)

    def update(self, record_id: str, **fields: Any) -> None:
        """Change fields as a Salesforce user would: LastModifiedDate and SystemModstamp move."""
        with self.lock:
            record = self.records[normalise_id(record_id)]
            if problems := save_problems(record.sobject, fields):
                raise ValueError(problems)
            record.save(fields, self.stamp_ms())

    def delete(self, record_id: str) -> None:
        """To the recycle bin: IsDeleted, seen by queryAll only."""
        with self.lock:
            record = self.records[normalise_id(record_id)]
            record.fields["IsDeleted"] = True
            record.save({}, self.stamp_ms())

    def seed(self, count: int, object: str = "Lead", *, seed: int = 11) -> list[str]:
        """`count` realistic Leads or Contacts, the same for the same `seed`, made in 2026-01."""
        with self.lock:
            ids = []
            for person in people(count, seed):
                common = {"FirstName": person.first, "LastName": person.last,
                          "Email": person.email or None, "Phone": person.phone or None,
                          "MobilePhone": person.mobile or None, "Title": person.title,
                          "LeadSource": person.source}
                if object == "Lead":
                    record_id = self.add_lead(
                        **common, Company=person.company, City=person.city,
                        State=person.state or None, Country=person.country,
                        Status=LEAD_STATUSES[person.status_index % len(LEAD_STATUSES)],
                        created_ms=person.created_ms)
                else:
                    record_id = self.add_contact(
                        **common, account_name=person.company, MailingCity=person.city,
                        MailingState=person.state or None, MailingCountry=person.country,
                        created_ms=person.created_ms)
                modified = self.records[record_id].fields
                modified["LastModifiedDate"] = modified["SystemModstamp"] = person.modified_ms
                ids.append(record_id)
            return ids

    def exceed_request_limit(self) -> None:
        """The org has used its daily API requests: every call answers 403 from now."""
        with self.lock:
            self.api_usage = self.api_limit

    # -- plumbing ----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        one = DATA + r"/sobjects/(?P<sobject>Lead|Contact)/(?P<id>[^/]+)"
        locator = r"/(?P<locator>01g[0-9A-Za-z]+)-(?P<offset>\d+)"
        return [route("GET", DATA + r"/query", self._query),
                route("GET", DATA + r"/queryAll", self._query_all),
                route("GET", DATA + r"/(?P<endpoint>query|queryAll)" + locator, self._more),
                route("GET", one, self._get), route("PATCH", one, self._patch),
                route("PATCH", DATA + r"/composite/sobjects", self._collection)]

    def _add(self, sobject: str, fields: dict[str, Any], created_ms: int | None) -> str:
        with self.lock:
            stamp = self.stamp_ms() if created_ms is None else created_ms
            self._serial += 1
            record_id = make_id(PREFIXES[sobject], self._serial)
            record = SfRecord(sobject, {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp,
                                        "LastModifiedDate": stamp, "SystemModstamp": stamp})
            record.fields.update(fields)
            self.records[record_id] = record
            return record_id

    def _account(self, name: str) -> str:
        for account_id, account_name in self.accounts.items():
            if account_name == name:
                return account_id
        account_id = make_id(PREFIXES["Account"], len(self.accounts) + 1)
        self.accounts[account_id] = name
        return account_id

    def token_body(self, access: AccessToken, refresh_token: str | None) -> dict[str, Any]:
        identity, issued_at = f"{self.url}/id/{ORG_ID}/{USER_ID}", str(int(self.now() * 1000))
        digest = hmac.new(self.client_secret.encode(), (identity + issued_at).encode(),
                          hashlib.sha256).digest()
        body = {"access_token": access.token, "signature": base64.b64encode(digest).decode(),
                "scope": "refresh_token api", "instance_url": self.url, "id": identity,
                "token_type": "Bearer", "issued_at": issued_at}
        if refresh_token is not None:  # the code grant only; a refresh returns none
            body["refresh_token"] = refresh_token
        return body

    def unauthorized(self, problem: str, token: AccessToken | None) -> Response:
        response = sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        response.headers["WWW-Authenticate"] = 'Token'
        return response

    def not_found(self, request: Request) -> Response:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def bad_request(self, message: str) -> Response:
        return sf_error(400, "JSON_PARSER_ERROR", message)

    def before_api(self, request: Request) -> Response | None:
        self.api_usage += 1
        if self.api_usage > self.api_limit:
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return None

    def after_api(self, request: Request, response: Response) -> None:
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_usage}/{self.api_limit}"

    # -- query -------------------------------------------------------------------------

    def _query(self, request: Request) -> Response:
        return self._run(request, "query", include_deleted=False)

    def _query_all(self, request: Request) -> Response:
        return self._run(request, "queryAll", include_deleted=True)

    def _run(self, request: Request, endpoint: str, *, include_deleted: bool) -> Response:
        soql = request.arg("q")
        if not soql:
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse(soql, SCHEMAS)
        except SoqlError as error:
            return sf_error(400, error.code, str(error))
        found = [r for r in self.records.values() if r.sobject == query.sobject
                 and (include_deleted or not r.fields["IsDeleted"])
                 and all(self._holds(r, c) for c in query.where)]
        for field, descending in reversed(query.order):  # stable sorts: last key first
            found.sort(key=partial(SfRecord.sort_key, field=field, accounts=self.accounts),
                       reverse=descending)
        if query.limit is not None:
            found = found[:query.limit]
        version = request.params["version"]
        rendered = [r.render(query.fields, version, self.accounts) for r in found]
        return self._page(_Cursor(rendered, endpoint, 0.0), 0, version, request)

    def _holds(self, record: SfRecord, condition: Condition) -> bool:
        value = record.value(condition.field, self.accounts)
        if condition.value is None or value is None:
            same = value is None and condition.value is None
            return same if condition.op == "=" else not same if condition.op == "!=" else False
        order = record.compare(condition.field, value, condition.value)
        return {"=": order == 0, "!=": order != 0, "<": order < 0, "<=": order <= 0,
                ">": order > 0, ">=": order >= 0}[condition.op]

    def _page(self, cursor: _Cursor, offset: int, version: str, request: Request) -> Response:
        size = self.batch_size
        options = request.headers.get("Sforce-Query-Options", "")
        hint = options.removeprefix("batchSize=")
        if hint != options and hint.isdigit():
            # A hint, 200 to 2,000, which Salesforce may lower; never raise ours.
            size = min(size, max(200, min(2000, int(hint))))
        following = offset + size
        body: dict[str, Any] = {"totalSize": len(cursor.records),
                                "done": following >= len(cursor.records)}
        if not body["done"]:
            self._serial += 1
            locator = make_id("01g", self._serial)
            self._cursors[locator] = _Cursor(cursor.records, cursor.endpoint,
                                             self.now() + CURSOR_IDLE_SECONDS)
            body["nextRecordsUrl"] = (f"/services/data/v{version}/{cursor.endpoint}/"
                                      f"{locator}-{following}")
        body["records"] = cursor.records[offset:following]
        return Response(200, body)

    def _more(self, request: Request) -> Response:
        cursor = self._cursors.pop(request.params["locator"], None)
        offset = int(request.params["offset"])
        if cursor is None or cursor.expires_at < self.now() or offset > len(cursor.records):
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, offset, request.params["version"], request)

    # -- writes ------------------------------------------------------------------------

    def _find(self, sobject: str, record_id: str) -> tuple[SfRecord | None, Response | None]:
        record = self.records.get(normalise_id(record_id))
        if record is None or record.sobject != sobject:
            return None, sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        if record.fields["IsDeleted"]:
            return None, sf_error(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record, None

    def _get(self, request: Request) -> Response:
        record, missing = self._find(request.params["sobject"], request.params["id"])
        if record is None:
            return missing or self.not_found(request)
        fields = tuple(f for f in SCHEMAS[record.sobject] if "." not in f)
        return Response(200, record.render(fields, request.params["version"], self.accounts))

    def _patch(self, request: Request) -> Response:
        record, missing = self._find(request.params["sobject"], request.params["id"])
        if record is None:
            return missing or self.not_found(request)
        fields = request.json()
        if not isinstance(fields, dict):
            raise BadRequestError("Can not deserialize SObject out of START_ARRAY token")
        if problems := save_problems(record.sobject, fields):
            return Response(400, [{"message": message, "errorCode": code, "fields": names}
                                  for code, message, names in problems])
        record.save(fields, self.stamp_ms())
        return Response(204)

    def _collection(self, request: Request) -> Response:
        body = request.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise BadRequestError("records must be a list of sObjects")
        if len(records) > COLLECTION_MAX:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more "
                            f"than {COLLECTION_MAX} records into this call")
        planned: list[tuple[SfRecord | None, dict[str, Any], list[tuple[str, str, list[str]]]]]
        planned = [self._plan(entry) for entry in records]
        failed = any(problems for _, _, problems in planned)
        roll_back = bool(body.get("allOrNone")) and failed
        results = []
        rolled_back = [("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not "
                        "all records were valid and the request was using AllOrNone header",
                        list[str]())]
        for record, fields, problems in planned:
            if problems or roll_back:
                result: dict[str, Any] = {"success": False, "errors": [
                    {"statusCode": code, "message": message, "fields": names}
                    for code, message, names in problems or rolled_back]}
                if record is not None:  # an id Salesforce could read is given back
                    result = {"id": record.fields["Id"], **result}
                results.append(result)
                continue
            assert record is not None
            record.save(fields, self.stamp_ms())
            results.append({"id": record.fields["Id"], "success": True, "errors": []})
        return Response(200, results)

    def _plan(self, entry: dict[str, Any]) -> tuple[SfRecord | None, dict[str, Any],
                                                     list[tuple[str, str, list[str]]]]:
        sobject = (entry.get("attributes") or {}).get("type")
        record_id = entry.get("id") or entry.get("Id")
        fields = {k: v for k, v in entry.items() if k not in ("attributes", "id", "Id")}
        if sobject not in ("Lead", "Contact"):
            return None, fields, [("INVALID_TYPE", "Must send a concrete entity type.", [])]
        if not record_id:
            return None, fields, [("MISSING_ARGUMENT", "Id not specified in an update call", [])]
        if not str(record_id).startswith(PREFIXES[sobject]) or len(str(record_id)) not in (15, 18):
            return None, fields, [("MALFORMED_ID", f"{sobject} ID: id value of incorrect type: "
                                   f"{record_id}", ["Id"])]
        record = self.records.get(normalise_id(str(record_id)))
        if record is None:
            return None, fields, [("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                   [])]
        if record.fields["IsDeleted"]:
            return record, fields, [("ENTITY_IS_DELETED", "entity is deleted", [])]
        return record, fields, save_problems(sobject, fields)


__all__ = ["LEAD_STATUSES", "SalesforceSandbox", "sf_datetime"]

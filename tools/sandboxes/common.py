"""The base of the loopback sandboxes: an HTTP server, OAuth, a request log, failure knobs.

Each sandbox (HubSpot, Salesforce, Google Sheets) is a `Sandbox` subclass
that lists its routes and says how its provider words an error; everything
the three share lives here:

- a `ThreadingHTTPServer` on 127.0.0.1 (port 0 unless given) on a daemon
  thread, HTTP/1.1 with keep-alive, as a client's connection pool expects
  (the HTTP plumbing itself is in `wire.py`);
- bearer tokens: access tokens issued by the OAuth endpoint live
  `token_ttl_seconds`, static tokens (a HubSpot private-app token, a Google
  access token handed over directly) never expire;
- the OAuth token endpoint: `authorization_code` (codes from `issue_code`,
  standing in for the browser step) and `refresh_token` grants, form-encoded;
  refresh tokens can be revoked;
- the consent page (`consent.py`): `GET|POST /oauth/authorize` (and any other
  `authorize_paths`), the browser step that ends in a code for `redirect_uri`;
- a clock the tests can move (`advance_clock`) instead of sleeping through
  token lifetimes and rate windows;
- a request log (method, path, query, body, status) for counting requests;
- `fail_next`: the next matching requests answer a given status and body.

State is guarded by one lock and each request is handled under it: requests
are cheap, and serialising them keeps every handler free of races.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote

from tools.sandboxes.consent import consent_routes
from tools.sandboxes.wire import (
    BadRequestError,
    LoggedRequest,
    LoopbackServer,
    Request,
    Response,
    Route,
    handler_for,
    loggable,
    route,
)

HOST = "127.0.0.1"
CODE_TTL_SECONDS = 600  # authorization codes are short-lived at every provider


@dataclass(frozen=True)
class AccessToken:
    token: str
    grant: str  # the refresh token (or static token) it came from: one user's identity
    expires_at: float | None  # None: never (static tokens)


@dataclass
class _Failure:
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int
    path: str | None


class RollingWindow:
    """At most `limit` events in any `seconds`-long window (a rolling rate limit)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._events: deque[float] = deque()

    def allow(self, now: float) -> bool:
        while self._events and self._events[0] <= now - self.seconds:
            self._events.popleft()
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def remaining(self, now: float) -> int:
        return max(0, self.limit - sum(1 for t in self._events if t > now - self.seconds))

    def retry_after(self, now: float) -> float:
        return max(0.0, self._events[0] + self.seconds - now) if self._events else 0.0


class Sandbox:
    """A provider's API on loopback; subclasses give routes and error shapes."""

    name: ClassVar[str] = "sandbox"
    provider_title: ClassVar[str] = "sandbox"  # as the consent page names the provider
    oauth_path: ClassVar[str] = "/token"
    authorize_paths: ClassVar[tuple[str, ...]] = ("/oauth/authorize",)
    content_type: ClassVar[str] = "application/json;charset=utf-8"

    def __init__(self, *, client_id: str, client_secret: str, token_ttl_seconds: float,
                 static_tokens: Iterable[str] = (), refresh_tokens: Iterable[str] = (),
                 host: str = HOST, port: int = 0) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.token_ttl_seconds = token_ttl_seconds
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self._clock_offset = 0.0
        self._last_stamp_ms = 0
        self._access: dict[str, AccessToken] = {}
        self._refresh: set[str] = set(refresh_tokens)
        self._codes: dict[str, tuple[str, float]] = {}  # code -> (redirect_uri, expiry)
        self._failures: list[_Failure] = []
        self._log: list[LoggedRequest] = []
        self.errors: list[BaseException] = []  # exceptions in handlers: a sandbox bug
        for token in static_tokens:
            self.add_static_token(token)
        self._routes = [route("POST", re.escape(self.oauth_path), self._token, auth=False),
                        *consent_routes(self), *self.routes()]
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> str:
        """Serve on a daemon thread; returns the base URL (http://127.0.0.1:PORT)."""
        server = LoopbackServer((self.host, self.port),
                                handler_for(self.dispatch, self.name, self.content_type))
        self._server, self.port = server, int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name=f"{self.name}-sandbox",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- clock -------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's time forward: tokens expire, rate windows roll, stamps move."""
        with self.lock:
            self._clock_offset += seconds

    def stamp_ms(self) -> int:
        """The time of a change in ms, strictly after the previous one (ties break nothing)."""
        with self.lock:
            self._last_stamp_ms = max(int(self.now() * 1000), self._last_stamp_ms + 1)
            return self._last_stamp_ms

    # -- credentials -------------------------------------------------------------------

    def add_static_token(self, token: str) -> None:
        with self.lock:
            self._access[token] = AccessToken(token, token, None)

    def add_refresh_token(self, token: str) -> None:
        with self.lock:
            self._refresh.add(token)

    def issue_refresh_token(self) -> str:
        """A refresh token as if the whole consent flow had happened."""
        token = self.new_refresh_token()
        self.add_refresh_token(token)
        return token

    def issue_code(self, redirect_uri: str) -> str:
        """The code the provider would append to `redirect_uri` after the user consents."""
        code = secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = (redirect_uri, self.now() + CODE_TTL_SECONDS)
        return code

    def revoke(self, refresh_token: str) -> None:
        """The user disconnects the app: the refresh token and its access tokens stop working."""
        with self.lock:
            self._refresh.discard(refresh_token)
            self._access = {k: v for k, v in self._access.items() if v.grant != refresh_token}

    def expire_access_tokens(self) -> None:
        """Every issued (not static) access token expires now."""
        with self.lock:
            now = self.now()
            self._access = {k: AccessToken(v.token, v.grant, now - 1)
                            if v.expires_at is not None else v for k, v in self._access.items()}

    def new_access_token(self) -> str:
        return secrets.token_urlsafe(32)

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(32)

    # -- knobs and log -----------------------------------------------------------------

    def fail_next(self, status: int, body: Any, headers: dict[str, str] | None = None,
                  count: int = 1, path: str | None = None) -> None:
        """The next `count` API requests answer `status`, `body` and `headers` instead.

        Without `path`, any request but the token endpoint's counts (a client's
        refresh should not eat an injected 429); with it, only requests whose
        decoded path starts with `path`, the token endpoint's included. Injected
        answers come before authentication, as a gateway's would."""
        with self.lock:
            self._failures.append(_Failure(status, body, dict(headers or {}), count, path))

    @property
    def requests(self) -> list[LoggedRequest]:
        with self.lock:
            return list(self._log)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests were logged with this method and this exact (decoded) path."""
        return sum(1 for r in self.requests
                   if (method is None or r.method == method) and (path is None or r.path == path))

    def clear_log(self) -> None:
        with self.lock:
            self._log.clear()

    # -- what subclasses provide -------------------------------------------------------

    def routes(self) -> list[Route]:
        return []

    def unauthorized(self, problem: str, token: AccessToken | None) -> Response:
        """401 for a missing, unknown or expired ("missing"/"unknown"/"expired") token."""
        return Response(401, {"error": "unauthorized", "problem": problem})

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": "not_found"})

    def bad_request(self, message: str) -> Response:
        return Response(400, {"error": "bad_request", "message": message})

    # What the token endpoint answers when something is wrong, by what is wrong;
    # RFC 6749's shape, which Salesforce and Google use (each with its own words).
    oauth_errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "client_id": (400, "invalid_client", "client identifier invalid"),
        "client_secret": (400, "invalid_client", "invalid client credentials"),
        "code": (400, "invalid_grant", "invalid or expired authorization code"),
        "redirect_uri": (400, "invalid_grant", "redirect_uri mismatch"),
        "refresh_token": (400, "invalid_grant", "expired or revoked refresh token"),
        "grant_type": (400, "unsupported_grant_type", "grant type not supported"),
    }

    def oauth_error(self, problem: str) -> Response:
        """The token endpoint's error for `problem` (a key of `oauth_errors`)."""
        status, error, description = self.oauth_errors[problem]
        return Response(status, {"error": error, "error_description": description})

    def token_body(self, access: AccessToken, refresh_token: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": access.token, "token_type": "Bearer",
                                "expires_in": int(self.token_ttl_seconds)}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return body

    def before_api(self, request: Request) -> Response | None:
        """Runs before an authenticated route (quotas); a response stops the request."""
        return None

    def after_api(self, request: Request, response: Response) -> None:
        """Runs after an authenticated route (usage headers)."""

    # -- OAuth -------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":  # RFC 6749 2.3.1: the client may authenticate so
            with contextlib.suppress(ValueError):
                decoded = base64.b64decode(encoded.strip()).decode()
                client_id, _, client_secret = (unquote(p) for p in decoded.partition(":"))
        if client_id != self.client_id:
            return self.oauth_error("client_id")
        if client_secret != self.client_secret:
            return self.oauth_error("client_secret")
        grant_type = form.get("grant_type")
        refresh: str | None = None
        if grant_type == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)
            if code is None or code[1] < self.now():
                return self.oauth_error("code")
            if form.get("redirect_uri") != code[0]:
                return self.oauth_error("redirect_uri")
            grant = refresh = self.issue_refresh_token()
        elif grant_type == "refresh_token":
            grant = form.get("refresh_token", "")
            if grant not in self._refresh:
                return self.oauth_error("refresh_token")
        else:
            return self.oauth_error("grant_type")
        access = AccessToken(self.new_access_token(), grant, self.now() + self.token_ttl_seconds)
        self._access[access.token] = access
        return Response(200, self.token_body(access, refresh),
                        {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate(self, request: Request) -> tuple[str | None, Response | None]:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, self.unauthorized("missing", None)
        token = self._access.get(value.strip())
        if token is None:
            return None, self.unauthorized("unknown", None)
        if token.expires_at is not None and token.expires_at <= self.now():
            return None, self.unauthorized("expired", token)
        return token.grant, None

    # -- dispatch ----------------------------------------------------------------------

    def _take_failure(self, path: str, is_api: bool) -> Response | None:
        for failure in self._failures:
            matches = path.startswith(failure.path) if failure.path is not None else is_api
            if matches:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return Response(failure.status, failure.body, dict(failure.headers))
        return None

    def dispatch(self, request: Request) -> Response:
        """Answer one request (under the lock): knobs, auth, quota, then the route."""
        with self.lock:
            path = unquote(request.path)
            found = self._match(request)
            is_api = found is None or found[0].auth
            response = self._take_failure(path, is_api)
            if response is None:
                response = self._answer(request, found)
            self._log.append(LoggedRequest(request.method, path, request.query,
                                           loggable(request), response.status))
            return response

    def _match(self, request: Request) -> tuple[Route, dict[str, str]] | None:
        for candidate in self._routes:
            matched = candidate.pattern.match(request.path)
            if matched and candidate.method == request.method:
                return candidate, {k: unquote(v) for k, v in matched.groupdict().items()}
        return None

    def _answer(self, request: Request, found: tuple[Route, dict[str, str]] | None) -> Response:
        if found is None:
            return self.not_found(request)
        target, params = found
        grant = None
        if target.auth:
            grant, refused = self._authenticate(request)
            if refused is not None:
                return refused
        request = Request(request.method, request.path, request.query, request.headers,
                          request.body, params, grant)
        refused = self.before_api(request) if target.auth else None
        if refused is not None:
            response = refused
        else:
            try:
                response = target.handler(request)
            except BadRequestError as error:
                response = self.bad_request(str(error))
            except Exception as error:  # a sandbox bug: say so loudly, keep serving
                self.errors.append(error)
                response = Response(500, {"error": "sandbox_error", "message": repr(error)})
        if target.auth:
            self.after_api(request, response)
        return response

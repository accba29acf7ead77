"""HTTP plumbing of the sandboxes: parsed requests, JSON responses, the server and its handler.

Kept apart from `common.Sandbox` (credentials, knobs, state) so that each
reads on its own; nothing here knows a provider.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class LoopbackServer(ThreadingHTTPServer):
    # A restart right after a stop must not be refused while old connections
    # sit in TIME_WAIT, and a client that never closes must not hold up stop().
    allow_reuse_address = True
    daemon_threads = True


class BadRequestError(ValueError):
    """The request body or a parameter cannot be read; the sandbox answers its 400 shape."""


@dataclass(frozen=True)
class Request:
    """One parsed request, as a route handler sees it."""

    method: str
    path: str  # still percent-encoded: a Sheets range may hold an encoded "/"
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # the route's groups, decoded
    grant: str | None = None  # who the bearer token speaks for (see AccessToken)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as error:
            raise BadRequestError(f"Invalid JSON: {error}") from error

    def form(self) -> dict[str, str]:
        pairs = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in pairs.items()}


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able; None sends no body; bytes go as they are (a consent page)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # decoded
    query: dict[str, list[str]]
    body: Any  # parsed JSON, a form dict, or the text; None when empty
    status: int


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True


def route(method: str, pattern: str, handler: Handler, *, auth: bool = True) -> Route:
    return Route(method, re.compile(pattern + r"/?\Z"), handler, auth)


def iso_z(ms: int) -> str:
    """2026-01-05T09:00:00.000Z, as HubSpot and Google write instants."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def correlation_id() -> str:
    return str(uuid.uuid4())


def loggable(request: Request) -> Any:
    if not request.body:
        return None
    kind = request.headers.get("Content-Type", "")
    if "json" in kind:
        try:
            return json.loads(request.body)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in kind:
        return request.form()
    return request.body.decode("utf-8", "replace")


def handler_for(dispatch: Callable[[Request], Response], name: str,
                content_type: str) -> type[BaseHTTPRequestHandler]:
    """A request handler class that answers every request with `dispatch`."""
    class SandboxHandler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections open, as the real APIs do; every response
        # below carries a Content-Length, so a client knows where one ends.
        protocol_version = "HTTP/1.1"
        server_version = f"{name}-sandbox"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            request = Request(self.command, parts.path,
                              parse_qs(parts.query, keep_blank_values=True), self.headers,
                              self._read_body())
            response = dispatch(request)
            raw = isinstance(response.body, bytes)  # its Content-Type is in its headers
            payload = (response.body if raw else b"" if response.body is None
                       else json.dumps(response.body).encode())
            self.send_response(response.status)
            if response.body is not None and not raw:
                self.send_header("Content-Type", content_type)
            for header, value in response.headers.items():
                self.send_header(header, value)
            if response.status not in (204, 304):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if response.status not in (204, 304):
                self.wfile.write(payload)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return None  # the sandbox keeps its own request log; stderr stays quiet

    return SandboxHandler

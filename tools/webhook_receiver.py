"""A webhook receiver on loopback for tests and the bench: records what it is sent.

It can answer 500 for the first `fail_first` requests, hang for `hang_seconds`
on the first `hang_first`, or redirect every request (`redirect_to`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Behaviour:
    fail_first: int = 0
    fail_always: bool = False
    hang_first: int = 0
    hang_seconds: float = 0.0
    redirect_to: str | None = None
    # Record only the time and the body (the bench: no header dicts for 10k requests).
    light: bool = False
    seen: int = field(default=0)


class WebhookReceiver:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle and the
            # client's delayed ACK hold every answer ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, extra = receiver._answer(self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="webhook-receiver")
        self._thread.start()
        return self.url

    def _answer(self, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, dict[str, str]]:
        b = self.behaviour
        with self._lock:
            b.seen += 1
            n = b.seen
            self.received.append(Received(path, {} if b.light else headers, body,
                                          time.time()))
        if n <= b.hang_first:
            time.sleep(b.hang_seconds)
        if b.redirect_to is not None:
            return 302, {"Location": b.redirect_to}
        if b.fail_always or n <= b.fail_first:
            return 500, {}
        return 200, {}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

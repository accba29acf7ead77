"""The local stack's API child: Chalice's local server, closer to API Gateway.

`python -m tools.localstack --serve-api` runs `serve_api`. Chalice's own
request handler is kept, with three changes:

- every method reaches the app: http.server answers a method it has no `do_X`
  for (TRACE, QUERY, ...) with an HTML 501, API Gateway answers it from the API;
- HEAD is answered as the GET of the same route would be, status and headers,
  without the body (chalice local would run a HEAD route, find none and send
  a 405 *with* a body, which desynchronises a keep-alive connection);
- the access log is masked: a request target's path and query string are
  decoded (`%40`, `+`) and passed through `mask_pii`, so a search for
  `victim%40example.com` or `415+555+0134` never lands in a terminal or a log
  file in clear.

Benches only: with `LEADPIPE_API_STATS_FILE` set, the API counts its own
DynamoDB requests and write units (tools/dynamo_meter.py) and writes the
counts to that file twice a second (tools/bench_events.py reads them). Unset,
nothing is installed.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, ThreadedHTTPServer

from chalicelib.domain.pii import mask_pii, mask_url
from tools.event_pump import quiet_aws_sdk_logs

# Anything in a log line that starts like a path: the request target of a
# request line, also inside http.server's "Bad request syntax ('GET /...')".
_TARGET = re.compile(r"/[^\s\"']*")


def mask_log_line(message: str) -> str:
    """An access-log line with every request target decoded and masked, and the rest masked."""
    parts, done = [], 0
    for target in _TARGET.finditer(message):
        parts += [mask_pii(message[done:target.start()]), mask_url(target.group(0))]
        done = target.end()
    return "".join([*parts, mask_pii(message[done:])])


class _Discard:
    """Stands in for the connection while a HEAD's body is being written."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None


class LeadpipeRequestHandler(ChaliceRequestHandler):
    """Chalice's local handler: every method, HEAD as GET without a body, a masked log."""

    _discard_body = False
    wfile: BinaryIO  # as socketserver's StreamRequestHandler sets it

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes the class lacks: every do_X goes to Chalice,
        # which answers an unknown method with 405 in the app's error shape.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def do_HEAD(self) -> None:
        # The app sees the GET (a HEAD route exists for no one); the status and
        # headers, Content-Length included, are the GET's; the body goes nowhere.
        connection = self.wfile
        self.command, self._discard_body = "GET", True
        try:
            self._generic_handle()
        finally:
            self.command, self._discard_body = "HEAD", False
            self.wfile = connection

    def end_headers(self) -> None:
        super().end_headers()  # sends the headers
        if self._discard_body:
            self.wfile = _Discard()  # type: ignore[assignment]  # write() and flush() suffice

    def log_message(self, format: str, *args: Any) -> None:
        # The base class escapes control characters (a decoded %0A cannot
        # forge a log line) after the masking.
        super().log_message("%s", mask_log_line(format % args))


def make_local_server(app: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
    """Chalice's threaded local server for `app`, with `LeadpipeRequestHandler`.

    As chalice's create_local_server: `app.current_request` becomes
    thread-local, so concurrent requests never see each other's. The server
    binds with SO_REUSEADDR (http.server's `allow_reuse_address`): a restart
    right after a stop is not refused while old connections sit in TIME_WAIT.
    """
    if not isinstance(app, LocalChalice):
        app.__class__ = type("LocalLeadpipe", (LocalChalice, app.__class__), {})
    return LocalDevServer(app, config, host, port, handler_cls=LeadpipeRequestHandler,
                          server_cls=ThreadedHTTPServer)


def meter_to_file(path: Path, *, every: float = 0.5) -> None:
    """Count this process's DynamoDB calls from now on and write the counts to
    `path` every `every` seconds (replaced whole: a reader never sees half)."""
    from tools import dynamo_meter  # noqa: PLC0415

    dynamo_meter.install()  # before any boto3 session: sessions copy the handlers
    partial = path.with_name(path.name + ".part")

    def loop() -> None:
        while True:
            time.sleep(every)
            partial.write_text(json.dumps(dynamo_meter.snapshot()))
            os.replace(partial, path)

    threading.Thread(target=loop, name="dynamo-meter", daemon=True).start()


def serve_api(host: str, port: int) -> int:
    """Serve app.py's Chalice app with chalice's local (multithreaded) server."""
    # chalice's own `chalice local` logs like this (handlers' output, no prefix).
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    quiet_aws_sdk_logs()
    stats_file = os.environ.get("LEADPIPE_API_STATS_FILE")
    if stats_file:
        meter_to_file(Path(stats_file))
    # Imported only here: app.py builds its services at import time from the
    # environment the stack set.
    app = importlib.import_module("app").app
    config = Config.create(
        chalice_stage=os.environ.get("LEADPIPE_STAGE", "local"),
        app_name=app.app_name,
        # Chalice's deployed defaults, so LambdaContext timing matches AWS.
        lambda_timeout=60,
        lambda_memory_size=128,
    )
    server = make_local_server(app, config, host, port)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        # shutdown() blocks until serve_forever returns, so not on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server.serve_forever()
    server.server.server_close()
    return 0

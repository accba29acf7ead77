"""The whole of leadpipe on one machine, no AWS account: `make run`.

    embedded AWS (moto: DynamoDB, S3, SQS)     127.0.0.1:$LEADPIPE_AWS_PORT (4566)
    API          (chalice local dev server)    127.0.0.1:$LEADPIPE_PORT     (8000)
    event pump   (plays Lambda for SQS/schedules, tools/event_pump.py)

Each runs as a child process. Ctrl-C or SIGTERM stops them all (exit 0); if one
dies on its own, the rest are stopped and the exit status is 1.

Environment: LEADPIPE_PORT, LEADPIPE_AWS_PORT, LEADPIPE_TOKEN (token of the
`default` workspace; generated and printed when unset). moto keeps everything
in memory, so each run starts empty.

`python -m tools.localstack --serve-api` is the API child itself.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import quote

import boto3

from chalicelib.config import get_settings
from tools.event_pump import quiet_aws_sdk_logs
from tools.local_sandboxes import BANNER as SANDBOX_BANNER
from tools.local_sandboxes import start_sandboxes
from tools.provision import provision

log = logging.getLogger("tools.localstack")

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / ".local"  # git-ignored
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0
# How clients authenticate, for the printed example. Keep in step with app.py.
AUTH_HEADER = "Authorization: Bearer"
EXAMPLE_PATH = "/lists"


class StackError(Exception):
    """Startup or runtime failure worth a one-line message and exit status 1."""


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived while starting up."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve-api", action="store_true",
                        help="internal: run only the API server (the stack's API child)")
    args = parser.parse_args(argv)
    api_port = _port("LEADPIPE_PORT", 8000)
    if args.serve_api:
        # The API child only: chalice.local is a dev-server dependency.
        from tools.local_api import serve_api  # noqa: PLC0415

        return serve_api(HOST, api_port)
    return run_stack(api_port=api_port, aws_port=_port("LEADPIPE_AWS_PORT", 4566),
                     token=os.environ.get("LEADPIPE_TOKEN") or None)


# -- the stack -------------------------------------------------------------------


def run_stack(*, api_port: int, aws_port: int, token: str | None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [stack] %(message)s")
    quiet_aws_sdk_logs()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del frame
        if not stop.is_set():
            print(f"\nsignal {signum}: stopping the local stack...", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = _Children(stop)
    try:
        token = _start(children, api_port=api_port, aws_port=aws_port, token=token)
        if os.environ.get("LEADPIPE_DEMO", "1") != "0":
            _import_demo(api_port, token)
        _print_banner(api_port=api_port, aws_port=aws_port, token=token)
        children.watch()  # returns on a signal, raises if a child dies
        return 0
    except Interrupted:
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception:
        log.exception("the local stack failed")
        return 1
    finally:
        children.stop_all()


def _start(children: _Children, *, api_port: int, aws_port: int, token: str | None) -> str:
    for name, port, variable in (("API", api_port, "LEADPIPE_PORT"),
                                 ("embedded AWS", aws_port, "LEADPIPE_AWS_PORT")):
        if not _port_is_free(port):
            raise StackError(f"port {port} ({name}) is already in use; set {variable} "
                             "to another port or stop what is using it")
    aws_url = f"http://{HOST}:{aws_port}"
    # Set in our own environment before anything reads settings or creates a
    # boto3 client, so this process and every child talk to moto, never to AWS.
    os.environ.update({
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LEADPIPE_STAGE": "local",
        "LEADPIPE_PORT": str(api_port),
        # The workers' DynamoDB client skips botocore's request validation here
        # (the embedded AWS validates; chalicelib/config.py says why).
        "LEADPIPE_BOTO_PARAM_VALIDATION": os.environ.get("LEADPIPE_BOTO_PARAM_VALIDATION", "0"),
        "PYTHONUNBUFFERED": "1",  # children's logs appear as they happen
    })
    # CloudWatch reads metrics (EMF) from the log stream; a terminal would only
    # scroll with them. LEADPIPE_METRICS=1 prints them.
    if os.environ.get("LEADPIPE_METRICS") != "1":
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):  # would override the fake keys
        os.environ.pop(variable, None)
    get_settings.cache_clear()

    LOG_DIR.mkdir(exist_ok=True)
    moto_log = LOG_DIR / "moto-server.log"
    # The embedded AWS logs its errors (4xx/5xx; every request with
    # LEADPIPE_AWS_REQUEST_LOG=1, and the pump long-polls every second): to a file.
    children.start("embedded AWS (moto)",
                   [sys.executable, "-m", "tools.embedded_aws", "--host", HOST,
                    "--port", str(aws_port)],
                   log_file=moto_log)
    _wait_for(children, "embedded AWS", lambda: _http_status(HOST, aws_port, "/") is not None,
              hint=f"see {moto_log}")

    settings = get_settings()
    provision(settings,
              dynamodb_client=boto3.client("dynamodb", endpoint_url=aws_url),
              s3_client=boto3.client("s3", endpoint_url=aws_url),
              sqs_client=boto3.client("sqs", endpoint_url=aws_url),
              kms_client=boto3.client("kms", endpoint_url=aws_url))
    log.info("provisioned table %s, bucket %s, queues and key", settings.table_name,
             settings.bucket_name)
    token = _register_token(token)

    _start_dns(children)
    try:
        start_sandboxes(lambda name, command: children.start(
            name, command, log_file=LOG_DIR / "sandboxes.log"), _port_is_free)
    except RuntimeError as exc:
        raise StackError(str(exc)) from None
    children.start("API", [sys.executable, "-m", "tools.localstack", "--serve-api"])
    children.start("event pump", [sys.executable, "-m", "tools.event_pump"])
    _wait_for(children, "API", lambda: _http_status(HOST, api_port, "/health") == 200,
              hint="see the API's output above")
    return token


# Its own file a stack: two stacks at once (the test session's) must not count
# each other's look-ups.
DNS_STATS = Path(os.environ.get("LEADPIPE_DNS_STATS", str(LOG_DIR / "dns-stats.json")))


def _start_dns(children: _Children) -> None:
    """A DNS server for email verification: there is no internet at run time.

    It serves the sample files' domains (tools/sample_data.py) and refuses
    other names (their emails end `unknown`); LEADPIPE_DNS_NAMESERVERS set
    (e.g. to `system`) uses real DNS instead.
    """
    if os.environ.get("LEADPIPE_DNS_NAMESERVERS"):
        return
    port = _port("LEADPIPE_DNS_PORT", 5353)
    if not _port_is_free(port):
        raise StackError(f"port {port} (DNS) is already in use; set LEADPIPE_DNS_PORT "
                         "to another port")
    DNS_STATS.unlink(missing_ok=True)
    children.start("DNS (sample zone)",
                   [sys.executable, "-m", "tools.dns_server", "--port", str(port),
                    "--stats-file", str(DNS_STATS)])
    _wait_for(children, "DNS", DNS_STATS.exists, hint="see the DNS server's output above")
    os.environ["LEADPIPE_DNS_NAMESERVERS"] = f"{HOST}:{port}"


def _register_token(token: str | None) -> str:
    # Imported here, after the environment points at moto: bootstrap wires
    # real adapters (boto3 clients, settings) and may do so at import time.
    from chalicelib.bootstrap import build_services  # noqa: PLC0415

    services = build_services(get_settings())
    if token:
        services.auth.register_token("default", token)  # idempotent; stores a hash
        return token
    return str(services.auth.create_token("default"))


DEMO_FILE = ROOT / "samples" / "demo-leads.csv"


def _import_demo(api_port: int, token: str) -> None:
    """Import the bundled sample into "Demo leads", as a newcomer would, via the API.

    The embedded AWS starts empty every time, so every start is a first start.
    A failure here is reported and the stack keeps running.
    """
    from tools.api_client import ApiError, LeadpipeApi  # noqa: PLC0415

    api = LeadpipeApi(f"http://{HOST}:{api_port}", token)
    try:
        lst = api.call("POST", "/lists", json={"name": "Demo leads"})
        job = api.call("POST", f"/lists/{lst['id']}/imports",
                       json={"filename": DEMO_FILE.name, "auto_start": True})
        api.upload(job["upload"], DEMO_FILE)
        job = api.wait_import(job["id"], {"completed", "completed_with_errors", "failed"},
                              timeout=60)
        counts = job["counts"]
        print(f"demo: imported {DEMO_FILE.name} into list \"Demo leads\" ({lst['id']}): "
              f"{job['status']}, {counts['saved']} saved, {counts['duplicates']} duplicates, "
              f"{counts['invalid']} invalid; error report: GET /imports/{job['id']}/errors",
              flush=True)
    except (ApiError, OSError) as exc:
        print(f"demo import skipped: {exc}", flush=True)


def sign_in_link(api_url: str, token: str) -> str:
    """The web app, signed in: browsers keep a URL's fragment to themselves."""
    return f"{api_url}/app/#token={quote(token, safe='')}"


def _print_banner(*, api_port: int, aws_port: int, token: str) -> None:
    api_url = f"http://{HOST}:{api_port}"
    generated = "" if os.environ.get("LEADPIPE_TOKEN") else (
        "\n                (generated; export LEADPIPE_TOKEN=... to choose your own)")
    print(
        f"""
leadpipe local stack is up
  web app       {sign_in_link(api_url, token)}
                (opens signed in; the token is in the fragment, never sent to the server)
  API           {api_url}
  embedded AWS  http://{HOST}:{aws_port}   (moto; log in {LOG_DIR / 'moto-server.log'})
  DNS           {os.environ.get("LEADPIPE_DNS_NAMESERVERS")}   (email checks; {DNS_STATS.name})
  token         {token}   (workspace "default"){generated}

try:
  curl {api_url}/health
  curl -H "{AUTH_HEADER} {token}" {api_url}{EXAMPLE_PATH}

Ctrl-C stops everything.
""" + ("" if os.environ.get("LEADPIPE_SANDBOXES") == "0" else SANDBOX_BANNER),
        flush=True,
    )


class _Children:
    """The child processes, started in order and stopped in reverse order."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes] | None]] = []

    def start(self, name: str, command: list[str], *, log_file: Path | None = None) -> None:
        output = log_file.open("wb") if log_file else None
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            # Own session: a terminal Ctrl-C reaches only us, and we stop the
            # children in order (pump before API before moto), without races
            # between their deaths and our "a child died" check.
            start_new_session=True,
        )
        log.info("started %s (pid %d)", name, process.pid)
        self._procs.append((name, process, output))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Raise StackError if a child has exited (they are all meant to run forever)."""
        for name, process, _ in self._procs:
            code = process.poll()
            if code is not None and not self._stop.is_set():
                raise StackError(f"{name} exited unexpectedly (status {code}); "
                                 "stopping the local stack")

    def watch(self) -> None:
        while not self._stop.wait(0.5):
            self.check()

    def stop_all(self) -> None:
        for name, process, output in reversed(self._procs):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %.0fs; killing it", name, STOP_GRACE_SECONDS)
                    process.kill()
                    process.wait()
            if output is not None:
                output.close()
        self._procs.clear()


def _wait_for(children: _Children, name: str, ready: Callable[[], bool], *, hint: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not ready():
        if children.stopping:
            raise Interrupted
        children.check()
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not become ready within "
                             f"{STARTUP_TIMEOUT_SECONDS:.0f}s ({hint})")
        time.sleep(0.2)


def _http_status(host: str, port: int, path: str) -> int | None:
    """Status of a GET, or None if nothing answers yet."""
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind (allow_reuse_address): connections of a stack
        # stopped a moment ago, in TIME_WAIT, do not make the port "in use";
        # a listening socket still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"error: {variable}={raw!r} is not a port number") from None


if __name__ == "__main__":
    sys.exit(main())

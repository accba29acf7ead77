"""`python -m tools.event_pump`: pump for `app.py`'s app against the embedded AWS.

The pump itself is tools/event_pump.py; this is its process: logging, the
optional DynamoDB meter for `make bench`, the SQS client and the signals.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import boto3
from botocore.config import Config

from tools.event_pump import EventPump, log, quiet_aws_sdk_logs


def _write_stats_until(stop: threading.Event, path: str) -> None:
    """Dump the DynamoDB meter to `path` every second (for `make bench`)."""
    from tools import dynamo_meter  # noqa: PLC0415

    def loop() -> None:
        while not stop.wait(1.0):
            Path(path).write_text(json.dumps(dynamo_meter.snapshot()))

    threading.Thread(target=loop, name="stats", daemon=True).start()


def main() -> int:
    """Pump for `app.py`'s `app` against AWS_ENDPOINT_URL until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s [events] %(name)s: %(message)s"
    )
    quiet_aws_sdk_logs()
    stats_file = os.environ.get("LEADPIPE_STATS_FILE")
    if stats_file:
        # Before any boto3/botocore session exists: sessions copy the
        # built-in handlers when they are created.
        from tools import dynamo_meter  # noqa: PLC0415

        dynamo_meter.install()
    app = importlib.import_module("app").app
    sqs = boto3.client(
        "sqs",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        # One client for every poller thread (queues x concurrency): a pool
        # smaller than that drops connections and logs each time.
        config=Config(max_pool_connections=64),
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("event pump: signal %d received, stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if stats_file:
        _write_stats_until(stop, stats_file)
    # Pollers per queue: Lambda runs many invocations at once; here two keep
    # the worker busy while the embedded AWS answers the other.
    concurrency = int(os.environ.get("LEADPIPE_PUMP_CONCURRENCY", "2"))
    EventPump(app, sqs).run_forever(stop, concurrency=concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())

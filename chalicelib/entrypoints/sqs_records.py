"""One SQS message at a time, failures reported per message (ReportBatchItemFailures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from chalicelib.adapters.sqs_heartbeat import SqsHeartbeat
from chalicelib.adapters.telemetry import logger
from chalicelib.config import get_settings
from chalicelib.domain.errors import DropMessage, NotFound


@lru_cache(maxsize=1)
def heartbeat() -> SqsHeartbeat:
    settings = get_settings()
    return SqsHeartbeat(settings.region, settings.message_lease_seconds)


def each_record(records: list[dict[str, Any]],
                handle: Callable[[dict[str, Any]], None], *,
                pool: ThreadPoolExecutor | None = None) -> dict[str, Any]:
    """Run `handle` on each message body; only failed messages are redelivered.

    Dropped, with a log line: a body that is not a JSON object, and whatever
    raises DropMessage or NotFound (malformed for its queue, its list or
    import deleted): these can never succeed. Everything else (a bug, a
    throttle, a timeout) is retried and, if it keeps failing, reaches the
    queue's DLQ handler, which settles what it was for. Logs carry no lead data.
    While this runs, the batch's messages are held on a short, renewed lease
    (adapters/sqs_heartbeat.py); a failed one is let go with a back-off.
    """
    with heartbeat().hold(records) as lease:
        if pool is None or len(records) <= 1:
            failures = _each(records, handle, lease.failed)
        else:  # independent messages handled side by side (webhook deliveries)
            futures = [pool.submit(_each, [r], handle, lease.failed) for r in records]
            failures = [f for future in futures for f in future.result()]
    flush_metrics()
    return {"batchItemFailures": failures}


def _each(records: list[dict[str, Any]], handle: Callable[[dict[str, Any]], None],
          release: Callable[[str], None]) -> list[dict[str, str]]:
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"])
        except ValueError:
            logger.warning("dropping message %s: its body is not JSON", message_id)
            continue
        if not isinstance(body, dict):
            logger.warning("dropping message %s: its body is not an object", message_id)
            continue
        try:
            handle(body)
        except (DropMessage, NotFound) as exc:
            logger.warning("dropping message %s: %s (%s)", message_id, exc.message, exc.code)
        except Exception:
            logger.exception("message %s failed; it will be retried", message_id)
            failures.append({"itemIdentifier": message_id})
            release(message_id)
    return failures


def flush_metrics() -> None:
    # Imported here: the services (and their metrics) are built on first use.
    from chalicelib.bootstrap import services  # noqa: PLC0415

    services().metrics.flush()

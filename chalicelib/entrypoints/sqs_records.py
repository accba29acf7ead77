"""One SQS message at a time, failures reported per message (ReportBatchItemFailures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.adapters.telemetry import logger
from chalicelib.domain.errors import LeadpipeError


def each_record(records: list[dict[str, Any]],
                handle: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Run `handle` on each message body; only failed messages are redelivered.

    A message that can never succeed (bad JSON, unknown job, object gone) is
    dropped with a log line, not retried into the DLQ; logs carry no lead data.
    """
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"])
            if not isinstance(body, dict):
                raise ValueError("message body is not an object")
            handle(body)
        except (ValueError, KeyError, TypeError, LeadpipeError):
            logger.exception("dropping message %s", message_id)
        except Exception:
            logger.exception("message %s failed; it will be retried", message_id)
            failures.append({"itemIdentifier": message_id})
    flush_metrics()
    return {"batchItemFailures": failures}


def flush_metrics() -> None:
    # Imported here: the services (and their metrics) are built on first use.
    from chalicelib.bootstrap import services  # noqa: PLC0415

    services().metrics.flush()

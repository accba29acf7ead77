"""SQS handlers of email verification: batches of leads, list walks, and the DLQ."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import each_record

# A list walk hands its rest on well inside the function's 120 s timeout.
LIST_WALK_SECONDS = 60.0


def on_verify_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    deadline = time.monotonic() + LIST_WALK_SECONDS
    return each_record(records,
                       lambda body: services().verification.handle(body, deadline=deadline))


def on_verify_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().verification.give_up)

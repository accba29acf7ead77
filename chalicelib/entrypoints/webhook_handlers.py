"""SQS handlers of webhook deliveries: the `webhooks` queue and its DLQ."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import each_record

# A batch's deliveries go out side by side: ten receivers that each take the
# full 10 s cost the batch 10 s, not 100 s (the handler's timeout is 60 s).
_pool = ThreadPoolExecutor(max_workers=10, thread_name_prefix="webhook")


def on_webhook_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    worker = services().webhook_delivery
    # The batch's endpoints and delivery states in one read; a failure here
    # only means each message reads its own.
    prefetched = None
    with contextlib.suppress(Exception):
        prefetched = worker.prefetch([json.loads(r["body"]) for r in records])
    return each_record(records, lambda body: worker.handle(body, prefetched), pool=_pool)


def on_webhook_dlq_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().webhook_delivery.give_up)

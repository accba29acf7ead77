"""Counts DynamoDB requests and write units at the client (botocore hook).

On AWS, requests and write units decide an import's throughput and cost, not
the embedded AWS's speed; the bench reads these from the worker process.
Write units follow DynamoDB's rules: 1 per started KB of each item written,
2 inside TransactWriteItems; the item size is estimated from its JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

_lock = threading.Lock()
requests: Counter[str] = Counter()
seconds: Counter[str] = Counter()
write_units = [0.0]


def _size_units(item: dict[str, Any]) -> int:
    return max(1, -(-len(json.dumps(item)) // 1024))


def _units(operation: str, params: dict[str, Any]) -> float:
    if operation == "PutItem":
        return _size_units(params["Item"])
    if operation in ("UpdateItem", "DeleteItem"):
        return 1
    if operation == "BatchWriteItem":
        return sum(_size_units(r["PutRequest"]["Item"]) if "PutRequest" in r else 1
                   for items in params["RequestItems"].values() for r in items)
    if operation == "TransactWriteItems":
        return sum(2 * (_size_units(op["Item"]) if "Item" in op else 1)
                   for item in params["TransactItems"] for op in item.values())
    return 0


def _count(model: Any, params: dict[str, Any], **_: Any) -> None:
    with _lock:
        requests[model.name] += 1
        write_units[0] += _units(model.name, params)


def _start(context: dict[str, Any], **_: Any) -> None:
    context["leadpipe_started"] = time.perf_counter()


def _finish(model: Any, context: dict[str, Any], **_: Any) -> None:
    started = context.get("leadpipe_started")
    if started is not None:
        with _lock:
            seconds[model.name] += time.perf_counter() - started


def install() -> None:
    """Count every DynamoDB call of clients created after this (boto3 and pynamodb)."""
    from botocore import handlers  # noqa: PLC0415

    handlers.BUILTIN_HANDLERS.extend([
        ("provide-client-params.dynamodb.*", _count),
        # wall time of each call at the client, retries included
        ("before-call.dynamodb.*", _start),
        ("after-call.dynamodb.*", _finish),
    ])


def snapshot() -> dict[str, Any]:
    with _lock:
        return {"requests": dict(requests), "seconds": dict(seconds),
                "write_units": write_units[0]}

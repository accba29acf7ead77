"""The events AWS Lambda hands a function, shaped as AWS shapes them (tools/event_pump.py).

An SQS record (camelCase keys, base64 binary attributes), an EventBridge
scheduled event, and Lambda's ReportBatchItemFailures rules for what a
handler's answer means.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

FAKE_ACCOUNT_ID = "123456789012"  # moto's default account


def sqs_record(message: dict[str, Any], queue_arn: str | None, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, with the keys and casing AWS uses."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def scheduled_event(rule: str, region: str, scheduled_for: datetime) -> dict[str, Any]:
    """What EventBridge sends a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": FAKE_ACCOUNT_ID,
        "time": scheduled_for.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{FAKE_ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute → the camelCase shape Lambda puts in SQS records.

    Binary values are base64 text in Lambda events (JSON has no bytes)."""
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [_b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = _b64(value["BinaryValue"])
    return converted


def _b64(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.b64encode(data).decode("ascii")


def batch_item_failures(result: object, batch_ids: set[str]) -> set[str] | None:
    """Ids to keep per Lambda's ReportBatchItemFailures rules; None = invalid.

    Success: None, {}, no/None/empty batchItemFailures. Invalid (whole batch
    fails): an item without a non-empty itemIdentifier from this batch."""
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        ids.add(identifier)
    return ids

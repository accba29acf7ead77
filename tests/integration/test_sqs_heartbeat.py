"""Handlers hold their SQS messages on a short lease renewed while they run (moto SQS).

The queue here keeps the long visibility AWS advises (30 s standing in for
720 s); the lease is 2 s. A live handler keeps its message far past the lease,
a handler that dies loses it within one lease, a failed message comes back
after its back-off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.entrypoints import sqs_records
from chalicelib.entrypoints.sqs_records import each_record

LEASE = 2


class WorkerKilled(BaseException):
    """What the runtime does to a worker out of memory or time: nothing is caught."""


@pytest.fixture
def queue(request: pytest.FixtureRequest, aws: None,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A queue with the long visibility AWS advises, or the one given by `visibility`."""
    from chalicelib.adapters.sqs_heartbeat import SqsHeartbeat

    visibility = getattr(request, "param", 30)
    monkeypatch.setattr(sqs_records, "heartbeat",
                        lambda: SqsHeartbeat(get_settings().region, LEASE))
    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.create_queue(QueueName=f"heartbeat-{time.monotonic_ns()}",
                           Attributes={"VisibilityTimeout": str(visibility)})["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def receive_as_lambda(sqs: Any, url: str) -> dict[str, Any]:
    """One message as Lambda's poller hands it over (receipt handle, ARN, receive count)."""
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    message = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": message["Attributes"],
            "eventSourceARN": arn["Attributes"]["QueueArn"]}


def visible(sqs: Any, url: str) -> bool:
    got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])
    return bool(got)


# A queue whose own visibility is one lease: only renewals keep the message held.
@pytest.mark.parametrize("queue", [LEASE], indirect=True)
def test_a_live_handler_keeps_its_message_past_the_lease(queue):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 1}')
    record = receive_as_lambda(sqs, url)
    seen: list[bool] = []

    def slow(body: dict[str, Any]) -> None:
        # Twice the lease: without renewals another worker would get the message
        for _ in range(8):
            time.sleep(LEASE / 4)
            seen.append(visible(sqs, url))

    assert each_record([record], slow) == {"batchItemFailures": []}
    assert seen and not any(seen)


def test_a_handler_that_dies_loses_its_message_within_one_lease(queue):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 2}')
    record = receive_as_lambda(sqs, url)

    def dies(body: dict[str, Any]) -> None:
        raise WorkerKilled

    started = time.monotonic()
    with pytest.raises(WorkerKilled):
        each_record([record], dies)
    # Not the queue's 30 s: the lease it held when it died
    while not visible(sqs, url):
        assert time.monotonic() - started < 3 * LEASE, "still held after the lease"
        time.sleep(0.2)


def test_a_failed_message_comes_back_after_its_back_off(queue):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 3}')
    first = receive_as_lambda(sqs, url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["receiptHandle"],
                                  VisibilityTimeout=0)
    record = receive_as_lambda(sqs, url)  # its second receive: back-off of 2 leases
    assert record["attributes"]["ApproximateReceiveCount"] == "2"

    def fails(body: dict[str, Any]) -> None:
        raise RuntimeError("a throttle")

    failed_at = time.monotonic()
    assert each_record([record], fails) == \
        {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    time.sleep(LEASE * 1.25)
    assert not visible(sqs, url)  # one lease later it is still backing off
    while not visible(sqs, url):
        assert time.monotonic() - failed_at < 4 * LEASE
        time.sleep(0.2)


def test_records_without_receipt_handles_are_handled_as_before(queue):
    done = threading.Event()
    result = each_record([{"messageId": "m", "body": "{}"}], lambda body: done.set())
    assert result == {"batchItemFailures": []} and done.is_set()

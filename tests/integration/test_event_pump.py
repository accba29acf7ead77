"""tools.event_pump plays Lambda for a tiny Chalice app, against moto.

Most tests use in-process moto (`mock_aws`); the last one goes over HTTP to a
real moto server, as `make run` does.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
from chalice.app import Chalice, CloudWatchEvent, Rate, SQSEvent
from moto import mock_aws
from moto.server import ThreadedMotoServer

from tools.event_pump import EventPump, parse_schedule

QUEUE = "pump-test-jobs"
DLQ = "pump-test-jobs-dlq"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Never reach real AWS, whatever the developer's shell holds.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs")


def make_queue(sqs: Any, *, visibility_timeout: int = 1, max_receive_count: int = 3) -> str:
    """The queue under test and its DLQ, shaped like tools.provision makes them."""
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    return str(
        sqs.create_queue(
            QueueName=QUEUE,
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
    )


def message_counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def bodies_in(sqs: Any, queue_name: str) -> list[str]:
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in messages]


# -- SQS --------------------------------------------------------------------------


def test_message_is_delivered_as_a_lambda_record_and_deleted_on_success(sqs):
    # GIVEN an app with an SQS handler and one message with attributes in its queue
    url = make_queue(sqs)
    app = Chalice(app_name="pumptest")
    seen: list[tuple[dict[str, Any], Any]] = []

    @app.on_sqs_message(queue=QUEUE, batch_size=5)
    def on_job(event: SQSEvent) -> None:
        seen.append((event.to_dict(), event.context))

    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"job": "purge"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "purge"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    pump = EventPump(app, sqs, wait_seconds=0)

    # WHEN the pump polls once
    handled = pump.poll_once()

    # THEN the handler got one Lambda SQS record, shaped as AWS sends it
    assert handled == 1
    assert len(seen) == 1
    event, context = seen[0]
    [record] = event["Records"]
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion",
    }
    assert record["body"] == '{"job": "purge"}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{QUEUE}")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "purge", "stringListValues": [], "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    # AND a Lambda-like context
    assert context.aws_request_id
    assert context.function_name == "pumptest-on_job"
    assert 0 < context.get_remaining_time_in_millis() <= 60_000
    # AND the message is gone from the queue
    assert message_counts(sqs, url) == (0, 0)


def test_batch_item_failures_keep_only_the_failed_message(sqs):
    # GIVEN a handler that reports the "bad" message of a batch of two as failed
    url = make_queue(sqs, visibility_timeout=1)
    app = Chalice(app_name="pumptest")
    deliveries: list[tuple[str, str]] = []

    @app.on_sqs_message(queue=QUEUE, batch_size=10)
    def on_job(event: SQSEvent) -> dict[str, Any]:
        failures = []
        for record in event:
            raw = record.to_dict()
            deliveries.append((record.body, raw["attributes"]["ApproximateReceiveCount"]))
            if record.body == "bad":
                failures.append({"itemIdentifier": raw["messageId"]})
        return {"batchItemFailures": failures}

    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    pump = EventPump(app, sqs, wait_seconds=0)

    # WHEN the batch is handled
    assert pump.poll_once() == 2

    # THEN the good message is deleted and the bad one is in flight, not visible
    assert sorted(body for body, _ in deliveries) == ["bad", "good"]
    assert message_counts(sqs, url) == (0, 1)
    assert pump.poll_once() == 0
    # AND after the visibility timeout only the bad one comes back
    time.sleep(1.2)
    deliveries.clear()
    assert pump.poll_once() == 1
    assert deliveries == [("bad", "2")]


def test_invalid_batch_item_failures_fail_the_whole_batch(sqs):
    # GIVEN a handler reporting an id that is not in its batch
    url = make_queue(sqs)
    app = Chalice(app_name="pumptest")

    @app.on_sqs_message(queue=QUEUE, batch_size=10)
    def on_job(event: SQSEvent) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}

    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")

    # WHEN the pump polls
    EventPump(app, sqs, wait_seconds=0).poll_once()

    # THEN, as in Lambda, nothing is deleted
    assert message_counts(sqs, url) == (0, 2)


def test_always_failing_handler_sends_the_message_to_the_dlq(sqs, caplog):
    # GIVEN a handler that always raises, on a queue redriving after 2 receives
    url = make_queue(sqs, visibility_timeout=1, max_receive_count=2)
    app = Chalice(app_name="pumptest")
    calls: list[str] = []

    @app.on_sqs_message(queue=QUEUE)
    def on_job(event: SQSEvent) -> None:
        calls.extend(record.body for record in event)
        raise RuntimeError("boom")

    sqs.send_message(QueueUrl=url, MessageBody="doomed")
    pump = EventPump(app, sqs, wait_seconds=0)

    # WHEN the pump keeps polling past the visibility timeouts
    with caplog.at_level(logging.ERROR, logger="tools.event_pump"):
        handled = [pump.poll_once()]
        for _ in range(2):
            time.sleep(1.2)
            handled.append(pump.poll_once())

    # THEN the handler ran max_receive_count times and the pump survived each failure
    assert handled == [1, 1, 0]
    assert calls == ["doomed", "doomed"]
    assert "boom" in caplog.text
    # AND the message now sits in the DLQ, not in the main queue
    assert message_counts(sqs, url) == (0, 0)
    assert bodies_in(sqs, DLQ) == ["doomed"]


def test_drain_handles_messages_enqueued_by_handlers(sqs):
    # GIVEN a handler that enqueues a follow-up message twice (a job chain)
    url = make_queue(sqs)
    app = Chalice(app_name="pumptest")
    steps: list[int] = []

    @app.on_sqs_message(queue=QUEUE)
    def on_job(event: SQSEvent) -> None:
        for record in event:
            step = int(record.body)
            steps.append(step)
            if step < 3:
                sqs.send_message(QueueUrl=url, MessageBody=str(step + 1))

    sqs.send_message(QueueUrl=url, MessageBody="1")

    # WHEN the pump drains
    handled = EventPump(app, sqs, wait_seconds=0).drain()

    # THEN the whole chain ran and the queue is empty
    assert handled == 3
    assert steps == [1, 2, 3]
    assert message_counts(sqs, url) == (0, 0)


def test_missing_queue_is_logged_not_fatal(sqs, caplog):
    # GIVEN a handler whose queue was never created
    app = Chalice(app_name="pumptest")

    @app.on_sqs_message(queue="no-such-queue")
    def on_job(event: SQSEvent) -> None:
        raise AssertionError("never called")

    pump = EventPump(app, sqs, wait_seconds=0)

    # WHEN the pump polls and drains THEN nothing happens, and it says why
    with caplog.at_level(logging.WARNING, logger="tools.event_pump"):
        assert pump.poll_once() == 0
        assert pump.drain() == 0
    assert "no-such-queue" in caplog.text


# -- schedules ----------------------------------------------------------------------


def test_rate_schedule_fires_when_due_and_not_before(sqs):
    # GIVEN an app with a rate(1 minute) schedule and a pump on a fake clock
    app = Chalice(app_name="pumptest")
    events: list[dict[str, Any]] = []

    @app.schedule("rate(1 minute)")
    def every_minute(event: CloudWatchEvent) -> None:
        events.append(event.to_dict())

    clock = FakeClock(1000.0)
    pump = EventPump(app, sqs, wait_seconds=0, clock=clock)

    # WHEN time passes THEN it first fires one interval after start
    assert pump.fire_due_schedules(1000.0 + 59.9) == 0
    assert pump.fire_due_schedules(1000.0 + 60.0) == 1
    assert pump.fire_due_schedules(1000.0 + 61.0) == 0
    assert pump.fire_due_schedules(1000.0 + 120.0) == 1
    # AND missed ticks are not replayed: one firing, then back on the grid
    assert pump.fire_due_schedules(1000.0 + 600.5) == 1
    assert pump.fire_due_schedules(1000.0 + 659.0) == 0
    assert pump.fire_due_schedules(1000.0 + 660.0) == 1
    # AND the handler got EventBridge's scheduled-event shape
    assert len(events) == 4
    event = events[0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"][0].endswith(":rule/every_minute")


def test_cron_and_rate_objects_schedule_on_the_wall_clock(sqs, caplog):
    # GIVEN a quarter-hour cron, a Rate object and an unsupported cron, started at 00:07:30 UTC
    app = Chalice(app_name="pumptest")
    fired: list[tuple[str, str]] = []

    @app.schedule("cron(0/15 * * * ? *)")
    def quarterly(event: CloudWatchEvent) -> None:
        fired.append(("quarterly", event.time))

    @app.schedule(Rate(2, unit=Rate.HOURS))
    def two_hourly(event: CloudWatchEvent) -> None:
        fired.append(("two_hourly", event.time))

    @app.schedule("cron(0 12 L * ? *)")
    def last_day(event: CloudWatchEvent) -> None:
        fired.append(("last_day", event.time))

    start = datetime(2024, 1, 1, 0, 7, 30, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, logger="tools.event_pump"):
        pump = EventPump(app, sqs, wait_seconds=0, clock=FakeClock(0.0), wall_clock=lambda: start)

    # WHEN the clock reaches 00:15 and then 02:07:30
    first = pump.fire_due_schedules(7.5 * 60)
    later = pump.fire_due_schedules(2 * 3600.0)

    # THEN the cron fired at its minute, the rate after two hours, the `L` one never
    assert first == 1
    assert later == 2
    assert fired == [
        ("quarterly", "2024-01-01T00:15:00Z"),
        ("quarterly", "2024-01-01T02:00:00Z"),
        ("two_hourly", "2024-01-01T02:07:30Z"),
    ]
    assert "last_day" in caplog.text


def test_parse_schedule_handles_eventbridge_forms():
    # GIVEN expressions as Chalice/EventBridge write them
    t = datetime(2024, 3, 29, 10, 30, tzinfo=UTC)  # a Friday

    # WHEN/THEN each gives the next tick strictly after t
    assert parse_schedule("rate(5 minutes)")(t) == datetime(2024, 3, 29, 10, 35, tzinfo=UTC)
    assert parse_schedule("rate(1 day)")(t) == datetime(2024, 3, 30, 10, 30, tzinfo=UTC)
    assert parse_schedule("cron(0 9 ? * MON-FRI *)")(t) == datetime(
        2024, 4, 1, 9, 0, tzinfo=UTC
    )
    assert parse_schedule("cron(30 10 1 JAN,JUL ? *)")(t) == datetime(
        2024, 7, 1, 10, 30, tzinfo=UTC
    )
    assert parse_schedule("cron(0 0 29 2 ? 2028)")(t) == datetime(2028, 2, 29, tzinfo=UTC)
    for bad in ("rate(0 minutes)", "rate(1 week)", "cron(0 9 ? * 2#1 *)", "cron(0 9 * *)", "x"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


# -- over HTTP, against moto's real server ------------------------------------------


@pytest.fixture
def moto_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        # The server shares moto's in-process state with mock_aws: leave it clean.
        requests.post(f"{url}/moto-api/reset", timeout=5)
        server.stop()


def test_pump_delivers_over_http_to_moto_server(moto_server):
    # GIVEN a queue on a moto server and the pump running in a thread
    sqs = boto3.client("sqs", endpoint_url=moto_server)
    url = make_queue(sqs)
    app = Chalice(app_name="pumptest")
    received: list[str] = []
    got_one = threading.Event()

    @app.on_sqs_message(queue=QUEUE)
    def on_job(event: SQSEvent) -> None:
        received.extend(record.body for record in event)
        got_one.set()

    pump = EventPump(app, sqs, wait_seconds=1)
    stop = threading.Event()
    runner = threading.Thread(target=pump.run_forever, args=(stop,), daemon=True)
    runner.start()

    # WHEN a message is sent
    try:
        sqs.send_message(QueueUrl=url, MessageBody="over http")
        delivered = got_one.wait(timeout=10)
    finally:
        stop.set()
        runner.join(timeout=10)

    # THEN it reached the handler, was deleted, and the pump stopped on request
    assert delivered
    assert received == ["over http"]
    assert not runner.is_alive()
    assert message_counts(sqs, url) == (0, 0)
    # AND drain works over HTTP too
    sqs.send_message(QueueUrl=url, MessageBody="drained")
    assert pump.drain() == 1
    assert received == ["over http", "drained"]

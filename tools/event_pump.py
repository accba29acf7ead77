"""Play AWS Lambda for a Chalice app's SQS and schedule handlers, locally.

In AWS, an SQS event source mapping polls the queue and invokes the function,
and EventBridge invokes scheduled functions. Locally there is no Lambda, so
this pump does both, against whatever SQS the client points at (moto's server
over HTTP, or in-process moto under `mock_aws`).

SQS semantics reproduced (event source mapping with ReportBatchItemFailures):
- a batch is up to `batch_size` messages (ReceiveMessage allows at most 10);
- the handler returns None / {} / {"batchItemFailures": []}: the whole batch is
  deleted; it returns {"batchItemFailures": [{"itemIdentifier": id}, ...]}:
  every message except those is deleted; an invalid failure list or a raised
  exception: nothing is deleted and the batch reappears after the queue's
  visibility timeout;
- redrive to the DLQ after maxReceiveCount receives is left to SQS itself:
  moto (checked on 5.2.5, `SQSBackend.receive_message`) enforces the queue's
  RedrivePolicy on ReceiveMessage exactly as SQS does, moving a message whose
  receive count reached maxReceiveCount to the DLQ instead of returning it.
  Doing it here too would move messages twice.

Run `python -m tools.event_pump` to pump for the top-level `app.py`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import (
    Chalice,
    CloudWatchEventConfig,
    ScheduledEventConfig,
    ScheduleExpression,
    SQSEventConfig,
)
from chalice.local import LambdaContext

from chalicelib.domain.schedules import Step, parse_schedule
from tools.lambda_events import batch_item_failures, scheduled_event, sqs_record

# A fixed name: under `python -m` __name__ would be "__main__".
log = logging.getLogger("tools.event_pump")

AwsClient = Any  # boto3 clients are generated at runtime; no stubs in this project.
Handler = Callable[[dict[str, Any], Any], Any]
Clock = Callable[[], float]

MAX_RECEIVE_BATCH = 10  # ReceiveMessage's own limit, whatever batch_size says.
# Chalice's deployment defaults, used for the LambdaContext handed to handlers
# so that get_remaining_time_in_millis() behaves like in AWS.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 60
DEFAULT_MEMORY_MB = 128


class EventPump:
    """Deliver SQS messages and schedule ticks to a Chalice app's handlers."""

    def __init__(
        self,
        app: Chalice,
        sqs_client: AwsClient,
        *,
        wait_seconds: int = 1,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        function_timeout_seconds: int = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    ) -> None:
        """`clock` drives schedules (inject it in tests). `wall_clock` gives the
        UTC time at construction, only to place cron schedules and event times
        on the calendar: wall time is then derived from `clock`, so a fake
        clock alone controls everything."""
        self.app = app
        self.wait_seconds = wait_seconds
        self._sqs = sqs_client
        self._clock = clock
        self._function_timeout_ms = function_timeout_seconds * 1000
        self._region = str(getattr(sqs_client.meta, "region_name", None) or "us-east-1")
        self._started = clock()
        self._started_wall = (wall_clock or _utcnow)()
        self._queues: list[_SqsSource] = []
        self._schedules: list[_Schedule] = []
        self._discover()

    # -- public API ---------------------------------------------------------

    def poll_once(self) -> int:
        """One ReceiveMessage per SQS handler (long-polling `wait_seconds`).

        Returns the number of messages handed to handlers."""
        return sum(self._poll(source, self.wait_seconds) for source in self._queues)

    def fire_due_schedules(self, now: float) -> int:
        """Invoke every schedule handler whose time has come; `now` is a value
        of `clock`. Returns the number of invocations."""
        wall_now = self._wall(now)
        fired = 0
        for schedule in self._schedules:
            due = schedule.due
            if due is None or due > wall_now:
                continue
            # Missed ticks (the laptop slept, a handler ran long) are not
            # replayed: fire once, for the latest tick that has passed, and
            # move on to the first tick still ahead.
            scheduled_for = due
            next_due: datetime | None = due
            while next_due is not None and next_due <= wall_now:
                scheduled_for = next_due
                next_due = schedule.step(next_due)
            schedule.due = next_due
            self._invoke_schedule(schedule, scheduled_for)
            fired += 1
        return fired

    def run_forever(self, stop_event: threading.Event, concurrency: int = 2) -> None:
        """Pump until `stop_event` is set. Never raises on handler or AWS errors.

        Like Lambda's event source mappings, each queue is polled on its own
        (`concurrency` pollers a queue), so an idle queue's long poll never
        delays another queue's messages and a busy queue is worked in parallel.
        """
        log.info(
            "event pump running: %d queue handler(s) x %d, %d schedule(s)",
            len(self._queues),
            concurrency,
            len(self._schedules),
        )
        threads = [
            threading.Thread(target=self._poll_forever, args=(source, stop_event),
                             name=f"pump-{source.queue_name}-{n}", daemon=True)
            for source in self._queues for n in range(max(1, concurrency))
        ]
        for thread in threads:
            thread.start()
        while not stop_event.is_set():
            try:
                self.fire_due_schedules(self._clock())
            except Exception:
                log.exception("event pump: schedules failed; continuing")
            stop_event.wait(1.0)
        for thread in threads:
            thread.join(timeout=self.wait_seconds + 5)
        log.info("event pump stopped")

    def _poll_forever(self, source: _SqsSource, stop_event: threading.Event) -> None:
        # Without a long poll (queue missing, wait_seconds=0) a poll returns at
        # once; this floor keeps an idle poller from spinning.
        min_round = max(float(self.wait_seconds), 0.2)
        while not stop_event.is_set():
            started = time.monotonic()
            handled = 0
            try:
                handled = self._poll(source, self.wait_seconds)
            except Exception:
                log.exception("event pump: polling %s failed; continuing", source.queue_name)
            if handled == 0:
                stop_event.wait(max(0.0, min_round - (time.monotonic() - started)))

    def drain(self, max_rounds: int = 100) -> int:
        """Poll (without waiting) until no queue has a visible message.

        Messages in flight (a failed batch waiting out its visibility timeout)
        are not waited for: that can take minutes. Returns messages handled."""
        total = 0
        for _ in range(max_rounds):
            handled = sum(self._poll(source, 0) for source in self._queues)
            total += handled
            if handled == 0 and self._all_queues_empty():
                return total
        log.warning("drain: queues still not empty after %d rounds", max_rounds)
        return total

    # -- discovery ------------------------------------------------------------

    def _discover(self) -> None:
        for config in self.app.event_sources:
            handler = self.app.handler_map[config.name]
            if isinstance(config, SQSEventConfig):
                self._queues.append(
                    _SqsSource(
                        name=config.name,
                        queue_name=_queue_name(config),
                        batch_size=min(max(config.batch_size, 1), MAX_RECEIVE_BATCH),
                        handler=handler,
                    )
                )
            elif isinstance(config, ScheduledEventConfig):
                schedule = self._make_schedule(config, handler)
                if schedule is not None:
                    self._schedules.append(schedule)
            elif isinstance(config, CloudWatchEventConfig):
                # Nothing emits EventBridge events locally; say so rather than
                # silently never calling the handler.
                log.warning("event pump: on_cw_event handler %s is not pumped", config.name)
            else:
                log.warning(
                    "event pump: %s handler %s is not supported",
                    type(config).__name__,
                    config.name,
                )

    def _make_schedule(self, config: ScheduledEventConfig, handler: Handler) -> _Schedule | None:
        expression = config.schedule_expression
        text = expression.to_string() if isinstance(expression, ScheduleExpression) else expression
        try:
            step = parse_schedule(text)
        except ValueError as exc:
            log.warning("event pump: skipping schedule %s %r: %s", config.name, text, exc)
            return None
        first = step(self._started_wall)
        if first is None:
            log.warning("event pump: schedule %s %r never fires", config.name, text)
            return None
        return _Schedule(name=config.name, expression=text, handler=handler, step=step, due=first)

    # -- SQS --------------------------------------------------------------------

    def _poll(self, source: _SqsSource, wait_seconds: int) -> int:
        url = self._resolve(source)
        if url is None:
            return 0
        try:
            response = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=source.batch_size,
                WaitTimeSeconds=wait_seconds,
                # The non-deprecated name of AttributeNames=["All"].
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("event pump: ReceiveMessage on %s failed: %s", source.queue_name, exc)
            source.url = None  # the queue may have been recreated; look it up again
            return 0
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(message, source.arn, self._region)
                              for message in messages]}
        failed_ids = self._invoke_sqs(source, event)
        self._delete(source, url, [m for m in messages if m["MessageId"] not in failed_ids])
        return len(messages)

    def _resolve(self, source: _SqsSource) -> str | None:
        if source.url is not None:
            return source.url
        try:
            url = str(self._sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"])
            attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except (BotoCoreError, ClientError) as exc:
            # Typically the pump started before provisioning; retried next round.
            log.warning("event pump: queue %s unavailable: %s", source.queue_name, exc)
            return None
        source.arn = str(attributes["Attributes"]["QueueArn"])
        source.url = url
        return url

    def _invoke_sqs(self, source: _SqsSource, event: dict[str, Any]) -> set[str]:
        """Call the handler; return the ids of the messages that must stay."""
        batch_ids = {record["messageId"] for record in event["Records"]}
        try:
            result = source.handler(event, self._context(source.name))
        except Exception:
            log.exception(
                "handler %s failed on %d message(s) from %s; they will be retried "
                "after the visibility timeout",
                source.name,
                len(batch_ids),
                source.queue_name,
            )
            return batch_ids
        failed = batch_item_failures(result, batch_ids)
        if failed is None:
            log.error(
                "handler %s returned an invalid batchItemFailures %r; "
                "treating the whole batch as failed, as Lambda does",
                source.name,
                result,
            )
            return batch_ids
        if failed:
            log.info("handler %s reported %d failed message(s)", source.name, len(failed))
        return failed

    def _delete(self, source: _SqsSource, url: str, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
        ]
        try:
            response = self._sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            # Not fatal: the messages come back after the visibility timeout
            # and are handled again, which handlers must tolerate anyway.
            log.warning("event pump: DeleteMessageBatch on %s failed: %s", source.queue_name, exc)
            return
        for failure in response.get("Failed", []):
            log.warning("event pump: cannot delete from %s: %s", source.queue_name, failure)

    def _all_queues_empty(self) -> bool:
        for source in self._queues:
            url = self._resolve(source)
            if url is None:
                continue
            try:
                attributes = self._sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
            except (BotoCoreError, ClientError) as exc:
                log.warning("event pump: cannot count messages of %s: %s", source.queue_name, exc)
                continue
            if int(attributes.get("ApproximateNumberOfMessages", "0")) > 0:
                return False
        return True

    # -- schedules ------------------------------------------------------------

    def _invoke_schedule(self, schedule: _Schedule, scheduled_for: datetime) -> None:
        event = scheduled_event(schedule.name, self._region, scheduled_for)
        try:
            schedule.handler(event, self._context(schedule.name))
        except Exception:
            # EventBridge retries failed async invocations, but a local tick is
            # cheap to lose and the next one comes anyway.
            log.exception("scheduled handler %s (%s) failed", schedule.name, schedule.expression)

    # -- helpers --------------------------------------------------------------

    def _context(self, name: str) -> LambdaContext:
        return LambdaContext(
            function_name=f"{self.app.app_name}-{name}",
            memory_size=DEFAULT_MEMORY_MB,
            max_runtime_ms=self._function_timeout_ms,
        )

    def _wall(self, now: float) -> datetime:
        return self._started_wall + timedelta(seconds=now - self._started)


@dataclass
class _SqsSource:
    name: str
    queue_name: str
    batch_size: int
    handler: Handler
    url: str | None = None
    arn: str | None = None


@dataclass
class _Schedule:
    name: str
    expression: str
    handler: Handler
    step: Step  # next tick strictly after a given time; None: never again
    due: datetime | None


def _queue_name(config: SQSEventConfig) -> str:
    if config.queue:
        return config.queue
    # on_sqs_message(queue_arn=...): the name is the ARN's last segment.
    return str(config.queue_arn).rsplit(":", 1)[-1]


def quiet_aws_sdk_logs() -> None:
    """botocore/pynamodb log every client creation at INFO; locally that is noise."""
    for name in ("botocore", "boto3", "pynamodb"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _utcnow() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    # `python -m tools.event_pump`: the entry point lives beside it.
    from tools.event_pump_main import main

    sys.exit(main())

"""The `webhooks` queue's worker: one attempt of one delivery a message (docs/webhooks.md).

A message makes attempt n of a delivery. It POSTs the signed event, then
records the attempt conditionally on the stored attempt count being n - 1:
the same message delivered twice records once, and only the recording worker
schedules the next attempt, so one delivery never forks into two retry
chains. A message whose attempt is already recorded is dropped before it
POSTs. A failed attempt is retried after RETRY_DELAYS by re-sending the
message with a delay; waits longer than SQS's 15 minutes are hops of a
message carrying its `not_before`. An endpoint with no successful attempt
for 24 hours is disabled with a reason.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.clock import iso_utc
from chalicelib.domain.errors import DropMessage
from chalicelib.domain.webhook_messages import (
    DeliveryMessage,
    delivery_message,
    parse_delivery_message,
)
from chalicelib.domain.webhook_signing import HEADER, sign
from chalicelib.domain.webhooks import (
    DISABLED_FAILING,
    FAILED,
    RETRYING,
    SUCCEEDED,
    AttemptResult,
    Delivery,
    Endpoint,
    Prefetched,
    hop_delay,
    next_attempt,
    should_disable,
)
from chalicelib.services.ports import BatchQueue, SecretBox, WebhookSender, WebhookStore
from chalicelib.services.webhooks import SECRET_PURPOSE

TIMEOUT_SECONDS = 10.0
USER_AGENT = "leadpipe-webhooks/1"
SECRET_CACHE_SECONDS = 300.0
logger = logging.getLogger("leadpipe.webhooks")


def _iso(epoch: float) -> str:
    return iso_utc(datetime.fromtimestamp(epoch, UTC))


class WebhookDelivery:
    def __init__(self, store: WebhookStore, box: SecretBox, sender: WebhookSender,
                 queue: BatchQueue, *, timeout_seconds: float = TIMEOUT_SECONDS,
                 clock: Callable[[], float] = time.time,
                 on_delivered: Callable[[DeliveryMessage, float], None] | None = None) -> None:
        self._store = store
        self._box = box
        self._sender = sender
        self._queue = queue
        self._timeout = timeout_seconds
        self._clock = clock
        # Told of each success with the time it was recorded (the bench's delays).
        self._on_delivered = on_delivered
        self._secrets: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def prefetch(self, bodies: Sequence[Mapping[str, Any]]) -> Prefetched:
        """What `handle` reads for each message of a batch, read in one request."""
        messages = []
        for body in bodies:
            with contextlib.suppress(DropMessage):
                messages.append(parse_delivery_message(body))
        due = [m for m in messages if m["not_before"] <= self._clock()]
        if not due:
            return Prefetched()
        return self._store.read_many(
            {(m["workspace"], m["endpoint_id"]) for m in due},
            {(m["workspace"], m["endpoint_id"], m["delivery_id"]) for m in due})

    def handle(self, body: Mapping[str, Any], prefetched: Prefetched | None = None) -> None:
        message = parse_delivery_message(body)
        now = self._clock()
        if message["not_before"] > now:  # a hop of a long back-off: wait on
            self._queue.send(dict(message), delay_seconds=hop_delay(message["not_before"], now))
            return
        ws, endpoint_id, delivery_id = (message["workspace"], message["endpoint_id"],
                                        message["delivery_id"])
        found = prefetched.endpoints[(ws, endpoint_id)] \
            if prefetched and (ws, endpoint_id) in prefetched.endpoints \
            else self._store.endpoint(ws, endpoint_id)
        if found is None:
            logger.info("webhook %s deleted: delivery %s dropped", endpoint_id, delivery_id)
            return
        endpoint, sealed = found
        if prefetched and (ws, endpoint_id, delivery_id) in prefetched.attempts:
            attempts = prefetched.attempts[(ws, endpoint_id, delivery_id)]
        else:
            stored = self._store.delivery(ws, endpoint_id, delivery_id)
            attempts = 0 if stored is None else stored[0].attempts
        if attempts >= message["attempt"]:
            return  # this attempt is recorded: a duplicate message
        if not endpoint.enabled:
            self._record(message, endpoint, AttemptResult(error="endpoint_disabled"), now,
                         final=True)
            return
        body_bytes = json.dumps(message["event"], separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   HEADER: sign(self._secret(endpoint, sealed), int(now), body_bytes)}
        result = self._sender.post(endpoint.url, body_bytes, headers, self._timeout)
        self._record(message, endpoint, result, self._clock(), final=False)

    def _secret(self, endpoint: Endpoint, sealed: str) -> str:
        key = (endpoint.id, sealed)
        now = self._clock()
        with self._lock:
            cached = self._secrets.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        secret = str(self._box.open(endpoint.workspace, SECRET_PURPOSE, sealed)["secret"])
        with self._lock:
            self._secrets[key] = (now + SECRET_CACHE_SECONDS, secret)
        return secret

    def _record(self, message: DeliveryMessage, endpoint: Endpoint, result: AttemptResult,
                now: float, *, final: bool) -> None:
        first = message["first_attempt_at"] or now
        retry_at = None if result.ok or final else next_attempt(message["attempt"], first, now)
        status = SUCCEEDED if result.ok else (RETRYING if retry_at is not None else FAILED)
        event = message["event"]
        delivery = Delivery(
            id=message["delivery_id"], endpoint_id=endpoint.id, workspace=endpoint.workspace,
            event_id=event["id"], event_type=event["type"], created_at=event["created_at"],
            status=status, attempts=message["attempt"], first_attempt_at=first,
            last_status_code=result.status_code, last_error=result.error,
            last_attempt_at=_iso(now),
            next_attempt_at=None if retry_at is None else _iso(retry_at))
        if not self._store.record_attempt(delivery, event):
            return  # another worker recorded this attempt (a duplicate message)
        if result.ok:
            if endpoint.failing_since is not None:
                self._store.note_success(endpoint.workspace, endpoint.id)
            if self._on_delivered is not None:
                self._on_delivered(message, now)
            return
        if endpoint.enabled:
            failing_since = self._store.note_failure(endpoint.workspace, endpoint.id, now)
            if should_disable(failing_since, now):
                self._store.disable(endpoint.workspace, endpoint.id, DISABLED_FAILING,
                                    _iso(now))
                logger.warning("webhook %s disabled: no successful delivery for 24 hours",
                               endpoint.id)
        if retry_at is not None:
            retry = delivery_message(endpoint.id, endpoint.workspace, delivery.id, event,
                                     attempt=message["attempt"] + 1, first_attempt_at=first,
                                     not_before=retry_at, emitted_at=message["emitted_at"])
            self._queue.send(dict(retry), delay_seconds=hop_delay(retry_at, now))

    def give_up(self, body: Mapping[str, Any]) -> None:
        """A message that kept crashing (the webhooks DLQ): its delivery is failed."""
        message = parse_delivery_message(body)
        found = self._store.endpoint(message["workspace"], message["endpoint_id"])
        if found is None:
            return
        self._record(message, found[0], AttemptResult(error="delivery_crashed"), self._clock(),
                     final=True)

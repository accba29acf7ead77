"""A speed patch for moto's SQS (5.2.5) that leaves what clients see unchanged.

Profiling the embedded AWS during the webhook bench (docs/webhooks.md) showed
~40% of its time in ReceiveMessage, most of it in moto's clock: every
receive walks the queue's messages and asks each `visible` and `delayed`,
and each asks `unix_time_millis()`, which builds two datetimes and subtracts
them. With 10,000 webhook messages queued, every poll of the queue costs
20,000 of those. The patch answers the same two questions from `time.time()`
(the same epoch milliseconds: moto's `utcnow()` is the system clock), and
`Queue.messages` reads the clock once per walk instead of twice per message.
tests/integration/test_embedded_aws.py checks delays and visibility with it.
"""

from __future__ import annotations

import time
from typing import Any


def fast_sqs_clock() -> None:
    from moto.sqs.models import Message, Queue  # noqa: PLC0415

    if getattr(Queue, "_leadpipe_fast_clock", False):
        return

    def visible(self: Any) -> bool:
        return bool(time.time() * 1000.0 > self.visible_at)

    def delayed(self: Any) -> bool:
        return bool(time.time() * 1000.0 < self.delayed_until)

    def messages(self: Any) -> list[Any]:
        now = time.time() * 1000.0
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    Message.visible = property(visible)  # type: ignore[method-assign,assignment]
    Message.delayed = property(delayed)  # type: ignore[method-assign,assignment]
    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    Queue._leadpipe_fast_clock = True  # type: ignore[attr-defined]

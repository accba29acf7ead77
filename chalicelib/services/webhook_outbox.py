"""The Outbox for real: an announced event becomes one `webhooks` message per subscribed endpoint.

`emit` never raises and never waits on a receiver: it reads the workspace's
endpoints (cached per process for CACHE_SECONDS, so a workspace without
webhooks costs one Query per process every half minute and no message) and
sends one SQS message per (endpoint, event) with SendMessageBatch. Inside
`collecting()` (a request or a bulk job changing many leads) the messages are
gathered and sent ten a call when it ends. Per thread: the local API server
is threaded, a Lambda is not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.ids import new_id
from chalicelib.domain.webhook_messages import WebhookEvent, delivery_message
from chalicelib.domain.webhooks import Endpoint
from chalicelib.services.ports import BatchQueue, WebhookStore

CACHE_SECONDS = 30.0
logger = logging.getLogger("leadpipe.webhooks")


class WebhookOutbox:
    def __init__(self, store: WebhookStore, queue: BatchQueue, *,
                 cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._queue = queue
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, list[Endpoint]]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def forget(self, workspace: str) -> None:
        """This process's endpoints of the workspace changed: read them again."""
        with self._lock:
            self._cache.pop(workspace, None)

    def _endpoints(self, workspace: str) -> list[Endpoint]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(workspace)
        if cached is not None and cached[0] > now:
            return cached[1]
        endpoints = [e for e in self._store.endpoints(workspace) if e.enabled]
        with self._lock:
            self._cache[workspace] = (now + self._cache_seconds, endpoints)
        return endpoints

    def emit(self, workspace: str, event_type: str, payload: Mapping[str, Any]) -> None:
        try:
            targets = [e for e in self._endpoints(workspace) if e.subscribes(event_type)]
            if not targets:
                return
            now = self._clock()
            event = WebhookEvent(id=new_id("evt"), type=event_type, created_at=utc_now_iso(),
                                 workspace=workspace, data=dict(payload))
            messages = [dict(delivery_message(e.id, workspace, new_id("dl"), event,
                                              emitted_at=now)) for e in targets]
            pending: list[dict[str, Any]] | None = getattr(self._local, "pending", None)
            if pending is not None:
                pending.extend(messages)
            else:
                self._queue.send_batch(messages)
        except Exception:  # an announcement must never fail what it announces
            logger.exception("webhook event %s of workspace %s not queued", event_type,
                             workspace)

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Gather what is emitted inside; send it in batches at the end."""
        if getattr(self._local, "pending", None) is not None:
            yield  # nested: the outer block sends
            return
        self._local.pending = []
        try:
            yield
        finally:
            pending, self._local.pending = self._local.pending, None
            if pending:
                try:
                    self._queue.send_batch(pending)
                except Exception:
                    logger.exception("%d webhook messages not queued", len(pending))

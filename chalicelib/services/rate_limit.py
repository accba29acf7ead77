"""Per-workspace request throttling: a fixed one-minute window counted in DynamoDB.

Why in the app and not an API Gateway usage plan: usage plans throttle per
API key, which would need a Lambda authorizer to map each bearer token to a
workspace's key, and API Gateway's own 429 carries no `Retry-After`. A
counter per workspace and minute costs one UpdateItem a request, behaves the
same on the local stack as on AWS, and answers 429 with `Retry-After` = the
seconds left in the window.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from chalicelib.domain.errors import RateLimited
from chalicelib.services.ports import RateCounter

WINDOW_SECONDS = 60
# Counter items stay a little past their window (TTL clean-up only).
_RETENTION_SECONDS = 300


class RateLimiter:
    def __init__(self, counter: RateCounter, *, per_minute: int,
                 clock: Callable[[], float] = time.time) -> None:
        self._counter = counter
        self.per_minute = per_minute  # 0 or less: no limit
        self._clock = clock
        # Workspaces this container already saw over the limit, until their
        # window ends: a client hammering after its 429 costs no more writes.
        self._exhausted: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, workspace: str) -> None:
        """Count one request of `workspace`; RateLimited if the window's limit is passed."""
        limit = self.per_minute
        if limit <= 0:
            return
        now = self._clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        window_end = window_start + WINDOW_SECONDS
        retry_after = max(1, math.ceil(window_end - now))
        with self._lock:
            if self._exhausted.get(workspace, 0) > now:
                raise RateLimited(retry_after=retry_after, limit=limit)
        count = self._counter.hit(workspace, window_start, window_end + _RETENTION_SECONDS)
        if count > limit:
            with self._lock:
                if len(self._exhausted) > 10_000:
                    self._exhausted.clear()
                self._exhausted[workspace] = window_end
            raise RateLimited(retry_after=retry_after, limit=limit)

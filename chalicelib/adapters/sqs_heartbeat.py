"""A handler's hold on its SQS messages: a short lease, renewed while it is alive.

Lambda's poller receives a batch with the queue's visibility timeout, which
AWS wants long (at least the function's timeout, advised 6x: 720 s for chunks,
5,400 s for the splitter) so throttled invocations are not redelivered. A
worker killed mid-batch (out of memory, a crash, a timeout) would then freeze
its messages, and the import they drive, for that long. So as soon as a
handler starts, its messages' visibility is cut to a short lease and a
background thread renews it every third of the lease while the handler runs:
a live worker keeps its messages as long as it needs, a dead one loses them
within one lease.

A message whose handling failed stops being renewed and is given a back-off
(lease x 2^(receives-1), at most 12 h) before SQS offers it again; one that
succeeded is renewed until the batch returns and Lambda deletes it.
Records without a receipt handle (tests calling handlers directly) are
ignored; a renewal that fails (the handle went stale) is logged and skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.telemetry import logger

_MAX_VISIBILITY = 12 * 3600  # SQS's limit
_BATCH = 10  # ChangeMessageVisibilityBatch's limit


class _Held:
    def __init__(self, record: dict[str, Any]) -> None:
        self.message_id = str(record["messageId"])
        self.handle = str(record["receiptHandle"])
        arn = str(record["eventSourceARN"])
        # arn:aws:sqs:<region>:<account>:<name>
        _, _, _, self.region, self.account, self.queue = arn.split(":", 5)
        receives = (record.get("attributes") or {}).get("ApproximateReceiveCount", "1")
        self.receives = int(receives) if str(receives).isdigit() else 1


class SqsHeartbeat:
    def __init__(self, region: str, lease_seconds: int) -> None:
        self._region = region
        self._lease = lease_seconds
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("sqs", region_name=self._region)
        return self._client

    @contextmanager
    def hold(self, records: Sequence[dict[str, Any]]) -> Iterator[Lease]:
        """Keep `records` invisible to other workers for as long as the block runs."""
        lease = Lease(self, [_Held(r) for r in records
                             if r.get("receiptHandle") and r.get("eventSourceARN")])
        lease.renew()
        stop = threading.Event()
        thread = threading.Thread(target=self._beat, args=(lease, stop), daemon=True,
                                  name="sqs-heartbeat")
        thread.start()
        try:
            yield lease
        finally:
            stop.set()
            thread.join()

    def _beat(self, lease: Lease, stop: threading.Event) -> None:
        while not stop.wait(self._lease / 3):
            lease.renew()

    def change(self, held: Sequence[_Held], seconds: int) -> None:
        for start in range(0, len(held), _BATCH):
            part = held[start:start + _BATCH]
            first = part[0]
            # The URL from the ARN (the poller's queue): no GetQueueUrl needed.
            url = f"{self.client.meta.endpoint_url}/{first.account}/{first.queue}"
            try:
                response = self.client.change_message_visibility_batch(
                    QueueUrl=url, Entries=[
                        {"Id": str(i), "ReceiptHandle": h.handle,
                         "VisibilityTimeout": min(seconds, _MAX_VISIBILITY)}
                        for i, h in enumerate(part)])
                failed = len(response.get("Failed") or [])
            except (BotoCoreError, ClientError) as exc:
                logger.warning("could not extend %d message(s): %s", len(part), exc)
                continue
            if failed:
                logger.warning("could not extend %d of %d message(s)", failed, len(part))

    @property
    def lease_seconds(self) -> int:
        return self._lease


class Lease:
    """The messages a running handler holds; it says which are settled."""

    def __init__(self, heartbeat: SqsHeartbeat, held: list[_Held]) -> None:
        self._heartbeat = heartbeat
        self._held = {h.message_id: h for h in held}
        self._lock = threading.Lock()

    def renew(self) -> None:
        with self._lock:
            held = list(self._held.values())
        if held:
            self._heartbeat.change(held, self._heartbeat.lease_seconds)

    def failed(self, message_id: str) -> None:
        """Stop renewing the message; SQS offers it again after a back-off."""
        with self._lock:
            held = self._held.pop(message_id, None)
        if held is not None:
            backoff = self._heartbeat.lease_seconds * 2 ** min(held.receives - 1, 16)
            self._heartbeat.change([held], backoff)

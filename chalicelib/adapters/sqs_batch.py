"""A queue sent to ten messages a call (SendMessageBatch), or one at a time with a delay."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.adapters.sqs_jobs import SqsJobQueue

BATCH = 10                   # SendMessageBatch's limit on entries
BATCH_BYTES = 250 * 1024     # and on the request's total payload (256 KiB), with room


class SqsBatchQueue(SqsJobQueue):
    def send_batch(self, bodies: Sequence[Mapping[str, Any]]) -> None:
        client, url = self._ensure()
        entries: list[dict[str, str]] = []
        size = 0
        for body in bodies:
            text = json.dumps(body)
            if entries and (len(entries) == BATCH or size + len(text) > BATCH_BYTES):
                self._flush(client, url, entries)
                entries, size = [], 0
            entries.append({"Id": str(len(entries)), "MessageBody": text})
            size += len(text)
        if entries:
            self._flush(client, url, entries)

    @staticmethod
    def _flush(client: Any, url: str, entries: list[dict[str, str]]) -> None:
        response = client.send_message_batch(QueueUrl=url, Entries=entries)
        failed = {f["Id"] for f in response.get("Failed", [])}
        if failed:  # throttled or internal: once more, one by one
            for entry in entries:
                if entry["Id"] in failed:
                    client.send_message(QueueUrl=url, MessageBody=entry["MessageBody"])

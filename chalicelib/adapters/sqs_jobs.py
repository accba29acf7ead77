"""The jobs queue on SQS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3


class SqsJobQueue:
    def __init__(self, queue_name: str, region: str) -> None:
        self._queue_name = queue_name
        self._region = region
        self._client: Any = None
        self._url: str | None = None

    def _ensure(self) -> tuple[Any, str]:
        # Created on first use: importing the app must not touch the network.
        if self._client is None:
            self._client = boto3.client("sqs", region_name=self._region)
        if self._url is None:
            self._url = self._client.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._client, self._url

    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None:
        client, url = self._ensure()
        extra = {"DelaySeconds": min(900, delay_seconds)} if delay_seconds > 0 else {}
        client.send_message(QueueUrl=url, MessageBody=json.dumps(job), **extra)

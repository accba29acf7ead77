"""The low-level DynamoDB client both batch-heavy adapters share.

Imports and verification speak boto3's client directly (batched and
transactional writes with our own ordering); the client is created on first
use, never at import time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import get_settings

BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit
BATCH_GET_ITEMS = 100  # BatchGetItem's limit


class LowLevelTable:
    def __init__(self) -> None:
        self._client: Any = None
        self._table = get_settings().table_name

    @property
    def client(self) -> Any:
        if self._client is None:
            settings = get_settings()
            # Local stack only: see Settings.boto_parameter_validation.
            config = None if settings.boto_parameter_validation \
                else Config(parameter_validation=False)
            self._client = boto3.client("dynamodb", region_name=settings.region, config=config)
        return self._client

    def _transact(self, items: list[dict[str, Any]]) -> set[int] | None:
        """One TransactWriteItems: None if written, else the positions whose condition failed.

        A transaction cancelled for another reason (a conflict with another
        transaction, throttling) gives an empty set; any other error raises.
        """
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            return {i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
        return None

    def _batch_get(self, keys: list[dict[str, Any]], projection: str | None = None,
                   names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Items by key, 100 a request, strongly consistent; missing ones are left out."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_ITEMS):
            request: dict[str, Any] = {"Keys": keys[start:start + BATCH_GET_ITEMS],
                                       "ConsistentRead": True}
            if projection:
                request["ProjectionExpression"] = projection
            if names:
                request["ExpressionAttributeNames"] = dict(names)
            pending: dict[str, Any] = {self._table: request}
            delay = 0.05
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(response["Responses"].get(self._table, []))
                pending = response.get("UnprocessedKeys") or {}
                if pending:  # throttled: back off as AWS advises
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
        return found

    def _batch_put(self, items: list[dict[str, Any]]) -> None:
        """Put items 25 a request, retrying what DynamoDB left unprocessed."""
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])

    def _batch_delete(self, keys: list[dict[str, Any]]) -> None:
        """Delete items by key 25 a request (a missing item is no error)."""
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE_ITEMS):
            pending: dict[str, Any] = {self._table: requests[start:start + BATCH_WRITE_ITEMS]}
            delay = 0.05
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if pending:  # throttled: back off as AWS advises
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)

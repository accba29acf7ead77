"""Webhook endpoints and deliveries in the single table.

Keys:
    endpoint    WEBHOOKS#<workspace>                 W#<endpoint_id>
    delivery    WHD#<workspace>#<endpoint_id>        D#<delivery_id>   (30-day TTL)

Both carry the workspace in their partition key, so another workspace's id
finds nothing. Delivery ids are time-ordered: a descending query is newest
first. A delivery item holds the event it carries, so a redelivery sends the
same body (the same event id). Attempts are written conditionally on the
attempt number: the same SQS message twice records one attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.domain.webhook_messages import WebhookEvent
from chalicelib.domain.webhooks import Delivery, Endpoint, Prefetched

DELIVERY_DAYS = 30
_ser = TypeSerializer()
_de = TypeDeserializer()


def endpoint_key(workspace: str, endpoint_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"WEBHOOKS#{workspace}"}, "sk": {"S": f"W#{endpoint_id}"}}


def delivery_key(workspace: str, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"WHD#{workspace}#{endpoint_id}"}, "sk": {"S": f"D#{delivery_id}"}}


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _endpoint(item: dict[str, Any]) -> Endpoint:
    v = _plain(item)
    failing = v.get("failing_since")
    return Endpoint(id=v["id"], workspace=v["workspace"], url=v["url"],
                    events=tuple(v["events"]), description=v.get("description", ""),
                    enabled=bool(v["enabled"]), created_at=v["created_at"],
                    updated_at=v["updated_at"], disabled_reason=v.get("disabled_reason"),
                    failing_since=None if failing is None else float(failing),
                    version=int(v["version"]))


def _delivery(item: dict[str, Any]) -> Delivery:
    v = _plain(item)
    first = v.get("first_attempt_at")
    code = v.get("last_status_code")
    return Delivery(id=v["id"], endpoint_id=v["endpoint_id"], workspace=v["workspace"],
                    event_id=v["event_id"], event_type=v["event_type"],
                    created_at=v["created_at"], status=v["status"], attempts=int(v["attempts"]),
                    first_attempt_at=None if first is None else float(first),
                    last_status_code=None if code is None else int(code),
                    last_error=v.get("last_error"), last_attempt_at=v.get("last_attempt_at"),
                    next_attempt_at=v.get("next_attempt_at"))


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response["Error"]["Code"] == "ConditionalCheckFailedException")


class DynamoWebhooks(LowLevelTable):
    # --- endpoints ---------------------------------------------------------------
    def add_endpoint(self, endpoint: Endpoint, sealed_secret: str) -> None:
        values = {**_endpoint_values(endpoint), "secret": sealed_secret}
        self.client.put_item(TableName=self._table,
                             Item={**endpoint_key(endpoint.workspace, endpoint.id),
                                   **_item(values)},
                             ConditionExpression="attribute_not_exists(pk)")

    def endpoint(self, workspace: str, endpoint_id: str) -> tuple[Endpoint, str] | None:
        item = self.client.get_item(TableName=self._table,
                                    Key=endpoint_key(workspace, endpoint_id),
                                    ConsistentRead=True).get("Item")
        if item is None:
            return None
        return _endpoint(item), str(item["secret"]["S"])

    def endpoints(self, workspace: str) -> list[Endpoint]:
        found: list[Endpoint] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"WEBHOOKS#{workspace}"}},
            # The secret stays in the table: a listing never needs it.
            "ProjectionExpression": "id, workspace, #u, events, description, enabled, "
                                    "created_at, updated_at, disabled_reason, failing_since, "
                                    "version",
            "ExpressionAttributeNames": {"#u": "url"}}
        while True:
            response = self.client.query(**kwargs)
            found.extend(_endpoint(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def save_endpoint(self, endpoint: Endpoint, *, previous_version: int) -> bool:
        values = _endpoint_values(endpoint)
        names = {f"#{k}": k for k in values}
        sets = [f"#{k} = :{k}" for k, v in values.items() if v is not None]
        removes = [f"#{k}" for k, v in values.items() if v is None]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes
                                                 else "")
        attr_values = {f":{k}": _ser.serialize(v) for k, v in values.items() if v is not None}
        attr_values[":prev"] = {"N": str(previous_version)}
        try:
            self.client.update_item(
                TableName=self._table, Key=endpoint_key(endpoint.workspace, endpoint.id),
                UpdateExpression=expression, ConditionExpression="version = :prev",
                ExpressionAttributeNames={**names, "#version": "version"},
                ExpressionAttributeValues=attr_values)
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def delete_endpoint(self, workspace: str, endpoint_id: str) -> None:
        # Its deliveries expire by TTL; they are unreachable once the endpoint is gone.
        self.client.delete_item(TableName=self._table, Key=endpoint_key(workspace, endpoint_id))

    def note_failure(self, workspace: str, endpoint_id: str, now: float) -> float | None:
        try:
            response = self.client.update_item(
                TableName=self._table, Key=endpoint_key(workspace, endpoint_id),
                UpdateExpression="SET failing_since = if_not_exists(failing_since, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": _ser.serialize(_num(now))},
                ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return float(response["Attributes"]["failing_since"]["N"])

    def note_success(self, workspace: str, endpoint_id: str) -> None:
        self.client.update_item(TableName=self._table, Key=endpoint_key(workspace, endpoint_id),
                                UpdateExpression="REMOVE failing_since")

    def disable(self, workspace: str, endpoint_id: str, reason: str, now: str) -> None:
        try:
            self.client.update_item(
                TableName=self._table, Key=endpoint_key(workspace, endpoint_id),
                UpdateExpression="SET enabled = :f, disabled_reason = :r, updated_at = :now "
                                 "ADD version :one",
                ConditionExpression="attribute_exists(pk) AND enabled = :t",
                ExpressionAttributeValues={":f": {"BOOL": False}, ":t": {"BOOL": True},
                                           ":r": {"S": reason}, ":now": {"S": now},
                                           ":one": {"N": "1"}})
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def read_many(self, endpoints: Collection[tuple[str, str]],
                  deliveries: Collection[tuple[str, str, str]]) -> Prefetched:
        """A batch's endpoints and the attempts its deliveries recorded: one
        BatchGetItem (strongly consistent) instead of two GetItems a message."""
        keys = [endpoint_key(*k) for k in endpoints] + [delivery_key(*k) for k in deliveries]
        found = Prefetched()
        pending: dict[str, Any] = {self._table: {
            "Keys": keys, "ConsistentRead": True,
            "ProjectionExpression": "pk, sk, id, workspace, #u, events, description, enabled, "
                                    "created_at, updated_at, disabled_reason, failing_since, "
                                    "version, secret, attempts, endpoint_id",
            "ExpressionAttributeNames": {"#u": "url"}}}
        while keys and pending:
            response = self.client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(self._table, []):
                sk = item["sk"]["S"]
                if sk.startswith("W#"):
                    endpoint = _endpoint(item)
                    found.endpoints[(endpoint.workspace, endpoint.id)] = (
                        endpoint, str(item["secret"]["S"]))
                else:
                    found.attempts[(item["workspace"]["S"], item["endpoint_id"]["S"],
                                    item["id"]["S"])] = int(item["attempts"]["N"])
            pending = response.get("UnprocessedKeys") or {}
        for endpoint_ref in endpoints:
            found.endpoints.setdefault(endpoint_ref, None)
        for delivery_ref in deliveries:
            found.attempts.setdefault(delivery_ref, 0)
        return found

    # --- deliveries ------------------------------------------------------------
    def delivery(self, workspace: str, endpoint_id: str,
                 delivery_id: str) -> tuple[Delivery, WebhookEvent] | None:
        item = self.client.get_item(TableName=self._table,
                                    Key=delivery_key(workspace, endpoint_id, delivery_id),
                                    ConsistentRead=True).get("Item")
        if item is None:
            return None
        event: WebhookEvent = json.loads(item["event"]["S"])
        return _delivery(item), event

    def record_attempt(self, delivery: Delivery, event: WebhookEvent) -> bool:
        key = delivery_key(delivery.workspace, delivery.endpoint_id, delivery.id)
        expires = int(time.time()) + DELIVERY_DAYS * 86400
        try:
            if delivery.attempts == 1:
                self.client.put_item(
                    TableName=self._table,
                    Item={**key, **_item({**_delivery_values(delivery), "event": json.dumps(event),
                                          "expires_at": expires})},
                    ConditionExpression="attribute_not_exists(pk)")
                return True
            # A later attempt leaves the stored event as it is: an erasure may have
            # redacted it since (services/erasure_deliveries.py).
            values = {**_delivery_values(delivery), "expires_at": expires}
            sets = [k for k, v in values.items() if v is not None]
            removes = [k for k, v in values.items() if v is None]
            self.client.update_item(
                TableName=self._table, Key=key,
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in sets)
                + (" REMOVE " + ", ".join(f"#{k}" for k in removes) if removes else ""),
                ConditionExpression="#attempts = :prev",
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={
                    **{f":{k}": _ser.serialize(values[k]) for k in sets},
                    ":prev": {"N": str(delivery.attempts - 1)}})
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def reopen(self, delivery: Delivery) -> bool:
        try:
            self.client.update_item(
                TableName=self._table,
                Key=delivery_key(delivery.workspace, delivery.endpoint_id, delivery.id),
                UpdateExpression="SET #s = :pending REMOVE next_attempt_at",
                ConditionExpression="attempts = :n",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": {"S": "pending"},
                                           ":n": {"N": str(delivery.attempts)}})
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def deliveries(self, workspace: str, endpoint_id: str, limit: int,
                   after: str | None) -> tuple[list[Delivery], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"WHD#{workspace}#{endpoint_id}"}},
            "ScanIndexForward": False, "Limit": limit,
            "ProjectionExpression": "id, endpoint_id, workspace, event_id, event_type, "
                                    "created_at, #s, attempts, first_attempt_at, "
                                    "last_status_code, last_error, last_attempt_at, "
                                    "next_attempt_at",
            "ExpressionAttributeNames": {"#s": "status"}}
        if after:
            kwargs["ExclusiveStartKey"] = delivery_key(workspace, endpoint_id, after)
        response = self.client.query(**kwargs)
        items = [_delivery(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, (str(last["sk"]["S"]).removeprefix("D#") if last else None)

    def delivery_events(self, workspace: str, endpoint_id: str, limit: int,
                        after: str | None) -> tuple[list[tuple[str, WebhookEvent]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"WHD#{workspace}#{endpoint_id}"}},
            "ScanIndexForward": False, "Limit": limit, "ProjectionExpression": "sk, event"}
        if after:
            kwargs["ExclusiveStartKey"] = delivery_key(workspace, endpoint_id, after)
        response = self.client.query(**kwargs)
        items = [(str(i["sk"]["S"]).removeprefix("D#"), json.loads(i["event"]["S"]))
                 for i in response.get("Items", []) if "event" in i]
        last = response.get("LastEvaluatedKey")
        return items, (str(last["sk"]["S"]).removeprefix("D#") if last else None)

    def replace_event(self, workspace: str, endpoint_id: str, delivery_id: str,
                      event: WebhookEvent) -> None:
        try:  # only a delivery still there: one expired meanwhile stays gone
            self.client.update_item(
                TableName=self._table, Key=delivery_key(workspace, endpoint_id, delivery_id),
                UpdateExpression="SET event = :e", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":e": {"S": json.dumps(event)}})
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def _endpoint_values(endpoint: Endpoint) -> dict[str, Any]:
    return {"id": endpoint.id, "workspace": endpoint.workspace, "url": endpoint.url,
            "events": list(endpoint.events), "description": endpoint.description,
            "enabled": endpoint.enabled, "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at, "disabled_reason": endpoint.disabled_reason,
            "failing_since": None if endpoint.failing_since is None
            else _num(endpoint.failing_since),
            "version": endpoint.version}


def _delivery_values(delivery: Delivery) -> dict[str, Any]:
    return {"id": delivery.id, "endpoint_id": delivery.endpoint_id,
            "workspace": delivery.workspace, "event_id": delivery.event_id,
            "event_type": delivery.event_type, "created_at": delivery.created_at,
            "status": delivery.status, "attempts": delivery.attempts,
            "first_attempt_at": None if delivery.first_attempt_at is None
            else _num(delivery.first_attempt_at),
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
            "last_attempt_at": delivery.last_attempt_at,
            "next_attempt_at": delivery.next_attempt_at}

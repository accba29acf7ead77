"""DynamoDB side of API tokens.

    token        TOKEN#<sha256(token)>   TOKEN      workspace, token_id, name, hint, created_at,
                                                    token_expires_at, last_used_at, revoked
    token ref    TOKENS#<workspace>      T#<id>     token_hash: the workspace's list of tokens

Authenticating a request is one GetItem of the token item, which holds
everything the check needs (workspace, expiry, revoked). The ref item lets a
workspace list its tokens without a scan; both are written in one transaction.
Revoking marks the token item (kept: a revoked token must be told from an
unknown one in the logs) and deletes the ref, so lists show live tokens only.
The expiry is `token_expires_at`, not `expires_at`: that name is the table's
TTL attribute, and a token must not vanish on DynamoDB's schedule.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.domain.tokens import DEFAULT_TOKEN_NAME, TokenRecord

BATCH_GET_KEYS = 100


def token_key(token_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKEN#{token_hash}"}, "sk": {"S": "TOKEN"}}


def token_ref_key(workspace: str, token_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKENS#{workspace}"}, "sk": {"S": f"T#{token_id}"}}


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if value and "S" in value else None


def _record(item: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        token_hash=str(item["pk"]["S"]).removeprefix("TOKEN#"),
        workspace=str(item["workspace"]["S"]),
        created_at=_s(item, "created_at") or "",
        # Items from before token ids carry workspace and created_at only.
        token_id=_s(item, "token_id"),
        name=_s(item, "name") or DEFAULT_TOKEN_NAME,
        hint=_s(item, "hint") or "",
        expires_at=_s(item, "token_expires_at"),
        last_used_at=_s(item, "last_used_at"),
        revoked=bool(item.get("revoked", {}).get("BOOL", False)),
    )


def _item(record: TokenRecord) -> dict[str, Any]:
    assert record.token_id is not None
    item: dict[str, Any] = {
        **token_key(record.token_hash),
        "workspace": {"S": record.workspace},
        "token_id": {"S": record.token_id},
        "name": {"S": record.name},
        "hint": {"S": record.hint},
        "created_at": {"S": record.created_at},
        "revoked": {"BOOL": False},
    }
    if record.expires_at:
        item["token_expires_at"] = {"S": record.expires_at}
    return item


def _ref(record: TokenRecord) -> dict[str, Any]:
    assert record.token_id is not None
    return {**token_ref_key(record.workspace, record.token_id),
            "token_hash": {"S": record.token_hash}}


class DynamoTokens(LowLevelTable):
    def add(self, record: TokenRecord) -> bool:
        failed = self._transact([
            {"Put": {"TableName": self._table, "Item": _item(record),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table, "Item": _ref(record)}},
        ])
        if failed is None:
            return True
        if 0 in failed:
            return False
        raise RuntimeError("storing a token was cancelled; try again")

    def by_hash(self, token_hash: str) -> TokenRecord | None:
        # Consistent: a token revoked a moment ago must read as revoked.
        item = self.client.get_item(TableName=self._table, Key=token_key(token_hash),
                                    ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def for_workspace(self, workspace: str) -> list[TokenRecord]:
        hashes: list[str] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
                TableName=self._table, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"TOKENS#{workspace}"}},
                ConsistentRead=True):
            hashes.extend(item["token_hash"]["S"] for item in page["Items"])
        records: list[TokenRecord] = []
        for start in range(0, len(hashes), BATCH_GET_KEYS):
            request: dict[str, Any] = {self._table: {
                "Keys": [token_key(h) for h in hashes[start:start + BATCH_GET_KEYS]],
                "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                records.extend(_record(item)
                               for item in response["Responses"].get(self._table, []))
                request = response.get("UnprocessedKeys") or {}
        live = [r for r in records if not r.revoked and r.workspace == workspace]
        return sorted(live, key=lambda r: (r.created_at, r.token_id or ""))

    def adopt(self, record: TokenRecord) -> bool:
        assert record.token_id is not None
        failed = self._transact([
            {"Update": {
                "TableName": self._table, "Key": token_key(record.token_hash),
                "UpdateExpression": "SET token_id = :id, #n = :name, hint = :hint",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(token_id)",
                "ExpressionAttributeNames": {"#n": "name"},
                "ExpressionAttributeValues": {":id": {"S": record.token_id},
                                              ":name": {"S": record.name},
                                              ":hint": {"S": record.hint}}}},
            {"Put": {"TableName": self._table, "Item": _ref(record)}},
        ])
        return failed is None

    def touch(self, token_hash: str, at: str) -> None:
        try:
            self.client.update_item(
                TableName=self._table, Key=token_key(token_hash),
                UpdateExpression="SET last_used_at = :at",
                # Never re-create an item deleted meanwhile.
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": {"S": at}})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def revoke(self, record: TokenRecord, at: str) -> bool:
        assert record.token_id is not None
        failed = self._transact([
            {"Update": {
                "TableName": self._table, "Key": token_key(record.token_hash),
                "UpdateExpression": "SET revoked = :yes, revoked_at = :at",
                "ConditionExpression": ("workspace = :ws AND token_id = :id"
                                        " AND (attribute_not_exists(revoked) OR revoked = :no)"),
                "ExpressionAttributeValues": {":yes": {"BOOL": True}, ":no": {"BOOL": False},
                                              ":at": {"S": at},
                                              ":ws": {"S": record.workspace},
                                              ":id": {"S": record.token_id}}}},
            {"Delete": {"TableName": self._table,
                        "Key": token_ref_key(record.workspace, record.token_id)}},
        ])
        if failed is None:
            return True
        if failed:
            return False
        raise RuntimeError("revoking a token was cancelled; try again")

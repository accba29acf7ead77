"""Connections in the table: `WS#<workspace>` / `CONN#<id>`, credentials sealed.

`version` makes credential updates conditional: two workers refreshing one
token at once cannot overwrite each other's newer refresh token.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.domain.connections import Connection, ConnectionStatus, Credentials, Provider
from chalicelib.services.ports import SealedConnection


def _key(workspace: str, connection_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"WS#{workspace}"}, "sk": {"S": f"CONN#{connection_id}"}}


def _from_item(item: dict[str, Any]) -> SealedConnection:
    error = item.get("error", {}).get("S")
    connection = Connection(
        id=item["connection_id"]["S"], workspace=item["workspace"]["S"],
        provider=Provider(item["provider"]["S"]), name=item["name"]["S"],
        status=ConnectionStatus(item["status"]["S"]), created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"], hint=item["hint"]["S"],
        credentials=Credentials(instance_url=item.get("instance_url", {}).get("S")),
        error=json.loads(error) if error else None)
    return SealedConnection(connection, item["secret"]["S"], int(item["version"]["N"]))


class DynamoConnections(LowLevelTable):
    def put(self, sealed: SealedConnection) -> None:
        c = sealed.connection
        item: dict[str, Any] = {
            **_key(c.workspace, c.id), "connection_id": {"S": c.id},
            "workspace": {"S": c.workspace}, "provider": {"S": c.provider.value},
            "name": {"S": c.name}, "status": {"S": c.status.value},
            "created_at": {"S": c.created_at}, "updated_at": {"S": c.updated_at},
            "hint": {"S": c.hint}, "secret": {"S": sealed.secret},
            "version": {"N": str(sealed.version)}}
        if c.credentials.instance_url:
            item["instance_url"] = {"S": c.credentials.instance_url}
        if c.error:
            item["error"] = {"S": json.dumps(c.error)}
        self.client.put_item(TableName=self._table, Item=item,
                             ConditionExpression="attribute_not_exists(pk)")

    def get(self, workspace: str, connection_id: str) -> SealedConnection | None:
        item = self.client.get_item(TableName=self._table, Key=_key(workspace, connection_id),
                                    ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def list(self, workspace: str) -> list[SealedConnection]:
        found: list[SealedConnection] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :c)",
            "ExpressionAttributeValues": {":pk": {"S": f"WS#{workspace}"},
                                          ":c": {"S": "CONN#"}}}
        while True:
            response = self.client.query(**kwargs)
            found.extend(_from_item(i) for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete(self, workspace: str, connection_id: str) -> None:
        self.client.delete_item(TableName=self._table, Key=_key(workspace, connection_id))

    def replace(self, sealed: SealedConnection, expected_version: int) -> bool:
        """Write new credentials/status if nobody did since `expected_version`."""
        c = sealed.connection
        names = {"#s": "status", "#v": "version", "#e": "error"}
        values: dict[str, Any] = {
            ":secret": {"S": sealed.secret}, ":status": {"S": c.status.value},
            ":hint": {"S": c.hint}, ":at": {"S": c.updated_at},
            ":v": {"N": str(expected_version)}, ":next": {"N": str(expected_version + 1)}}
        update = "SET secret = :secret, #s = :status, hint = :hint, updated_at = :at, " \
                 "#v = :next"
        if c.credentials.instance_url:
            update += ", instance_url = :url"
            values[":url"] = {"S": c.credentials.instance_url}
        if c.error:
            update += ", #e = :error"
            values[":error"] = {"S": json.dumps(c.error)}
        else:
            update += " REMOVE #e"
        try:
            self.client.update_item(
                TableName=self._table, Key=_key(c.workspace, c.id), UpdateExpression=update,
                ConditionExpression="#v = :v", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

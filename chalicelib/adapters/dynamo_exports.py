"""DynamoDB side of background exports: `EXPORT#<id>` / `META` and `PART#<n>`, for a day.

META holds the request (workspace, list, filter, columns), the status and the
running counts; each PART the object of one part and where the next starts.
A part and its counts are written in one transaction, on condition that the
part is new: a redelivered message can neither record a part twice nor count
its rows twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.services.exports import ExportPart, ExportRecord

EXPORT_RECORD_SECONDS = 86400  # as long as exports/ objects live (resources.py)


def _pk(export_id: str) -> dict[str, str]:
    return {"S": f"EXPORT#{export_id}"}


def _expires() -> dict[str, str]:
    return {"N": str(int(time.time()) + EXPORT_RECORD_SECONDS)}


class DynamoExports(LowLevelTable):
    def create_export(self, record: ExportRecord) -> None:
        self.client.put_item(TableName=self._table, Item={
            "pk": _pk(record.id), "sk": {"S": "META"},
            "workspace": {"S": record.workspace}, "list_id": {"S": record.list_id},
            "status": {"S": record.status}, "format": {"S": record.format},
            "filename": {"S": record.filename},
            "filter": {"S": json.dumps(dict(record.filter))},
            "columns": {"S": json.dumps(list(record.columns) if record.columns else None)},
            "rows": {"N": "0"}, "bytes": {"N": "0"},
            "created_at": {"S": record.created_at}, "expires_at": _expires()})

    def get_export(self, export_id: str) -> ExportRecord | None:
        item = self.client.get_item(TableName=self._table, ConsistentRead=True, Key={
            "pk": _pk(export_id), "sk": {"S": "META"}}).get("Item")
        if item is None:
            return None
        columns = json.loads(item["columns"]["S"])
        return ExportRecord(
            id=export_id, workspace=item["workspace"]["S"], list_id=item["list_id"]["S"],
            status=item["status"]["S"], format=item["format"]["S"],
            filename=item["filename"]["S"], filter=json.loads(item["filter"]["S"]),
            columns=tuple(columns) if columns else None, rows=int(item["rows"]["N"]),
            bytes=int(item["bytes"]["N"]), created_at=item["created_at"]["S"],
            finished_at=item["finished_at"]["S"] if "finished_at" in item else None)

    def get_part(self, export_id: str, number: int) -> ExportPart | None:
        item = self.client.get_item(TableName=self._table, ConsistentRead=True, Key={
            "pk": _pk(export_id), "sk": {"S": f"PART#{number:06d}"}}).get("Item")
        return None if item is None else _part(item)

    def parts(self, export_id: str) -> list[ExportPart]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :part)",
            "ExpressionAttributeValues": {":pk": _pk(export_id), ":part": {"S": "PART#"}}}
        found: list[ExportPart] = []
        while True:
            response = self.client.query(**kwargs)
            found.extend(_part(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return sorted(found, key=lambda p: p.number)
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_part(self, export_id: str, part: ExportPart) -> bool:
        item: dict[str, Any] = {
            "pk": _pk(export_id), "sk": {"S": f"PART#{part.number:06d}"},
            "number": {"N": str(part.number)}, "key": {"S": part.key},
            "rows": {"N": str(part.rows)}, "bytes": {"N": str(part.bytes)},
            "custom_keys": {"S": json.dumps(list(part.custom_keys))},
            "expires_at": _expires()}
        if part.end is not None:
            item["end"] = {"S": part.end}
        failed = self._transact([
            {"Put": {"TableName": self._table, "Item": item,
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": self._table,
                        "Key": {"pk": _pk(export_id), "sk": {"S": "META"}},
                        "UpdateExpression": "ADD #rows :rows, #bytes :bytes",
                        "ExpressionAttributeNames": {"#rows": "rows", "#bytes": "bytes"},
                        "ExpressionAttributeValues": {":rows": {"N": str(part.rows)},
                                                      ":bytes": {"N": str(part.bytes)}}}},
        ])
        if failed is None:
            return True
        if 0 in failed:
            return False
        raise RuntimeError("export part transaction conflicted: retried later")

    def finish(self, export_id: str, status: str, *, rows: int, size: int,
               finished_at: str) -> None:
        try:
            self.client.update_item(
                TableName=self._table, Key={"pk": _pk(export_id), "sk": {"S": "META"}},
                UpdateExpression="SET #status = :status, #rows = :rows, #bytes = :bytes, "
                                 "finished_at = :at",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status", "#rows": "rows",
                                          "#bytes": "bytes"},
                ExpressionAttributeValues={
                    ":status": {"S": status}, ":rows": {"N": str(rows)},
                    ":bytes": {"N": str(size)}, ":at": {"S": finished_at},
                    ":running": {"S": "running"}})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def _part(item: dict[str, Any]) -> ExportPart:
    return ExportPart(number=int(item["number"]["N"]), key=item["key"]["S"],
                      rows=int(item["rows"]["N"]), bytes=int(item["bytes"]["N"]),
                      end=item["end"]["S"] if "end" in item else None,
                      custom_keys=tuple(json.loads(item["custom_keys"]["S"])))

"""DynamoDB side of background exports: `EXPORT#<id>` / `META`, `PART#<n>`, `SEG#<n>`, a day.

META holds the request (workspace, list, filter, columns), the status, the
running counts and one attempt counter a step (`try_<step>`); each PART the
object of one part and where the next starts; each SEG a converted segment.
A part (a segment) and its counts are written in one transaction, on condition
that it is new and that the export still exists: a redelivered message can
neither record it twice nor count its rows twice, and a step still running
when the export is erased cannot bring META back. `EXPORTS#<list_id>` /
`E#<export_id>` lists a list's exports, for erasing them with the list.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.domain.errors import NotFound
from chalicelib.services.export_files import ExportPart, ExportSegment
from chalicelib.services.exports import ExportRecord

EXPORT_RECORD_SECONDS = 86400  # as long as exports/ objects live (resources.py)


def _pk(export_id: str) -> dict[str, str]:
    return {"S": f"EXPORT#{export_id}"}


def _index_key(list_id: str, export_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"EXPORTS#{list_id}"}, "sk": {"S": f"E#{export_id}"}}


def _expires() -> dict[str, str]:
    return {"N": str(int(time.time()) + EXPORT_RECORD_SECONDS)}


class DynamoExports(LowLevelTable):
    def create_export(self, record: ExportRecord) -> None:
        # The list's entry first: an export is never without it, so erasing
        # the list finds every export (an entry without its export is dropped).
        self.client.put_item(TableName=self._table, Item={
            **_index_key(record.list_id, record.id), "expires_at": _expires()})
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
            finished_at=item["finished_at"]["S"] if "finished_at" in item else None,
            converted=int(item.get("converted", {}).get("N", "0")),
            error=json.loads(item["error"]["S"]) if "error" in item else None)

    def get_part(self, export_id: str, number: int) -> ExportPart | None:
        item = self.client.get_item(TableName=self._table, ConsistentRead=True, Key={
            "pk": _pk(export_id), "sk": {"S": f"PART#{number:06d}"}}).get("Item")
        return None if item is None else _part(item)

    def parts(self, export_id: str) -> list[ExportPart]:
        return sorted((_part(i) for i in self._query(_pk(export_id), "PART#")),
                      key=lambda p: p.number)

    def segments(self, export_id: str) -> list[ExportSegment]:
        return sorted((_segment(i) for i in self._query(_pk(export_id), "SEG#")),
                      key=lambda s: s.number)

    def _query(self, pk: dict[str, str], prefix: str, *,
               keys_only: bool = False) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)"
                                                    if prefix else ""),
            "ExpressionAttributeValues": {":pk": pk, **({":prefix": {"S": prefix}}
                                                         if prefix else {})}}
        if keys_only:
            kwargs["ProjectionExpression"] = "pk, sk"
        while True:
            response = self.client.query(**kwargs)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
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
        return self._record(export_id, item, "ADD #rows :rows, #bytes :bytes",
                            {"#rows": "rows", "#bytes": "bytes"},
                            {":rows": {"N": str(part.rows)}, ":bytes": {"N": str(part.bytes)}})

    def record_segment(self, export_id: str, segment: ExportSegment) -> bool:
        item: dict[str, Any] = {
            "pk": _pk(export_id), "sk": {"S": f"SEG#{segment.number:06d}"},
            "number": {"N": str(segment.number)}, "key": {"S": segment.key},
            "sheet": {"N": str(segment.sheet)}, "rows": {"N": str(segment.rows)},
            "sheet_rows": {"N": str(segment.sheet_rows)}, "crc": {"N": str(segment.crc)},
            "raw": {"N": str(segment.raw)}, "packed": {"N": str(segment.packed)},
            "sheet_done": {"BOOL": segment.sheet_done}, "expires_at": _expires()}
        if segment.next is not None:
            item["next"] = {"S": segment.next}
        return self._record(export_id, item, "ADD converted :rows", {},
                            {":rows": {"N": str(segment.rows)}})

    def _record(self, export_id: str, item: dict[str, Any], update: str,
                names: dict[str, str], values: dict[str, Any]) -> bool:
        """Put a new part/segment item and update META's counts, in one transaction."""
        failed = self._transact([
            {"Put": {"TableName": self._table, "Item": item,
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": self._table,
                        "Key": {"pk": _pk(export_id), "sk": {"S": "META"}},
                        "UpdateExpression": update,
                        "ConditionExpression": "attribute_exists(pk)",
                        **({"ExpressionAttributeNames": names} if names else {}),
                        "ExpressionAttributeValues": values}},
        ])
        if failed is None:
            return True
        if 1 in failed:
            raise NotFound("The export was erased", details={"export_id": export_id})
        if 0 in failed:
            return False
        raise RuntimeError("export transaction conflicted: retried later")

    def count_attempt(self, export_id: str, step: str) -> int:
        try:
            response = self.client.update_item(
                TableName=self._table, Key={"pk": _pk(export_id), "sk": {"S": "META"}},
                UpdateExpression="ADD #try :one", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#try": f"try_{step}"},
                ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise NotFound("The export was erased", details={"export_id": export_id}) from exc
        return int(response["Attributes"][f"try_{step}"]["N"])

    def exports_of_list(self, list_id: str, limit: int) -> list[str]:
        response = self.client.query(
            TableName=self._table, ConsistentRead=True, Limit=limit,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"EXPORTS#{list_id}"}})
        return [item["sk"]["S"].removeprefix("E#") for item in response["Items"]]

    def delete_export(self, export_id: str, list_id: str) -> None:
        # The export's items first, its list entry last: a crash between
        # leaves the entry, so the purge finds the export again.
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in self._query(_pk(export_id), "",
                                                                     keys_only=True)]
        self._batch_delete(keys)
        self._batch_delete([_index_key(list_id, export_id)])

    def finish(self, export_id: str, status: str, *, rows: int, size: int,
               finished_at: str, error: Mapping[str, str] | None = None) -> None:
        values: dict[str, Any] = {
            ":status": {"S": status}, ":rows": {"N": str(rows)}, ":bytes": {"N": str(size)},
            ":at": {"S": finished_at}, ":running": {"S": "running"}}
        update = "SET #status = :status, #rows = :rows, #bytes = :bytes, finished_at = :at"
        if error is not None:
            update += ", #error = :error"
            values[":error"] = {"S": json.dumps(dict(error))}
        try:
            self.client.update_item(
                TableName=self._table, Key={"pk": _pk(export_id), "sk": {"S": "META"}},
                UpdateExpression=update, ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status", "#rows": "rows",
                                          "#bytes": "bytes",
                                          **({"#error": "error"} if error else {})},
                ExpressionAttributeValues=values)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def _part(item: dict[str, Any]) -> ExportPart:
    return ExportPart(number=int(item["number"]["N"]), key=item["key"]["S"],
                      rows=int(item["rows"]["N"]), bytes=int(item["bytes"]["N"]),
                      end=item["end"]["S"] if "end" in item else None,
                      custom_keys=tuple(json.loads(item["custom_keys"]["S"])))


def _segment(item: dict[str, Any]) -> ExportSegment:
    def n(name: str) -> int:
        return int(item[name]["N"])

    return ExportSegment(number=n("number"), key=item["key"]["S"], sheet=n("sheet"),
                         rows=n("rows"), sheet_rows=n("sheet_rows"), crc=n("crc"),
                         raw=n("raw"), packed=n("packed"),
                         sheet_done=item["sheet_done"]["BOOL"],
                         next=item["next"]["S"] if "next" in item else None)

"""Syncs in the table.

    sync        WS#<workspace>  SYNC#<id>                 data (JSON), lease, version
    due entry   SYNCS#DUE       <next_run_at>#<sync id>   workspace: what the dispatcher reads

The lease (`running_import_id`, `lease_until`) is written on its own, with a
condition, so two dispatchers (or a dispatcher and `POST /syncs/{id}/run`)
never start one sync twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.domain.status_writeback import MAX_REJECTIONS_SHOWN
from chalicelib.domain.syncs import Sync

DUE_PK = "SYNCS#DUE"


def _key(workspace: str, sync_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"WS#{workspace}"}, "sk": {"S": f"SYNC#{sync_id}"}}


def _due_key(next_run_at: str, sync_id: str) -> dict[str, Any]:
    return {"pk": {"S": DUE_PK}, "sk": {"S": f"{next_run_at}#{sync_id}"}}


def _from_item(item: dict[str, Any]) -> Sync:
    data = json.loads(item["data"]["S"])
    if "write_back" in item:
        data["write_back"] = json.loads(item["write_back"]["S"])
    return Sync.from_record(data, item.get("running_import_id", {}).get("S"),
                            item.get("lease_until", {}).get("S"))


class DynamoSyncs(LowLevelTable):
    def save(self, sync: Sync, *, previous: Sync | None = None) -> None:
        """Write the sync (not its lease) and move its due entry if the time changed."""
        names = {"#d": "data"}
        self.client.update_item(
            TableName=self._table, Key=_key(sync.workspace, sync.id),
            UpdateExpression="SET #d = :d, list_id = :l",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":d": {"S": json.dumps(sync.to_record())},
                                       ":l": {"S": sync.list_id}})
        old = previous.next_run_at if previous else None
        if old != sync.next_run_at:
            if old:
                self.client.delete_item(TableName=self._table, Key=_due_key(old, sync.id))
            if sync.next_run_at:
                self.client.put_item(TableName=self._table, Item={
                    **_due_key(sync.next_run_at, sync.id), "workspace": {"S": sync.workspace},
                    "sync_id": {"S": sync.id}})

    def get(self, workspace: str, sync_id: str) -> Sync | None:
        item = self.client.get_item(TableName=self._table, Key=_key(workspace, sync_id),
                                    ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def for_workspace(self, workspace: str, list_id: str | None = None) -> list[Sync]:
        found: list[Sync] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":pk": {"S": f"WS#{workspace}"}, ":s": {"S": "SYNC#"}}}
        while True:
            response = self.client.query(**kwargs)
            found.extend(_from_item(i) for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return [s for s in found if list_id is None or s.list_id == list_id]

    def delete(self, sync: Sync) -> None:
        self.client.delete_item(TableName=self._table, Key=_key(sync.workspace, sync.id))
        if sync.next_run_at:
            self.client.delete_item(TableName=self._table,
                                    Key=_due_key(sync.next_run_at, sync.id))

    def due(self, now_iso: str, limit: int = 100) -> list[tuple[str, str]]:
        """(workspace, sync id) of the syncs whose next run is at or before now."""
        response = self.client.query(
            TableName=self._table, Limit=limit,
            KeyConditionExpression="pk = :pk AND sk <= :now",
            ExpressionAttributeValues={":pk": {"S": DUE_PK}, ":now": {"S": now_iso + "~"}})
        return [(i["workspace"]["S"], i["sync_id"]["S"]) for i in response["Items"]]

    def acquire(self, sync: Sync, import_id: str, now_iso: str, until_iso: str) -> bool:
        """Take the sync's lease for a run; False if a live run holds it."""
        try:
            self.client.update_item(
                TableName=self._table, Key=_key(sync.workspace, sync.id),
                UpdateExpression="SET running_import_id = :i, lease_until = :u",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists("
                                    "running_import_id) OR lease_until < :now)",
                ExpressionAttributeValues={":i": {"S": import_id}, ":u": {"S": until_iso},
                                           ":now": {"S": now_iso}})
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, sync: Sync, import_id: str) -> bool:
        """Drop the lease if this run still holds it."""
        try:
            self.client.update_item(
                TableName=self._table, Key=_key(sync.workspace, sync.id),
                UpdateExpression="REMOVE running_import_id, lease_until",
                ConditionExpression="running_import_id = :i",
                ExpressionAttributeValues={":i": {"S": import_id}})
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # --- runs: SYNC#<id> / RUN#<import id>, newest first -----------------------------
    def add_run(self, sync: Sync, import_id: str) -> None:
        self.client.put_item(TableName=self._table, Item={
            "pk": {"S": f"SYNC#{sync.id}"}, "sk": {"S": f"RUN#{import_id}"},
            "import_id": {"S": import_id}})

    def runs(self, sync: Sync, limit: int, after: str | None) -> tuple[list[str], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"SYNC#{sync.id}"}}}
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": f"SYNC#{sync.id}"}, "sk": {"S": after}}
        response = self.client.query(**kwargs)
        last = response.get("LastEvaluatedKey")
        return ([i["import_id"]["S"] for i in response["Items"]],
                last["sk"]["S"] if last else None)

    # --- write-back state, beside the sync's data (written by jobs, not the API) ---
    def record_write_back(self, sync: Sync, written: int,
                          rejected: Sequence[Mapping[str, Any]], at: str) -> None:
        """Count what was written; keep the latest refusals (newest first, capped)."""
        item = self.client.get_item(TableName=self._table, Key=_key(sync.workspace, sync.id),
                                    ConsistentRead=True, ProjectionExpression="write_back"
                                    ).get("Item", {})
        state = json.loads(item.get("write_back", {}).get("S", "{}"))
        state["written"] = int(state.get("written", 0)) + written
        state["rejected_total"] = int(state.get("rejected_total", 0)) + len(rejected)
        state["rejected"] = [*rejected, *state.get("rejected", [])][:MAX_REJECTIONS_SHOWN]
        state["last_at"] = at
        self.client.update_item(
            TableName=self._table, Key=_key(sync.workspace, sync.id),
            UpdateExpression="SET write_back = :w", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":w": {"S": json.dumps(state)}})

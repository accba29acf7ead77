"""People index (sparse GSIs on the lead item) and the suppression list.

Suppression items (docs/suppression.md):

    entry   SUPP#<workspace>#<sha256(kind:value)>   SUPP     the lookup: BatchGetItem
    listing SUPPS#<workspace>                       S#<id>   newest first (ids sort by time)

Both are written and deleted in one transaction; the entry's condition makes
a second POST of the same value find the first entry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import lead_sk, shard_pk
from chalicelib.domain.ids import shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import (
    PERSON_ATTRIBUTES,
    HashedPerson,
    PersonKey,
    person_attributes,
    person_index_value,
)
from chalicelib.domain.suppression import Suppression
from chalicelib.resources import STACK

_INDEX_OF = {i.partition_key: i.name for i in STACK.table.indexes}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def entry_key(workspace: str, hash_: str) -> dict[str, Any]:
    return {"pk": _s(f"SUPP#{workspace}#{hash_}"), "sk": _s("SUPP")}


def listing_key(workspace: str, suppression_id: str) -> dict[str, Any]:
    return {"pk": _s(f"SUPPS#{workspace}"), "sk": _s(f"S#{suppression_id}")}


def _item(entry: Suppression) -> dict[str, Any]:
    item = {"id": _s(entry.id), "kind": _s(entry.kind), "hash": _s(entry.hash),
            "reason": _s(entry.reason), "created_at": _s(entry.created_at)}
    if entry.masked is not None:
        item["masked"] = _s(entry.masked)
    return item


def _entry(item: dict[str, Any]) -> Suppression:
    masked = item.get("masked")
    return Suppression(id=item["id"]["S"], kind=item["kind"]["S"], hash=item["hash"]["S"],
                       reason=item["reason"]["S"], created_at=item["created_at"]["S"],
                       masked=masked["S"] if masked else None)


class DynamoPeople(LowLevelTable):
    # --- people index -------------------------------------------------------
    def lead_keys(self, workspace: str, key: PersonKey | HashedPerson) -> list[tuple[str, str]]:
        attribute = PERSON_ATTRIBUTES[key.kind]
        found: list[tuple[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            args: dict[str, Any] = {
                "TableName": self._table, "IndexName": _INDEX_OF[attribute],
                "KeyConditionExpression": "#a = :v",
                "ExpressionAttributeNames": {"#a": attribute},
                "ExpressionAttributeValues": {":v": _s(person_index_value(workspace, key))}}
            if start:
                args["ExclusiveStartKey"] = start
            response = self.client.query(**args)
            for item in response["Items"]:
                list_id = str(item["pk"]["S"]).split("#")[1]
                found.append((list_id, str(item["sk"]["S"])[2:]))
            start = response.get("LastEvaluatedKey")
            if not start:
                return found

    def index_leads(self, lst: LeadList, leads: Sequence[Lead]) -> int:
        """Set the people-index attributes of leads stored before the index existed,
        each only if unchanged since read (a writer since has set them itself)."""
        written = 0
        for lead in leads:
            attributes = person_attributes(lst.workspace, lead)
            if not attributes:
                continue
            try:
                self.client.update_item(
                    TableName=self._table,
                    Key={"pk": _s(shard_pk(lst.id, shard_of(lead.id, lst.shards))),
                         "sk": _s(lead_sk(lead.id))},
                    UpdateExpression="SET " + ", ".join(f"{a} = :{a}" for a in attributes),
                    ConditionExpression="updated_at = :u",
                    ExpressionAttributeValues={":u": _s(lead.updated_at),
                                               **{f":{a}": _s(v) for a, v in attributes.items()}})
                written += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return written

    # --- suppression list ---------------------------------------------------
    def add(self, workspace: str, entry: Suppression) -> tuple[Suppression, bool]:
        key = entry_key(workspace, entry.hash)
        failed = self._transact([
            {"Put": {"TableName": self._table, "Item": {**key, **_item(entry)},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table,
                     "Item": {**listing_key(workspace, entry.id), **_item(entry)}}},
        ])
        if failed is None:
            return entry, True
        item = self.client.get_item(TableName=self._table, Key=key,
                                    ConsistentRead=True).get("Item")
        if item is None:  # cancelled by a racing delete: try once more
            return self.add(workspace, entry)
        return _entry(item), False

    def get(self, workspace: str, suppression_id: str) -> Suppression | None:
        item = self.client.get_item(TableName=self._table,
                                    Key=listing_key(workspace, suppression_id),
                                    ConsistentRead=True).get("Item")
        return _entry(item) if item else None

    def page(self, workspace: str, limit: int,
             after: str | None) -> tuple[list[Suppression], str | None]:
        args: dict[str, Any] = {
            "TableName": self._table, "ScanIndexForward": False, "Limit": limit,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":pk": _s(f"SUPPS#{workspace}"), ":s": _s("S#")}}
        if after:
            args["ExclusiveStartKey"] = listing_key(workspace, after)
        response = self.client.query(**args)
        items = [_entry(i) for i in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return items, (str(last["sk"]["S"])[2:] if last else None)

    def delete(self, workspace: str, entry: Suppression) -> None:
        self._transact([
            {"Delete": {"TableName": self._table, "Key": listing_key(workspace, entry.id)}},
            {"Delete": {"TableName": self._table, "Key": entry_key(workspace, entry.hash),
                        "ConditionExpression": "attribute_not_exists(pk) OR id = :id",
                        "ExpressionAttributeValues": {":id": _s(entry.id)}}},
        ])

    def find(self, workspace: str, hashes: Collection[str]) -> dict[str, Suppression]:
        entries = [_entry(item) for item in
                   self._batch_get([entry_key(workspace, h) for h in sorted(set(hashes))])]
        return {entry.hash: entry for entry in entries}

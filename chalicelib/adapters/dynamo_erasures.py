"""Erasure records and the items a lead leaves beside itself.

    erasure       ERASURES#<workspace>   E#<erasure_id>   the audit record (no personal data)

A lead's timeline (`A#<lead>#…`) and follow-ups (`F#<lead>#…`) live in its
shard partition; each activity may have a feed entry (`FEED#<ws>#<day>`,
`<at>#<activity id>`) and each follow-up a due-queue entry: all found from
the lead's own partition, so nothing is scanned.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import shard_pk
from chalicelib.adapters.dynamo_outreach import DUE_SHARDS, feed_day_pk
from chalicelib.domain.erasure import Erasure
from chalicelib.domain.ids import shard_of
from chalicelib.domain.lead_list import LeadList


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _key(workspace: str, erasure_id: str) -> dict[str, Any]:
    return {"pk": _s(f"ERASURES#{workspace}"), "sk": _s(f"E#{erasure_id}")}


class DynamoErasures(LowLevelTable):
    def save(self, erasure: Erasure) -> None:
        self.client.put_item(TableName=self._table, Item={
            **_key(erasure.workspace, erasure.id),
            "record": _s(json.dumps(erasure.to_record()))})

    def get(self, workspace: str, erasure_id: str) -> Erasure | None:
        item = self.client.get_item(TableName=self._table, Key=_key(workspace, erasure_id),
                                    ConsistentRead=True).get("Item")
        return Erasure.from_record(json.loads(item["record"]["S"])) if item else None

    def erase_lead_items(self, lst: LeadList, lead_id: str) -> int:
        """Delete a lead's timeline, follow-ups, their feed and due entries; items deleted."""
        pk = shard_pk(lst.id, shard_of(lead_id, lst.shards))
        keys: list[dict[str, Any]] = []
        for prefix in (f"A#{lead_id}#", f"F#{lead_id}#"):
            kwargs: dict[str, Any] = {
                "TableName": self._table, "ConsistentRead": True,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
                "ExpressionAttributeValues": {":pk": _s(pk), ":p": _s(prefix)}}
            while True:
                response = self.client.query(**kwargs)
                for item in response["Items"]:
                    keys.append({"pk": item["pk"], "sk": item["sk"]})
                    keys.extend(self._beside(lst, item))
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        self._batch_delete(keys)
        return len(keys)

    @staticmethod
    def _beside(lst: LeadList, item: dict[str, Any]) -> list[dict[str, Any]]:
        sk = str(item["sk"]["S"])
        if sk.startswith("A#") and "at" in item:
            at, activity_id = str(item["at"]["S"]), sk.rsplit("#", 1)[1]
            return [{"pk": _s(feed_day_pk(lst.workspace, at[:10])),
                     "sk": _s(f"{at}#{activity_id}")}]
        if sk.startswith("F#") and "due_at" in item:
            follow_up_id = str(item["follow_up_id"]["S"])
            return [{"pk": _s(f"FOLLOWUPS#DUE#{shard_of(follow_up_id, DUE_SHARDS)}"),
                     "sk": _s(f"{item['due_at']['S']}#{follow_up_id}")}]
        return []

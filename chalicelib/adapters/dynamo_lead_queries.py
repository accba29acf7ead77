"""Reading a list through its indexes: driven pages, leads by id, tallies.

    status / email status / source   GSI  ix_<field> = <list>#<shard>#<value>, sk L#<lead>
    tag                              posting item  TAG#<list>#<shard>#<tag>, sk L#<lead>
    search word                      posting item  W#<list>#<shard>#<word[:2]>, sk <word>#L#<lead>
    tallies                          the shard counter items LEAD#<list>#<shard> / #COUNT
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamo_import_leads import read_leads
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import COUNTER_SK, shard_pk
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import (
    GSI_FOR_FILTER,
    gsi_value,
    tag_posting_pk,
    word_posting_pk,
)
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.lead_query import Driver
from chalicelib.resources import STACK

_INDEX_NAME = {index.partition_key: index.name for index in STACK.table.indexes}
BATCH_GET_KEYS = 100


class DynamoLeadIndex(LowLevelTable):
    def index_page(self, lst: LeadList, driver: Driver, shard: int, after_sk: str | None,
                   limit: int) -> tuple[list[str], bool]:
        """Keys (`L#<lead>`, or `<word>#L#<lead>`) of one shard's page of the
        driver's index, and whether more follow."""
        kwargs: dict[str, Any] = {"TableName": self._table, "Limit": limit,
                                  "ProjectionExpression": "sk"}
        if driver.field == "tag":
            key = {"pk": {"S": tag_posting_pk(lst.id, shard, driver.value)}}
            kwargs.update(KeyConditionExpression="pk = :h", ConsistentRead=True,
                          ExpressionAttributeValues={":h": key["pk"]})
        elif driver.field == "q":
            key = {"pk": {"S": word_posting_pk(lst.id, shard, driver.value)}}
            kwargs.update(KeyConditionExpression="pk = :h AND begins_with(sk, :w)",
                          ConsistentRead=True,
                          ExpressionAttributeValues={":h": key["pk"],
                                                     ":w": {"S": driver.value}})
        else:
            attribute = GSI_FOR_FILTER[driver.field]
            key = {attribute: {"S": gsi_value(lst.id, shard, driver.value)},
                   "pk": {"S": shard_pk(lst.id, shard)}}
            kwargs.update(IndexName=_INDEX_NAME[attribute],
                          KeyConditionExpression="#h = :h",
                          ExpressionAttributeNames={"#h": attribute},
                          ExpressionAttributeValues={":h": key[attribute]})
        if after_sk is not None:
            kwargs["ExclusiveStartKey"] = {**key, "sk": {"S": after_sk}}
        response = self.client.query(**kwargs)
        return [item["sk"]["S"] for item in response["Items"]], "LastEvaluatedKey" in response

    def get_leads(self, lst: LeadList, lead_ids: Sequence[str]) -> dict[str, Lead]:
        return read_leads(self.client, self._table, lst, lead_ids)

    def tallies(self, lst: LeadList) -> tuple[int, Counter[str]]:
        """(leads, tallies) added up over the list's shard counters."""
        keys = [{"pk": {"S": shard_pk(lst.id, shard)}, "sk": {"S": COUNTER_SK}}
                for shard in range(lst.shards)]
        total = 0
        tallies: Counter[str] = Counter()
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request: dict[str, Any] = {self._table: {"Keys": keys[start:start + BATCH_GET_KEYS],
                                                     "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    for name, value in item.items():
                        if name == "n":
                            total += int(value["N"])
                        elif "N" in value and ":" in name:
                            tallies[name] += int(value["N"])
                request = response.get("UnprocessedKeys") or {}
        return total, tallies

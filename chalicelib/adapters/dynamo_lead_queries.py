"""Reading a list through its indexes: driven pages, leads by id, tallies.

    status / email status / source   GSI  ix_<field> = <list>#<shard>#<value>, sk L#<lead>
    tag                              posting item  TAG#<list>#<shard>#<tag>, sk L#<lead>
    search word                      posting item  W#<list>#<shard>#<word[:2]>, sk <word>#L#<lead>
    filterable custom field          posting item  CF#<list>#<shard>#<key>#<generation>,
                                                   sk <sortable value>#L#<lead>
    campaign                         posting item  CP#<list>#<shard>#<campaign>, sk L#<lead>
    last activity / next follow-up   posting item  LA# | NF#<list>#<shard>, sk <time>#L#<lead>
    tallies                          the shard counter items LEAD#<list>#<shard> / #COUNT
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamo_import_leads import read_leads
from chalicelib.adapters.dynamo_lead_index import pack, posting_key
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import COUNTER_SK, shard_pk
from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.ids import shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import (
    GSI_FOR_FILTER,
    campaign_posting_pk,
    gsi_value,
    postings,
    tag_posting_pk,
    time_posting_pk,
    word_posting_pk,
)
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.lead_query import Driver
from chalicelib.resources import STACK

_INDEX_NAME = {index.partition_key: index.name for index in STACK.table.indexes}
BATCH_GET_KEYS = 100


def _range(lo: str, hi: str) -> tuple[str, dict[str, Any]]:
    """Key condition on `<encoded value>#L#<lead>` sort keys for lo <= value <= hi."""
    top = hi + "#\uffff"  # every key of the value `hi`
    if lo and lo == hi:
        return " AND begins_with(sk, :lo)", {":lo": {"S": lo + "#"}}
    if lo and hi:
        return " AND sk BETWEEN :lo AND :hi", {":lo": {"S": lo}, ":hi": {"S": top}}
    if lo:
        return " AND sk >= :lo", {":lo": {"S": lo}}
    return " AND sk <= :hi", {":hi": {"S": top}}


class DynamoLeadIndex(LowLevelTable):
    def index_page(self, lst: LeadList, driver: Driver, shard: int, after_sk: str | None,
                   limit: int) -> tuple[list[str], bool]:
        """Keys (`L#<lead>`, or `<word>#L#<lead>`) of one shard's page of the
        driver's index, and whether more follow."""
        kwargs: dict[str, Any] = {"TableName": self._table, "Limit": limit,
                                  "ProjectionExpression": "sk"}
        if driver.field in ("tag", "campaign"):
            pk = (tag_posting_pk if driver.field == "tag" else campaign_posting_pk)(
                lst.id, shard, driver.value)
            key = {"pk": {"S": pk}}
            kwargs.update(KeyConditionExpression="pk = :h", ConsistentRead=True,
                          ExpressionAttributeValues={":h": key["pk"]})
        elif driver.field == "q":
            key = {"pk": {"S": word_posting_pk(lst.id, shard, driver.value)}}
            kwargs.update(KeyConditionExpression="pk = :h AND begins_with(sk, :w)",
                          ConsistentRead=True,
                          ExpressionAttributeValues={":h": key["pk"],
                                                     ":w": {"S": driver.value}})
        elif driver.field in ("cf", "time"):
            key = {"pk": {"S": f"CF#{lst.id}#{shard:03d}#{driver.value}"
                          if driver.field == "cf"
                          else time_posting_pk(lst.id, shard, driver.value)}}
            condition, values = _range(driver.lo, driver.hi)
            kwargs.update(KeyConditionExpression="pk = :h" + condition, ConsistentRead=True,
                          ExpressionAttributeValues={":h": key["pk"], **values})
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

    def index_existing(self, lst: LeadList, leads: Sequence[Lead],
                       before: Sequence[FilterableField]) -> list[str]:
        """Take each lead's postings from what the fields `before` gave to what
        the list's fields give now, if the lead is still at the version read;
        the ids of leads that changed meanwhile (read them again).

        One transaction a group: a ConditionCheck on each lead's version and
        its posting puts and deletes, so a posting is never written for a
        value the lead no longer holds.
        """
        work: list[tuple[Lead, list[dict[str, Any]]]] = []
        for lead in leads:
            shard = shard_of(lead.id, lst.shards)
            now = postings(lead, shard, lst.filterable_fields)
            was = postings(lead, shard, before)
            ops = [{"Put": {"TableName": self._table, "Item": posting_key(p)}}
                   for p in sorted(now - was)]
            ops += [{"Delete": {"TableName": self._table, "Key": posting_key(p)}}
                    for p in sorted(was - now)]
            if ops:
                work.append((lead, ops))
        changed: list[str] = []
        for group in pack((1 + len(ops), 0) for _, ops in work):
            items: list[dict[str, Any]] = []
            owner: dict[int, str] = {}
            for i in group:
                lead, ops = work[i]
                owner[len(items)] = lead.id
                items.append({"ConditionCheck": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": shard_pk(lst.id, shard_of(lead.id, lst.shards))},
                            "sk": {"S": f"L#{lead.id}"}},
                    "ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":v": {"N": str(lead.version)}}}})
                items.extend(ops)
            while items:
                failed = self._transact(items)
                if failed is None:
                    break
                stale = {owner[n] for n in failed if n in owner}
                if not stale:
                    raise RuntimeError("indexing transaction cancelled by a conflict")
                changed.extend(stale)
                items, owner = _without(items, owner, stale)
        return changed


def _without(items: list[dict[str, Any]], owner: dict[int, str],
             leads: set[str]) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The transaction items minus those of `leads` (each lead's check, then its puts)."""
    kept: list[dict[str, Any]] = []
    kept_owner: dict[int, str] = {}
    current = ""
    for n, item in enumerate(items):
        current = owner.get(n, current)
        if current in leads:
            continue
        if n in owner:
            kept_owner[len(kept)] = current
        kept.append(item)
    return kept, kept_owner

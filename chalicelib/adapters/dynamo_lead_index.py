"""The index and tally writes that travel with a lead's own write (low-level items).

Every writer of leads (one lead, a batch, an import chunk, a bulk action, a
verdict) puts these items in the same transaction as the lead, or — for an
import chunk's new leads — in the same batch as the lead and the chunk's
exactly-once counting transaction. The entries are computed by
domain/lead_index.py from the lead alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalicelib.adapters.dynamo_models import COUNTER_SK, shard_pk
from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.ids import shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import Posting, ShardTally, posting_changes, postings
from chalicelib.domain.lead_list import LeadList


def posting_key(p: Posting) -> dict[str, Any]:
    """A posting's item: its key is all it holds."""
    return {"pk": {"S": p.pk}, "sk": {"S": p.sk}}


def posting_ops(table: str, lst: LeadList, before: Lead | None,
                after: Lead | None) -> list[dict[str, Any]]:
    """Transaction items taking the lead's postings from `before` to `after`."""
    lead = after if after is not None else before
    if lead is None:
        return []
    puts, deletes = posting_changes(before, after, shard_of(lead.id, lst.shards),
                                    lst.filterable_fields)
    return ([{"Put": {"TableName": table, "Item": posting_key(p)}} for p in puts]
            + [{"Delete": {"TableName": table, "Key": posting_key(p)}} for p in deletes])


def posting_puts(lst: LeadList, leads: Iterable[Lead]) -> list[dict[str, Any]]:
    """Items to batch-write beside new leads (idempotent: a redelivery puts them again)."""
    return [posting_key(p) for lead in leads
            for p in sorted(postings(lead, shard_of(lead.id, lst.shards),
                                     lst.filterable_fields))]


def posting_keys(lead: Lead, shard: int,
                 fields: Sequence[FilterableField] = ()) -> list[tuple[str, str]]:
    """Every posting a lead may have, for the purge: with the words of *all* its
    custom fields, so words of a text field unmarked meanwhile go too."""
    every_text = tuple(FilterableField(k, "text", 0, True) for k in lead.custom_fields
                       if k not in {f.key for f in fields})
    keys = postings(lead, shard, fields) | postings(lead, shard, every_text)
    return [(p.pk, p.sk) for p in sorted(keys)]


def counter_update(table: str, list_id: str, shard: int, leads: int,
                   delta: Mapping[str, int]) -> dict[str, Any] | None:
    """One shard counter's update: lead count and tallies, all ADDs (commutative)."""
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if leads:
        parts.append("n :n")
        values[":n"] = {"N": str(leads)}
    for i, (name, value) in enumerate(sorted((k, v) for k, v in delta.items() if v)):
        parts.append(f"#t{i} :t{i}")
        names[f"#t{i}"] = name
        values[f":t{i}"] = {"N": str(value)}
    if not parts:
        return None
    update: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": shard_pk(list_id, shard)}, "sk": {"S": COUNTER_SK}},
        "UpdateExpression": "ADD " + ", ".join(parts),
        "ExpressionAttributeValues": values}
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def tally_updates(table: str, list_id: str, tally: ShardTally) -> list[dict[str, Any]]:
    """The counter updates of a ShardTally, one per touched shard."""
    items: list[dict[str, Any]] = []
    for shard in tally.shards():
        item = counter_update(table, list_id, shard, tally.leads.get(shard, 0),
                              tally.deltas.get(shard, Counter()))
        if item is not None:
            items.append(item)
    return items


def lead_tally(lst: LeadList, before: Lead | None, after: Lead | None) -> ShardTally:
    tally = ShardTally.empty()
    lead = after if after is not None else before
    if lead is not None:
        tally.add(shard_of(lead.id, lst.shards), before, after)
    return tally


TRANSACTION_LIMIT = 100  # TransactWriteItems' item limit


def pack(costs: Iterable[tuple[int, int]], *, fixed: int = 0,
         limit: int = TRANSACTION_LIMIT) -> list[list[int]]:
    """Group positions into transactions: each group's items plus one counter
    update per shard it touches (plus `fixed` items) stay within the limit.

    `costs` gives (items, shard) per position, in order; a position that
    could not fit even alone gets a group of its own (the caller splits it).
    """
    groups: list[list[int]] = []
    group: list[int] = []
    items = 0
    shards: set[int] = set()
    for position, (cost, shard) in enumerate(costs):
        grown = items + cost + len(shards | {shard}) + fixed
        if group and grown > limit:
            groups.append(group)
            group, items, shards = [], 0, set()
        group.append(position)
        items += cost
        shards.add(shard)
    if group:
        groups.append(group)
    return groups

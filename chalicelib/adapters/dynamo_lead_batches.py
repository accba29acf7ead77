"""DynamoDB side of `POST /leads/batch` and bulk actions on lead ids: many leads a request.

One lead at a time cost a transaction and, for a duplicate, a claim read each
(1,000 duplicates: 27 s). Here the identities are looked up 100 a BatchGetItem
first, so known duplicates cost nothing more, and new leads are written as
many a transaction as fit in 100 items — claim, lead, activity and postings
each, plus each touched shard's counter (count and tallies) —
so a lead and its claim are still written together or not at all. A group
cancelled by a claim taken meanwhile names it (our order comes back), and the
rest of the group is written again.

A batch that outlives its request's time budget records its outcome in parts:
`BATCH#<id>` / `META` (what to expect) and `PART#<n>` (the outcomes of one
part), expiring after a day.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamo_import_leads import ImportLeadWrites
from chalicelib.adapters.dynamo_lead_index import pack, posting_ops, tally_updates
from chalicelib.adapters.dynamo_lead_items import activity_model, lead_to_model
from chalicelib.adapters.dynamo_models import claim_key
from chalicelib.domain.activity import Activity
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import ShardTally
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.ports import SaveOutcome

BATCH_RECORD_SECONDS = 86400


class DynamoLeadBatches(ImportLeadWrites):
    def insert_leads(self, lst: LeadList,
                     leads: Sequence[tuple[Lead, Activity]]) -> list[SaveOutcome]:
        """Insert each lead unless the list holds its identity; one outcome per lead.

        A claim already naming the lead's own id is a redelivery's: saved.
        """
        claims = [claim_key(lst.id, fingerprint(str(lead.identity_value(lst.identity))))
                  for lead, _ in leads]
        holders = self._claim_holders(claims)
        outcomes: list[SaveOutcome | None] = [None] * len(leads)
        todo: list[int] = []
        first_of: dict[tuple[str, str], int] = {}
        repeats: list[tuple[int, int]] = []  # (a later lead, the first with its identity)
        for i, (lead, _) in enumerate(leads):
            holder = holders.get(claims[i])
            if holder is not None:
                outcomes[i] = SaveOutcome("saved" if holder == lead.id else "duplicate",
                                          holder, holder == lead.id)
            elif claims[i] in first_of:  # one transaction may not hold one claim twice
                repeats.append((i, first_of[claims[i]]))
            else:
                first_of[claims[i]] = i
                todo.append(i)
        costs = [(3 + len(posting_ops(self._table, lst, None, leads[i][0])),
                  shard_of(leads[i][0].id, lst.shards)) for i in todo]
        for positions in pack(costs):
            group = [todo[p] for p in positions]
            conflicts = 0
            while group:
                taken = self._insert_group(lst, leads, claims, group)
                if taken == []:  # a conflict with another transaction: back off, retry
                    conflicts += 1
                    if conflicts > 5:
                        raise RuntimeError("lead batch transaction kept conflicting")
                    time.sleep(0.05 * 2 ** conflicts)
                    continue
                if taken is None:
                    for i in group:
                        outcomes[i] = SaveOutcome("saved", leads[i][0].id, True)
                    break
                now_held = self._claim_holders([claims[i] for i in taken])
                for i in taken:
                    holder = now_held.get(claims[i], "")
                    outcomes[i] = SaveOutcome("saved" if holder == leads[i][0].id
                                              else "duplicate", holder, False)
                group = [i for i in group if i not in taken]
        for i, first in repeats:
            earlier = outcomes[first]
            outcomes[i] = SaveOutcome("duplicate", earlier.lead_id if earlier else "", False)
        return [o for o in outcomes if o is not None]

    def _insert_group(self, lst: LeadList, leads: Sequence[tuple[Lead, Activity]],
                      claims: list[tuple[str, str]], group: list[int]) -> list[int] | None:
        """Write the group in one transaction; None, or the leads whose claim was taken."""
        items: list[dict[str, Any]] = []
        claim_of: dict[int, int] = {}  # item position -> lead index
        tally = ShardTally.empty()
        for i in group:
            lead, activity = leads[i]
            claim_of[len(items)] = i
            items.append({"Put": {
                "TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                "Item": {"pk": {"S": claims[i][0]}, "sk": {"S": claims[i][1]},
                         "lead_id": {"S": lead.id}}}})
            item = lead_to_model(lead, lst.shards, lst.workspace).serialize()
            items.append({"Put": {"TableName": self._table, "Item": item}})
            items.append({"Put": {"TableName": self._table,
                                  "Item": activity_model(lst, activity).serialize()}})
            items.extend(posting_ops(self._table, lst, None, lead))
            tally.add(shard_of(lead.id, lst.shards), None, lead)
        items.extend(tally_updates(self._table, lst.id, tally))
        failed = self._transact(items)
        if failed is None:
            return None
        taken = [claim_of[p] for p in sorted(failed) if p in claim_of]
        if not taken:  # cancelled by a conflict, not a claim: try again
            return []
        return taken

    # --- batch records -------------------------------------------------------
    def start_batch(self, batch_id: str, workspace: str, list_id: str, *, parts: int,
                    total: int) -> None:
        self.client.put_item(TableName=self._table, Item={
            "pk": {"S": f"BATCH#{batch_id}"}, "sk": {"S": "META"},
            "workspace": {"S": workspace}, "list_id": {"S": list_id},
            "parts": {"N": str(parts)}, "total": {"N": str(total)},
            "expires_at": {"N": str(int(time.time()) + BATCH_RECORD_SECONDS)}})

    def save_batch_part(self, batch_id: str, part: int,
                        results: Sequence[dict[str, Any]]) -> None:
        """The outcomes of one part (written again, identically, on redelivery)."""
        self.client.put_item(TableName=self._table, Item={
            "pk": {"S": f"BATCH#{batch_id}"}, "sk": {"S": f"PART#{part:05d}"},
            "results": {"S": json.dumps(list(results), separators=(",", ":"))},
            "expires_at": {"N": str(int(time.time()) + BATCH_RECORD_SECONDS)}})

    def get_batch(self, batch_id: str) -> tuple[dict[str, Any], list[list[dict[str, Any]]]] | None:
        """(workspace, list_id, parts) and the parts recorded so far, or None."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"BATCH#{batch_id}"}}}
        meta: dict[str, Any] | None = None
        parts: list[list[dict[str, Any]]] = []
        while True:
            response = self.client.query(**kwargs)
            for item in response["Items"]:
                if item["sk"]["S"] == "META":
                    meta = {"workspace": item["workspace"]["S"],
                            "list_id": item["list_id"]["S"], "parts": int(item["parts"]["N"]),
                            "total": int(item["total"]["N"])}
                else:
                    parts.append(json.loads(item["results"]["S"]))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return None if meta is None else (meta, parts)

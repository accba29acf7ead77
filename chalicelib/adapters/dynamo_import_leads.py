"""DynamoDB side of an import chunk's leads: claim and save new ones, update existing ones.

The chunk path speaks the low-level API: it batches what can be batched
(claim look-ups, lead reads and writes) and keeps what must be conditional,
the identity claim and the update of an existing lead, in transactions of up
to 100 items whose cancellation reasons come back in our order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_lead_index import (
    TRANSACTION_LIMIT,
    pack,
    posting_ops,
    posting_puts,
    tally_updates,
)
from chalicelib.adapters.dynamo_lead_items import (
    activity_model,
    lead_from_model,
    lead_to_model,
)
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import LeadModel, claim_key, shard_pk
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import ShardTally, stepping_stones
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.ports import LeadUpdate, SaveOutcome

CLAIM_TXN_ITEMS = 100  # DynamoDB's TransactWriteItems limit
BATCH_GET_KEYS = 100


class UpdateCancelled(RuntimeError):
    """A lead-update transaction cancelled by a conflict, not a changed lead: retry later."""


def read_leads(client: Any, table: str, lst: LeadList,
               lead_ids: Sequence[str]) -> dict[str, Lead]:
    """The leads that exist among `lead_ids`, read consistently, 100 a request."""
    keys = [(shard_pk(lst.id, shard_of(i, lst.shards)), f"L#{i}")
            for i in dict.fromkeys(lead_ids)]
    found: dict[str, Lead] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}}
                                    for pk, sk in keys[start:start + BATCH_GET_KEYS]],
                           "ConsistentRead": True}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                lead = lead_from_model(LeadModel.from_raw_data(item))
                found[lead.id] = lead
            request = response.get("UnprocessedKeys") or {}
    return found


class ImportLeadWrites(LowLevelTable):
    def save_leads(self, lst: LeadList, leads: Sequence[Lead]) -> list[SaveOutcome]:
        """Claim each lead's identity and store the winners; one outcome per lead.

        Lead ids are deterministic per (import, row), so a claim that already
        names our lead id is our own from an earlier delivery: saved, not duplicate.
        """
        claims = [claim_key(lst.id, fingerprint(str(lead.identity_value(lst.identity))))
                  for lead in leads]
        outcomes: list[SaveOutcome | None] = [None] * len(leads)
        won: list[int] = []
        ours_before: list[int] = []
        # Claim groups of up to 100 in one transaction each. Only when one is
        # cancelled (someone holds a claim) look claims up first, for the rest
        # of the chunk too: a first import makes no look-ups, a re-import
        # spends one cancelled transaction per chunk before looking up.
        look_up_first = False
        for start in range(0, len(leads), CLAIM_TXN_ITEMS):
            group = list(range(start, min(len(leads), start + CLAIM_TXN_ITEMS)))
            if not look_up_first and self._claim_group(claims, leads, group):
                won.extend(group)
                continue
            look_up_first = True
            holders = self._claim_holders([claims[i] for i in group])
            free: list[int] = []
            for i in group:
                holder = holders.get(claims[i])
                if holder is None:
                    free.append(i)
                elif holder == leads[i].id:
                    ours_before.append(i)
                else:
                    outcomes[i] = SaveOutcome("duplicate", holder, False)
            if free and self._claim_group(claims, leads, free):
                won.extend(free)
            elif free:  # claimed by someone else meanwhile: settle them one by one
                won.extend(self._claim_one_by_one(claims, leads, free, outcomes))
        # A redelivered chunk may have claimed but crashed before writing the lead.
        missing = self._missing_leads(lst, [leads[i] for i in ours_before])
        write = [leads[i] for i in won] + [leads[i] for i in ours_before
                                           if leads[i].id in missing]
        self._write_leads(lst, write)
        for i in won + ours_before:
            outcomes[i] = SaveOutcome("saved", leads[i].id, True)
        return [o for o in outcomes if o is not None]

    def _claim_holders(self, claims: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        holders: dict[tuple[str, str], str] = {}
        unique = list(dict.fromkeys(claims))
        for start in range(0, len(unique), BATCH_GET_KEYS):
            keys = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique[start:start + 100]]
            request = {self._table: {"Keys": keys, "ConsistentRead": True,
                                     "ProjectionExpression": "pk, sk, lead_id"}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table, []):
                    holders[(item["pk"]["S"], item["sk"]["S"])] = item["lead_id"]["S"]
                request = response.get("UnprocessedKeys") or {}
        return holders

    def _claim_group(self, claims: list[tuple[str, str]], leads: Sequence[Lead],
                     group: list[int]) -> bool:
        """Claim every identity of the group in one transaction; False if cancelled."""
        items = [{"Put": {
            "TableName": self._table,
            "Item": {"pk": {"S": claims[i][0]}, "sk": {"S": claims[i][1]},
                     "lead_id": {"S": leads[i].id}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }} for i in group]
        return self._transact(items) is None

    def _claim_one_by_one(self, claims: list[tuple[str, str]],
                          leads: Sequence[Lead], group: list[int],
                          outcomes: list[SaveOutcome | None]) -> list[int]:
        won: list[int] = []
        for i in group:
            item = {"pk": {"S": claims[i][0]}, "sk": {"S": claims[i][1]},
                    "lead_id": {"S": leads[i].id}}
            try:
                self.client.put_item(TableName=self._table, Item=item,
                                     ConditionExpression="attribute_not_exists(pk)")
                won.append(i)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                holder = self._claim_holders([claims[i]]).get(claims[i], "")
                if holder == leads[i].id:
                    won.append(i)
                else:
                    outcomes[i] = SaveOutcome("duplicate", holder, False)
        return won

    def _missing_leads(self, lst: LeadList, leads: list[Lead]) -> set[str]:
        if not leads:
            return set()
        present: set[str] = set()
        keys = [(shard_pk(lst.id, shard_of(lead.id, lst.shards)), f"L#{lead.id}")
                for lead in leads]
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request = {self._table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}}
                                              for pk, sk in keys[start:start + 100]],
                                     "ConsistentRead": True, "ProjectionExpression": "sk"}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                present.update(i["sk"]["S"][2:] for i in response["Responses"].get(self._table, []))
                request = response.get("UnprocessedKeys") or {}
        return {lead.id for lead in leads} - present

    def _write_leads(self, lst: LeadList, leads: Sequence[Lead]) -> None:
        # No activity item per imported lead: the lead's `source` is its
        # "imported" entry (half the writes, and 1 WCU a lead less on AWS).
        # Its postings go in the same batches (puts are idempotent, so a
        # redelivered chunk writes them again harmlessly); its tallies are
        # counted with the chunk, exactly once (DynamoImports.finish_chunk).
        self._batch_put([lead_to_model(lead, lst.shards, lst.workspace).serialize()
                         for lead in leads] + posting_puts(lst, leads))

    def get_leads(self, lst: LeadList, lead_ids: Sequence[str]) -> dict[str, Lead]:
        """The leads that exist among `lead_ids`, read consistently, by id."""
        return read_leads(self.client, self._table, lst, lead_ids)

    def update_leads(self, lst: LeadList, updates: Sequence[LeadUpdate]) -> list[bool]:
        """Write each update if its lead is still at `before.version`; False where not.

        Transactions of as many leads as fit in 100 items: lead, activity
        entry and posting changes each, plus one counter update (count and
        tallies) per shard touched. A cancelled one names the leads that
        changed; the others are written again without them.
        """
        written = [False] * len(updates)
        updates = [self._shrunk(lst, u) for u in updates]
        costs = [(2 + len(posting_ops(self._table, lst, u.before, u.after)),
                  shard_of(u.before.id, lst.shards)) for u in updates]
        for packed in pack(costs):
            group = packed
            while group:
                stale = self._update_group(lst, updates, group)
                if not stale:
                    for i in group:
                        written[i] = True
                    break
                group = [i for i in group if i not in stale]
        return written

    def _shrunk(self, lst: LeadList, update: LeadUpdate) -> LeadUpdate:
        """An update too big for one transaction, after writing its first step.

        Each step (the tags it drops, then the tags it adds) is a consistent
        lead of its own; if one cannot be written (the lead changed), the
        update is returned as it was and its version check fails as it would have.
        """
        if 3 + len(posting_ops(self._table, lst, update.before, update.after)) \
                <= TRANSACTION_LIMIT:
            return update
        before = update.before
        for stone in stepping_stones(update.before, update.after):
            step = stone.with_changes({"version": before.version + 1},
                                      updated_at=stone.updated_at)
            items = [{"Put": {
                "TableName": self._table,
                "Item": lead_to_model(step, lst.shards, lst.workspace).serialize(),
                "ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": {"N": str(before.version)}}}},
                *posting_ops(self._table, lst, before, step)]
            tally = ShardTally.empty()
            tally.add(shard_of(step.id, lst.shards), before, step)
            if self._transact(items + tally_updates(self._table, lst.id, tally)) is not None:
                return update  # the lead changed: its version check fails as it would have
            before = step
        after = update.after.with_changes({"version": before.version + 1},
                                          updated_at=update.after.updated_at)
        return LeadUpdate(before, after, update.activity)

    def _update_group(self, lst: LeadList, updates: Sequence[LeadUpdate],
                      group: list[int]) -> set[int]:
        """One transaction; the indexes of the leads whose version check failed."""
        items: list[dict[str, Any]] = []
        lead_puts: dict[int, int] = {}  # item position -> update index
        tally = ShardTally.empty()
        for i in group:
            update = updates[i]
            lead_puts[len(items)] = i
            items.append({"Put": {
                "TableName": self._table,
                "Item": lead_to_model(update.after, lst.shards, lst.workspace).serialize(),
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": {"N": str(update.before.version)}}}})
            items.append({"Put": {"TableName": self._table,
                                  "Item": activity_model(lst, update.activity).serialize()}})
            items.extend(posting_ops(self._table, lst, update.before, update.after))
            tally.add(shard_of(update.before.id, lst.shards), update.before, update.after)
        items.extend(tally_updates(self._table, lst.id, tally))
        if len(items) > TRANSACTION_LIMIT:  # one lead changing ~50 tags out and in
            raise UpdateCancelled("a lead update too large for one transaction")
        failed = self._transact(items)
        if failed is None:
            return set()
        stale = {lead_puts[n] for n in failed if n in lead_puts}
        if not stale:  # cancelled for another reason (conflict, throttling): retry the chunk
            raise UpdateCancelled("an import update transaction was cancelled")
        return stale

"""DynamoDB repository: lists, leads, claims, counters, activity (tokens: dynamo_tokens.py).

Every write that changes which leads a list holds is one transaction of
claim + lead + shard counter (+ activity, + the lead's postings and tallies:
adapters/dynamo_lead_index.py), so the dedupe rule, the count, the indexes
and the stats can never disagree with the leads, whatever crashes or retries
happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamo_lead_index import (
    lead_tally,
    posting_keys,
    posting_ops,
    tally_updates,
)
from chalicelib.adapters.dynamo_lead_items import (
    activity_model,
    claim_item,
    key_of,
    lead_from_model,
    lead_to_model,
    list_from_model,
)
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import (
    COUNTER_SK,
    LEAD_SK_PREFIX,
    ActivityModel,
    ClaimModel,
    CounterModel,
    LeadModel,
    ListModel,
    _Table,
    claim_key,
    json_dict,
    lead_sk,
    list_key,
    shard_pk,
)
from chalicelib.domain.activity import Activity
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.errors import Conflict, DuplicateLead
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import stepping_stones
from chalicelib.domain.lead_list import LeadList


class TransactionFailed(RuntimeError):
    """A lead transaction cancelled by a conflict with another one (not a condition)."""


class DynamoRepository(LowLevelTable):
    # --- lists --------------------------------------------------------------
    def create_list(self, lst: LeadList) -> None:
        self._list_model(lst).save(condition=ListModel.pk.does_not_exist())

    def save_list(self, lst: LeadList) -> None:
        self._list_model(lst).save(condition=ListModel.pk.exists())

    def _list_model(self, lst: LeadList) -> ListModel:
        pk, sk = list_key(lst.workspace, lst.id)
        return ListModel(
            pk, sk, list_id=lst.id, workspace=lst.workspace, name=lst.name,
            identity=lst.identity, default_region=lst.default_region, shards=lst.shards,
            created_at=lst.created_at, updated_at=lst.updated_at, copy_status=lst.copy_status,
            filterable={"fields": [f.to_record() for f in lst.filterable_fields],
                        "next": lst.next_generation, "history": list(lst.field_history)}
            if lst.filterable_fields or lst.field_history else None,
        )

    def get_list(self, workspace: str, list_id: str) -> LeadList | None:
        pk, sk = list_key(workspace, list_id)
        try:
            return list_from_model(ListModel.get(pk, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def query_lists(self, workspace: str, limit: int,
                    after_sk: str | None) -> tuple[list[LeadList], str | None]:
        pk, _ = list_key(workspace, "")
        last_key = {"pk": {"S": pk}, "sk": {"S": after_sk}} if after_sk else None
        result = ListModel.query(pk, ListModel.sk.startswith("LIST#"), limit=limit,
                                 last_evaluated_key=last_key)
        items = [list_from_model(m) for m in result]
        last = result.last_evaluated_key
        return items, (last["sk"]["S"] if last else None)

    def delete_list_record(self, lst: LeadList) -> None:
        pk, sk = list_key(lst.workspace, lst.id)
        ListModel(pk, sk).delete()

    def lead_counts(self, lists: Iterable[LeadList]) -> dict[str, int]:
        keys: list[tuple[str, str]] = []
        counts: dict[str, int] = {}
        for lst in lists:
            counts[lst.id] = 0
            keys.extend((shard_pk(lst.id, s), COUNTER_SK) for s in range(lst.shards))
        for item in CounterModel.batch_get(keys):
            list_id = item.pk.split("#")[1]
            counts[list_id] += int(item.n or 0)
        return counts

    # --- leads --------------------------------------------------------------
    def insert_lead(self, lst: LeadList, lead: Lead, activity: Activity) -> None:
        """Add a lead, refused by DynamoDB if the list already holds its identity.

        One transaction: claim (must not exist), lead, activity, the lead's
        postings and its shard counter's count and tallies.
        """
        identity_value = lead.identity_value(lst.identity)
        if identity_value is None:  # guarded by the service; a bug if it happens
            raise ValueError("lead has no identity value")
        claim = claim_item(lst, identity_value, lead.id)
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "Item": claim.serialize(),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table,
                     "Item": lead_to_model(lead, lst.shards, lst.workspace).serialize(),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table,
                     "Item": activity_model(lst, activity).serialize()}},
            *posting_ops(self._table, lst, None, lead),
            *tally_updates(self._table, lst.id, lead_tally(lst, None, lead)),
        ]
        failed = self._transact(items)
        if failed is None:
            return
        holder = self._claim_holder(claim)
        if 0 in failed and holder not in (None, lead.id):
            raise DuplicateLead(holder or "", lst.identity)
        raise TransactionFailed(f"inserting lead {lead.id} was cancelled")

    def _claim_holder(self, claim: ClaimModel) -> str | None:
        try:
            return str(ClaimModel.get(claim.pk, claim.sk, consistent_read=True).lead_id)
        except DoesNotExist:
            return None

    def get_lead(self, lst: LeadList, lead_id: str) -> Lead | None:
        try:
            model = LeadModel.get(shard_pk(lst.id, shard_of(lead_id, lst.shards)),
                                  lead_sk(lead_id), consistent_read=True)
        except DoesNotExist:
            return None
        return lead_from_model(model)

    def update_lead(self, lst: LeadList, before: Lead, after: Lead,
                    activities: list[Activity],
                    extra: Sequence[dict[str, Any]] = ()) -> Lead:
        """Save `after` if nobody changed the lead since `before` was read.

        A change too big for one transaction with its postings (up to 50 tags
        out and 50 in, and its words) goes in steps, each a consistent lead:
        the tags it removes, the tags it adds, then the rest with the activity.
        `extra` transaction items (low-level, e.g. an event's idempotency put)
        go in the last step; a failed condition of theirs is a Conflict too.
        """
        if self._transaction_size(lst, before, after, activities) + len(extra) > 100:
            for stone in stepping_stones(before, after):
                before = self.update_lead(lst, before, stone, [])
        saved = after.with_changes({"version": before.version + 1}, updated_at=after.updated_at)
        old_id = before.identity_value(lst.identity)
        new_id = saved.identity_value(lst.identity)
        items: list[dict[str, Any]] = []
        if new_id != old_id and new_id is not None:
            items.append({"Put": {"TableName": self._table,
                                  "Item": claim_item(lst, new_id, saved.id).serialize(),
                                  "ConditionExpression": "attribute_not_exists(pk)"}})
        items.append({"Put": {"TableName": self._table,
                              "Item": lead_to_model(saved, lst.shards, lst.workspace).serialize(),
                              "ConditionExpression": "#v = :v",
                              "ExpressionAttributeNames": {"#v": "version"},
                              "ExpressionAttributeValues": {":v": {"N": str(before.version)}}}})
        if new_id != old_id and old_id is not None:
            items.append({"Delete": {"TableName": self._table,
                                     "Key": key_of(claim_item(lst, old_id, saved.id)),
                                     "ConditionExpression": "lead_id = :me",
                                     "ExpressionAttributeValues": {":me": {"S": saved.id}}}})
        items.extend({"Put": {"TableName": self._table,
                              "Item": activity_model(lst, a).serialize()}} for a in activities)
        items.extend(posting_ops(self._table, lst, before, saved))
        items.extend(tally_updates(self._table, lst.id, lead_tally(lst, before, saved)))
        items.extend(extra)
        failed = self._transact(items)
        if failed is None:
            return saved
        if new_id != old_id and new_id is not None:
            holder = self._claim_holder(claim_item(lst, new_id, saved.id))
            if holder not in (None, saved.id):
                raise DuplicateLead(holder or "", lst.identity)
        if failed:  # a condition failed: the lead (or a claim) changed meanwhile
            raise Conflict("The lead changed or was deleted meanwhile; read it again",
                           code="edit_conflict")
        raise Conflict("The lead is being changed by another request; try again",
                       code="edit_conflict")

    def _transaction_size(self, lst: LeadList, before: Lead, after: Lead,
                          activities: list[Activity]) -> int:
        return 4 + len(activities) + len(posting_ops(self._table, lst, before, after))

    def delete_lead(self, lst: LeadList, lead: Lead) -> bool:
        """Remove a lead, its claim and postings; False if it was already gone or changed."""
        identity_value = lead.identity_value(lst.identity)
        items: list[dict[str, Any]] = [
            {"Delete": {"TableName": self._table,
                        "Key": key_of(lead_to_model(lead, lst.shards, lst.workspace)),
                        "ConditionExpression": "#v = :v",
                        "ExpressionAttributeNames": {"#v": "version"},
                        "ExpressionAttributeValues": {":v": {"N": str(lead.version)}}}}]
        if identity_value is not None:
            items.append({"Delete": {"TableName": self._table,
                                     "Key": key_of(claim_item(lst, identity_value, lead.id)),
                                     "ConditionExpression": "lead_id = :me",
                                     "ExpressionAttributeValues": {":me": {"S": lead.id}}}})
        items.extend(posting_ops(self._table, lst, lead, None))
        items.extend(tally_updates(self._table, lst.id, lead_tally(lst, lead, None)))
        failed = self._transact(items)
        if failed is None:
            return True
        if failed:
            return False
        raise TransactionFailed(f"deleting lead {lead.id} was cancelled by a conflict")

    def walk_leads(self, lst: LeadList, start: LeadPosition | None = None,
                   page_size: int = 200) -> Iterator[tuple[Lead, LeadPosition]]:
        """Every lead of a list, shard by shard, each with the position just after it."""
        position = start or LeadPosition(0)
        for shard in range(position.shard, lst.shards):
            pk = shard_pk(lst.id, shard)
            after = position.sk if shard == position.shard else None
            last_key = {"pk": {"S": pk}, "sk": {"S": after}} if after else None
            for model in LeadModel.query(pk, LeadModel.sk.startswith(LEAD_SK_PREFIX),
                                         last_evaluated_key=last_key, page_size=page_size):
                yield lead_from_model(model), LeadPosition(shard, model.sk)

    # --- activity -----------------------------------------------------------
    def add_activity(self, lst: LeadList, activity: Activity) -> None:
        activity_model(lst, activity).save()

    def query_activity(self, lst: LeadList, lead_id: str, limit: int,
                       after_sk: str | None) -> tuple[list[Activity], str | None]:
        pk = shard_pk(lst.id, shard_of(lead_id, lst.shards))
        last_key = {"pk": {"S": pk}, "sk": {"S": after_sk}} if after_sk else None
        result = ActivityModel.query(pk, ActivityModel.sk.startswith(f"A#{lead_id}#"),
                                     scan_index_forward=False, limit=limit,
                                     last_evaluated_key=last_key)
        items = [Activity(id=m.activity_id, lead_id=m.lead_id, type=m.type, at=m.at,
                          data=json_dict(m.data)) for m in result]
        last = result.last_evaluated_key
        return items, (last["sk"]["S"] if last else None)

    # --- purge --------------------------------------------------------------
    def purge_postings_page(self, pk: str, page_size: int = 100) -> int:
        """Delete up to one page of a posting partition; returns items deleted."""
        items: list[Any] = list(_Table.query(pk, limit=page_size))
        with _Table.batch_write() as batch:
            for item in items:
                batch.delete(_Table(pk, item.sk))
        return len(items)

    def purge_shard_page(self, list_id: str, identity: str, shard: int,
                         fields: Sequence[FilterableField] = (), page_size: int = 100) -> int:
        """Delete up to one page of a deleted list's shard; returns items deleted.

        Deleting from the head of the shard each time makes the purge resumable
        and idempotent with no cursor: an empty shard is finished.
        """
        pk = shard_pk(list_id, shard)
        items: list[Any] = list(_Table.query(pk, limit=page_size))
        if not items:
            return 0
        keys = [(pk, item.sk) for item in items]
        lead_keys = [k for k in keys if k[1].startswith(LEAD_SK_PREFIX)]
        if lead_keys:
            for model in LeadModel.batch_get(lead_keys):
                value = getattr(model, identity)
                if value:
                    keys.append(claim_key(list_id, fingerprint(value)))
                # Postings live under their own keys: found from the lead.
                keys.extend(posting_keys(lead_from_model(model), shard, fields))
        with _Table.batch_write() as batch:
            for item_pk, item_sk in keys:
                batch.delete(_Table(item_pk, item_sk))
        return len(items)

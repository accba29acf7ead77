"""DynamoDB side of verification: domain verdicts (the shared cache), lead verdicts, counts.

    domain verdict   DOMAIN#<domain>     DNS             status, reason, checked_at,
                                                         fresh_until, lease_until, expires_at (TTL)
    import batch     IMPORT#<import_id>  VERIFY#<batch>  marker: the batch was counted

`expires_at` is the table's TTL attribute: DynamoDB deletes the item some time
after it (up to days later), so freshness is read from `fresh_until`, never
from the item's mere presence.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_lead_index import pack, tally_updates
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import (
    ActivityModel,
    activity_sk,
    import_key,
    lead_sk,
    shard_pk,
)
from chalicelib.domain.activity import Activity
from chalicelib.domain.deliverability import DomainVerdict
from chalicelib.domain.ids import shard_of
from chalicelib.domain.lead_index import ShardTally, gsi_value
from chalicelib.domain.statuses import VERDICT_STATUSES
from chalicelib.domain.verification import LeadSnapshot, VerdictUpdate

TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
# Gone verdicts linger a day past freshness (TTL clean-up), markers as long as
# SQS could redeliver a message (14 days at most).
VERDICT_RETENTION_SECONDS = 86400
MARKER_RETENTION_SECONDS = 15 * 86400


def domain_key(domain: str) -> dict[str, Any]:
    return {"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "DNS"}}


def _is_conditional_failure(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


class DynamoVerification(LowLevelTable):
    # --- domain verdicts ----------------------------------------------------------
    def get_many(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        items = self._batch_get([domain_key(d) for d in domains],
                                "pk, #s, reason, checked_at, fresh_until", {"#s": "status"})
        result: dict[str, DomainVerdict] = {}
        for item in items:
            if "status" not in item:  # a claim whose look-up has not finished
                continue
            domain = item["pk"]["S"].removeprefix("DOMAIN#")
            result[domain] = DomainVerdict(domain, item["status"]["S"], item["reason"]["S"],
                                           int(item["checked_at"]["N"]),
                                           int(item["fresh_until"]["N"]))
        return result

    def _claim_item(self, domain: str, now: int, lease_seconds: int) -> dict[str, Any]:
        return {
            "TableName": self._table, "Key": domain_key(domain),
            "UpdateExpression": "SET lease_until = :until, expires_at = :gone",
            "ConditionExpression": "(attribute_not_exists(fresh_until) OR fresh_until <= :now)"
                                   " AND (attribute_not_exists(lease_until)"
                                   " OR lease_until <= :now)",
            "ExpressionAttributeValues": {
                ":now": {"N": str(now)}, ":until": {"N": str(now + lease_seconds)},
                ":gone": {"N": str(now + lease_seconds + VERDICT_RETENTION_SECONDS)}}}

    def claim(self, domain: str, now: int, lease_seconds: int) -> bool:
        """Take the right to look a domain up; False if its verdict is fresh or leased."""
        try:
            self.client.update_item(**self._claim_item(domain, now, lease_seconds))
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def claim_many(self, domains: Sequence[str], now: int, lease_seconds: int) -> list[str]:
        """Claim domains in transactions of 100; the ones this call got.

        A cancelled transaction says, item by item and in our order, which
        conditions failed (another worker's lease or fresh verdict): the rest
        are claimed again without them.
        """
        claimed: list[str] = []
        for start in range(0, len(domains), TRANSACTION_ITEMS):
            group = list(domains[start:start + TRANSACTION_ITEMS])
            while len(group) > 1:
                failed = self._transact([
                    {"Update": self._claim_item(d, now, lease_seconds)} for d in group])
                if failed is None:
                    claimed.extend(group)
                    group = []
                elif not failed:  # a conflict, not a condition: settle one by one
                    break
                else:
                    group = [d for i, d in enumerate(group) if i not in failed]
            claimed.extend(d for d in group if self.claim(d, now, lease_seconds))
        return claimed

    def put_many(self, verdicts: Sequence[DomainVerdict]) -> None:
        # Plain puts (batched): they also drop the lease, which only we hold.
        self._batch_put([self._verdict_item(v) for v in verdicts])

    @staticmethod
    def _verdict_item(verdict: DomainVerdict) -> dict[str, Any]:
        return {**domain_key(verdict.domain),
                "status": {"S": verdict.status}, "reason": {"S": verdict.reason},
                "checked_at": {"N": str(verdict.checked_at)},
                "fresh_until": {"N": str(verdict.expires_at)},
                "expires_at": {"N": str(verdict.expires_at + VERDICT_RETENTION_SECONDS)}}

    # --- leads --------------------------------------------------------------------
    @staticmethod
    def _lead_key(list_id: str, shards: int, lead_id: str) -> dict[str, Any]:
        return {"pk": {"S": shard_pk(list_id, shard_of(lead_id, shards))},
                "sk": {"S": lead_sk(lead_id)}}

    def snapshots(self, list_id: str, shards: int,
                  lead_ids: Collection[str]) -> dict[str, LeadSnapshot]:
        keys = [self._lead_key(list_id, shards, i) for i in dict.fromkeys(lead_ids)]
        items = self._batch_get(keys, "lead_id, email, #s, email_status, email_status_reason, "
                                      "version", {"#s": "status"})
        return {item["lead_id"]["S"]: LeadSnapshot(
            email=item.get("email", {}).get("S"), status=item["status"]["S"],
            email_status=item["email_status"]["S"],
            email_status_reason=item.get("email_status_reason", {}).get("S"),
            version=int(item.get("version", {}).get("N", "0"))) for item in items}

    def apply_many(self, list_id: str, shards: int,
                   updates: Sequence[VerdictUpdate]) -> list[bool]:
        """Write verdicts in transactions of up to 100 items; True where written.

        One request for many leads instead of one each: a transaction
        costs twice the write units of plain writes, but at $1.25 per million
        write units that is ~$0.13 per million leads, and it divides the
        requests (and their latency) by ~80. Each transaction also moves the
        stats tallies of the shards it touches (one counter update each), so
        the counts change with the verdicts, never apart from them. A
        cancelled transaction (a lead edited meanwhile) names the items whose
        condition failed: the others are written again without them, and only
        those leads report False.
        """
        results = [False] * len(updates)
        costs = [(1 + len(u.activities), shard_of(u.lead_id, shards)) for u in updates]
        for group in pack(costs):
            self._apply_group(list_id, shards, updates, group, results)
        return results

    def _apply_group(self, list_id: str, shards: int, updates: Sequence[VerdictUpdate],
                     group: list[int], results: list[bool]) -> None:
        """One transaction; when cancelled, drop the leads whose condition failed, again."""
        while group:
            items: list[dict[str, Any]] = []
            owner: dict[int, int] = {}  # the lead (index) of each lead/activity item
            for index in group:
                for item in self._lead_items(list_id, shards, updates[index]):
                    owner[len(items)] = index
                    items.append(item)
            items.extend(self._tally_items(list_id, shards, [updates[i] for i in group]))
            failed = self._transact(items)
            if failed is None:
                for index in group:
                    results[index] = True
                return
            changed = {owner[i] for i in failed if i in owner}
            if not changed:  # a conflict with another transaction: lead by lead
                for index in group:
                    results[index] = self.apply(list_id, shards, updates[index])
                return
            group = [index for index in group if index not in changed]

    def _lead_items(self, list_id: str, shards: int,
                    update: VerdictUpdate) -> list[dict[str, Any]]:
        return [{"Update": self._lead_update(list_id, shards, update)},
                *({"Put": {"TableName": self._table,
                           "Item": self._activity_item(list_id, shards, a)}}
                  for a in update.activities)]

    def _tally_items(self, list_id: str, shards: int,
                     updates: Sequence[VerdictUpdate]) -> list[dict[str, Any]]:
        tally = ShardTally.empty()
        for update in updates:
            tally.deltas.setdefault(shard_of(update.lead_id, shards), Counter()).update(
                update.tally_change())
        return tally_updates(self._table, list_id, tally)

    def apply(self, list_id: str, shards: int, update: VerdictUpdate) -> bool:
        """Write a verdict if the lead is still at the version read; False otherwise."""
        items = [*self._lead_items(list_id, shards, update),
                 *self._tally_items(list_id, shards, [update])]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def _lead_update(self, list_id: str, shards: int, update: VerdictUpdate) -> dict[str, Any]:
        shard = shard_of(update.lead_id, shards)
        # The GSI keys move with the fields (domain/lead_index.index_attributes).
        sets = ["email_status = :es", "email_status_reason = :er", "email_checked_at = :at",
                "updated_at = :at", "version = :next", "ix_email = :ie"]
        values: dict[str, Any] = {
            ":ie": {"S": gsi_value(list_id, shard, update.email_status)},
            ":es": {"S": update.email_status}, ":er": {"S": update.email_status_reason},
            ":at": {"S": update.checked_at}, ":v": {"N": str(update.version)},
            ":next": {"N": str(update.version + 1)}}
        names: dict[str, str] = {}
        if update.lead_status is not None:
            sets.extend(["#s = :ls", "ix_status = :is"])
            values[":ls"] = {"S": update.lead_status}
            values[":is"] = {"S": gsi_value(list_id, shard, update.lead_status)}
            names["#s"] = "status"
        lead_update: dict[str, Any] = {
            "TableName": self._table, "Key": self._lead_key(list_id, shards, update.lead_id),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": values}
        if names:
            lead_update["ExpressionAttributeNames"] = names
        return lead_update

    @staticmethod
    def _activity_item(list_id: str, shards: int, activity: Activity) -> dict[str, Any]:
        model = ActivityModel(shard_pk(list_id, shard_of(activity.lead_id, shards)),
                              activity_sk(activity.lead_id, activity.id),
                              activity_id=activity.id, lead_id=activity.lead_id,
                              type=activity.type, at=activity.at, data=activity.data or None)
        item: dict[str, Any] = model.serialize()
        return item

    # --- import counts ------------------------------------------------------------
    def record_batch(self, import_id: str, batch: str, deltas: Mapping[str, int]) -> bool:
        """Add a batch's verdicts to its import once; False if counted before."""
        pk, sk = import_key(import_id)
        counted = {s: n for s, n in deltas.items() if s in VERDICT_STATUSES and n}
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
            "Item": {"pk": {"S": pk}, "sk": {"S": f"VERIFY#{batch}"},
                     "expires_at": {"N": str(int(time.time()) + MARKER_RETENTION_SECONDS)}}}}]
        if counted:
            items.append({"Update": {
                "TableName": self._table, "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": "ADD " + ", ".join(f"v_{s} :{s}" for s in counted),
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {f":{s}": {"N": str(n)}
                                              for s, n in counted.items()}}})
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

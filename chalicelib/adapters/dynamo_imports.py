"""DynamoDB side of imports: import records, and saving a chunk of leads.

The chunk path speaks the low-level API: it batches what can be batched
(claim look-ups, lead and activity writes) and keeps the one thing that must
be conditional, the identity claim, in transactions of up to 100 claims whose
cancellation reasons come back in our order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import (
    COUNTER_SK,
    ImportModel,
    chunk_key,
    claim_key,
    import_key,
    import_ref_key,
    shard_pk,
)
from chalicelib.adapters.dynamo_repository import _lead_to_model
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.imports import ImportCounts, ImportJob, verification_counts
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList

CLAIM_TXN_ITEMS = 100  # DynamoDB's TransactWriteItems limit
BATCH_GET_KEYS = 100


@dataclass(frozen=True)
class SaveOutcome:
    status: str  # "saved" | "duplicate"
    lead_id: str
    new: bool  # this call (or an earlier delivery of it) created the lead


def _to_job(m: ImportModel) -> ImportJob:
    return ImportJob(
        id=m.import_id, workspace=m.workspace, list_id=m.list_id, filename=m.filename,
        status=m.status, created_at=m.created_at, updated_at=m.updated_at,
        object_key=m.object_key, default_region=m.default_region,
        auto_start=m.auto_start == "true", sheet=m.sheet, mapping=m.mapping or {},
        file=m.file, preview=m.preview or (), sample_summary=m.sample_summary,
        total_rows=None if m.total_rows is None else int(m.total_rows),
        chunks_total=None if m.chunks_total is None else int(m.chunks_total),
        chunks_done=int(m.chunks_done or 0),
        counts=ImportCounts(int(m.saved or 0), int(m.duplicates or 0), int(m.invalid or 0)),
        started_at=m.started_at, finished_at=m.finished_at, error=m.error,
        verification=verification_counts(int(m.saved or 0), {
            "valid": int(m.v_valid or 0), "risky": int(m.v_risky or 0),
            "invalid": int(m.v_invalid or 0), "unknown": int(m.v_unknown or 0),
            "none": int(m.v_none or 0)}),
    )


class DynamoImports(LowLevelTable):
    # --- import records -----------------------------------------------------
    def create(self, job: ImportJob) -> None:
        pk, sk = import_key(job.id)
        ImportModel(pk, sk, import_id=job.id, workspace=job.workspace, list_id=job.list_id,
                    filename=job.filename, status=job.status, created_at=job.created_at,
                    updated_at=job.updated_at, object_key=job.object_key,
                    default_region=job.default_region,
                    auto_start="true" if job.auto_start else "false", sheet=job.sheet,
                    mapping=dict(job.mapping) or None).save(
            condition=ImportModel.pk.does_not_exist())
        ref_pk, ref_sk = import_ref_key(job.list_id, job.id)
        self.client.put_item(TableName=self._table,
                             Item={"pk": {"S": ref_pk}, "sk": {"S": ref_sk},
                                   "import_id": {"S": job.id}})

    def get(self, import_id: str) -> ImportJob | None:
        pk, sk = import_key(import_id)
        try:
            return _to_job(ImportModel.get(pk, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def update(self, import_id: str, *, expect_status: Iterable[str] | None = None,
               **fields: Any) -> bool:
        """Set fields (None removes); with expect_status, only from those statuses."""
        pk, sk = import_key(import_id)
        model = ImportModel(pk, sk)
        actions = [getattr(ImportModel, k).set(v) if v is not None
                   else getattr(ImportModel, k).remove() for k, v in fields.items()]
        condition = ImportModel.pk.exists()
        if expect_status is not None:
            condition &= ImportModel.status.is_in(*expect_status)
        try:
            model.update(actions=actions, condition=condition)
        except Exception as exc:  # pynamodb wraps the conditional failure
            if "ConditionalCheckFailed" in str(exc):
                return False
            raise
        return True

    def list_ids(self, list_id: str, limit: int, after: str | None) -> tuple[list[str], str | None]:
        pk, _ = import_ref_key(list_id, "")
        kwargs: dict[str, Any] = {
            "TableName": self._table, "Limit": limit, "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": after}}
        response = self.client.query(**kwargs)
        last = response.get("LastEvaluatedKey")
        return ([i["import_id"]["S"] for i in response["Items"]],
                last["sk"]["S"] if last else None)

    # --- chunks -------------------------------------------------------------
    def chunk_done(self, import_id: str, number: int) -> bool:
        pk, sk = chunk_key(import_id, number)
        response = self.client.get_item(TableName=self._table, ConsistentRead=True,
                                        Key={"pk": {"S": pk}, "sk": {"S": sk}})
        return "Item" in response

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
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False
        return True

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
        self._batch_put([_lead_to_model(lead, lst.shards).serialize() for lead in leads])

    def finish_chunk(self, job: ImportJob, lst: LeadList, number: int, counts: ImportCounts,
                     shard_increments: dict[int, int], no_email: int = 0) -> bool:
        """Record a chunk's counts exactly once; False if it was recorded before."""
        pk, sk = chunk_key(job.id, number)
        ipk, isk = import_key(job.id)
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                     "Item": {"pk": {"S": pk}, "sk": {"S": sk},
                              "saved": {"N": str(counts.saved)},
                              "duplicates": {"N": str(counts.duplicates)},
                              "invalid": {"N": str(counts.invalid)}}}},
            {"Update": {"TableName": self._table,
                        "Key": {"pk": {"S": ipk}, "sk": {"S": isk}},
                        # v_none: saved leads with no email have nothing to verify.
                        "UpdateExpression": "ADD saved :s, duplicates :d, invalid :i, "
                                            "chunks_done :one, v_none :n",
                        "ExpressionAttributeValues": {
                            ":s": {"N": str(counts.saved)}, ":d": {"N": str(counts.duplicates)},
                            ":i": {"N": str(counts.invalid)}, ":one": {"N": "1"},
                            ":n": {"N": str(no_email)}}}},
        ]
        for shard, n in sorted(shard_increments.items()):
            if n:
                items.append({"Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": shard_pk(lst.id, shard)}, "sk": {"S": COUNTER_SK}},
                    "UpdateExpression": "ADD n :n",
                    "ExpressionAttributeValues": {":n": {"N": str(n)}}}})
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    return False
            raise
        return True


"""DynamoDB side of imports: import records, the registry of active imports, chunks.

The leads a chunk writes are in dynamo_import_leads.py. Active imports
(analysing, running) are listed under one partition, IMPORTS#ACTIVE, for the
watchdog: an entry is written before the status says "active" and removed
after it says "finished", so a crash between leaves an extra entry (the
watchdog drops it), never an active import the watchdog cannot see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamo_import_leads import ImportLeadWrites
from chalicelib.adapters.dynamo_lead_index import tally_updates
from chalicelib.adapters.dynamo_models import (
    ACTIVE_IMPORTS_PK,
    ImportModel,
    chunk_key,
    chunk_verdicts_key,
    import_key,
    import_ref_key,
)
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.deliverability import DomainVerdict
from chalicelib.domain.errors import NotFound
from chalicelib.domain.import_job import ImportCounts, ImportJob, verification_counts
from chalicelib.domain.import_state import ImportMode, ImportState
from chalicelib.domain.lead_index import ShardTally
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.statuses import VERDICT_STATUSES
from chalicelib.resources import IMPORT_RETENTION_DAYS

_RETENTION_SECONDS = IMPORT_RETENTION_DAYS * 86400
# A pin item stays well under DynamoDB's 400 KB item limit: past this many
# bytes of verdicts, the rest of a chunk's domains are verified in the background.
PIN_MAX_BYTES = 300_000


class ChunkNotCounted(RuntimeError):
    """The chunk's counting transaction was cancelled by a conflict: retry the chunk."""


def _int(value: Any) -> int:
    return int(value or 0)


def _to_job(m: ImportModel) -> ImportJob:
    return ImportJob(
        id=m.import_id, workspace=m.workspace, list_id=m.list_id, filename=m.filename,
        status=ImportState(m.status), created_at=m.created_at, updated_at=m.updated_at,
        object_key=m.object_key, default_region=m.default_region,
        auto_start=m.auto_start == "true", sheet=m.sheet,
        source=m.source_kind or "file", mode=ImportMode(m.mode or "skip"),
        mapping=m.mapping or {},
        file=m.file, preview=m.preview or (), sample_summary=m.sample_summary,
        total_rows=None if m.total_rows is None else int(m.total_rows),
        chunks_total=None if m.chunks_total is None else int(m.chunks_total),
        chunks_done=_int(m.chunks_done),
        counts=ImportCounts(_int(m.saved), _int(m.duplicates), _int(m.invalid),
                            _int(m.updated), _int(m.unchanged)),
        started_at=m.started_at, finished_at=m.finished_at,
        progressed_at=m.progressed_at, resumes=_int(m.resumes), error=m.error,
        verification=verification_counts(_int(m.saved), {
            "valid": _int(m.v_valid), "risky": _int(m.v_risky),
            "invalid": _int(m.v_invalid), "unknown": _int(m.v_unknown),
            "none": _int(m.v_none)}),
    )


class DynamoImports(ImportLeadWrites):
    # Epoch seconds; tests move it to see records expire.
    now: Callable[[], float] = staticmethod(time.time)

    def _expires_at(self) -> int:
        return int(self.now()) + _RETENTION_SECONDS

    # --- import records -----------------------------------------------------
    def create(self, job: ImportJob) -> None:
        pk, sk = import_key(job.id)
        expires = self._expires_at()
        ImportModel(pk, sk, import_id=job.id, workspace=job.workspace, list_id=job.list_id,
                    expires_at=expires,
                    filename=job.filename, status=job.status.value,
                    created_at=job.created_at, source_kind=job.source, mode=job.mode.value,
                    updated_at=job.updated_at, object_key=job.object_key,
                    default_region=job.default_region,
                    auto_start="true" if job.auto_start else "false", sheet=job.sheet,
                    mapping=dict(job.mapping) or None,
                    file=dict(job.file) if job.file else None).save(
            condition=ImportModel.pk.does_not_exist())
        ref_pk, ref_sk = import_ref_key(job.list_id, job.id)
        self.client.put_item(TableName=self._table,
                             Item={"pk": {"S": ref_pk}, "sk": {"S": ref_sk},
                                   "import_id": {"S": job.id},
                                   "expires_at": {"N": str(expires)}})

    def get(self, import_id: str) -> ImportJob | None:
        """The import, or None if it never was, was deleted, or has expired.

        DynamoDB deletes expired items up to days after their TTL: until then
        they are still read, so the expiry is checked here too.
        """
        pk, sk = import_key(import_id)
        try:
            model = ImportModel.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None
        if model.expires_at is not None and model.expires_at <= self.now():
            return None
        return _to_job(model)

    def delete(self, import_id: str, list_id: str) -> None:
        """Every item of the import: record, chunk and batch markers, list entry, registry."""
        pk, _ = import_key(import_id)
        ref_pk, ref_sk = import_ref_key(list_id, import_id)
        keys = [{"pk": {"S": ref_pk}, "sk": {"S": ref_sk}},
                {"pk": {"S": ACTIVE_IMPORTS_PK}, "sk": {"S": f"I#{import_id}"}}]
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ProjectionExpression": "pk, sk",
            "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}}
        while True:
            response = self.client.query(**kwargs)
            keys.extend({"pk": i["pk"], "sk": i["sk"]} for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        self._batch_delete(keys)

    def update(self, import_id: str, *, expect_status: Iterable[str] | None = None,
               **fields: Any) -> bool:
        """Set fields (None removes); with expect_status, only from those statuses."""
        status = ImportState(fields["status"]) if "status" in fields else None
        if status is not None and status.active:
            self._register_active(import_id)
        updated = self._update(import_id, expect_status, fields)
        if updated and status is not None and status.finished:
            self.forget_active(import_id)
        return updated

    def _register_active(self, import_id: str) -> None:
        self.client.put_item(TableName=self._table, Item={
            "pk": {"S": ACTIVE_IMPORTS_PK}, "sk": {"S": f"I#{import_id}"},
            "import_id": {"S": import_id}})

    def forget_active(self, import_id: str) -> None:
        self.client.delete_item(TableName=self._table, Key={
            "pk": {"S": ACTIVE_IMPORTS_PK}, "sk": {"S": f"I#{import_id}"}})

    def active_ids(self) -> list[str]:
        """Imports registered as analysing or running (a few at a time, by nature)."""
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ACTIVE_IMPORTS_PK}}}
        while True:
            response = self.client.query(**kwargs)
            ids.extend(i["import_id"]["S"] for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                return ids
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def done_chunks(self, import_id: str) -> set[int]:
        pk, _ = import_key(import_id)
        done: set[int] = set()
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ProjectionExpression": "sk",
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :c)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":c": {"S": "CHUNK#"}}}
        while True:
            response = self.client.query(**kwargs)
            done.update(int(i["sk"]["S"][6:]) for i in response["Items"])
            if "LastEvaluatedKey" not in response:
                return done
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _update(self, import_id: str, expect_status: Iterable[str] | None,
                fields: dict[str, Any]) -> bool:
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

    def pin_verdicts(self, import_id: str, number: int,
                     verdicts: Sequence[DomainVerdict]) -> list[DomainVerdict]:
        """The domain verdicts chunk `number` saves its leads with, fixed by its first
        delivery: `verdicts` if this is the first, else the ones pinned before.

        One conditional put, with a check that the import still exists (a
        redelivery: a put refused, then one read). Every
        delivery of the chunk then decides the same leads the same way: the
        leads it writes again, their tallies and verification batches, and the
        verdicts counted with the chunk are those of the first delivery.
        """
        pk, sk = chunk_verdicts_key(import_id, number)
        rows: list[list[Any]] = []
        size = 2
        for v in verdicts:
            row = [v.domain, v.status, v.reason, v.checked_at, v.expires_at]
            size += len(json.dumps(row)) + 1
            if size > PIN_MAX_BYTES:
                break
            rows.append(row)
        text = json.dumps(rows, separators=(",", ":"))
        ipk, isk = import_key(import_id)
        failed = self._transact([
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                     "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "verdicts": {"S": text},
                              "expires_at": {"N": str(self._expires_at())}}}},
            # A deleted import gets no item back (its erasure has run).
            {"ConditionCheck": {"TableName": self._table, "ConditionExpression":
                                "attribute_exists(pk)",
                                "Key": {"pk": {"S": ipk}, "sk": {"S": isk}}}}])
        if failed is None:
            pinned = rows
        elif 1 in failed:
            raise NotFound("Import not found", details={"import_id": import_id})
        elif 0 in failed:
            item = self.client.get_item(TableName=self._table, ConsistentRead=True,
                                        Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
            pinned = json.loads(item["verdicts"]["S"])
        else:
            raise ChunkNotCounted(f"chunk {number} of {import_id}: its pin was cancelled")
        return [DomainVerdict(str(d), str(s), str(r), int(c), int(e))
                for d, s, r, c, e in pinned]

    def finish_chunk(self, job: ImportJob, lst: LeadList, number: int, counts: ImportCounts,
                     tally: ShardTally, no_email: int = 0,
                     verdicts: Mapping[str, int] | None = None) -> bool:
        """Record a chunk's counts exactly once; False if it was recorded before.

        `verdicts`: the saved leads written with their email verdict (by status),
        counted on the import's verification counts in the same transaction.
        """
        pk, sk = chunk_key(job.id, number)
        ipk, isk = import_key(job.id)
        verdict_adds = {s: n for s, n in (verdicts or {}).items() if s in VERDICT_STATUSES and n}
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                     "Item": {"pk": {"S": pk}, "sk": {"S": sk},
                              "expires_at": {"N": str(self._expires_at())},
                              "saved": {"N": str(counts.saved)},
                              "updated": {"N": str(counts.updated)},
                              "unchanged": {"N": str(counts.unchanged)},
                              "duplicates": {"N": str(counts.duplicates)},
                              "invalid": {"N": str(counts.invalid)}}}},
            {"Update": {"TableName": self._table,
                        "Key": {"pk": {"S": ipk}, "sk": {"S": isk}},
                        # A deleted import is not brought back by a late chunk.
                        "ConditionExpression": "attribute_exists(pk)",
                        # v_none: saved leads with no email have nothing to verify.
                        "UpdateExpression": "ADD saved :s, duplicates :d, invalid :i, "
                                            "updated :u, unchanged :c, "
                                            "chunks_done :one, v_none :n"
                                            + "".join(f", v_{s} :v_{s}" for s in verdict_adds)
                                            + " SET progressed_at = :now, updated_at = :now",
                        "ExpressionAttributeValues": {
                            ":u": {"N": str(counts.updated)},
                            ":c": {"N": str(counts.unchanged)},
                            ":now": {"S": utc_now_iso()},
                            ":s": {"N": str(counts.saved)}, ":d": {"N": str(counts.duplicates)},
                            ":i": {"N": str(counts.invalid)}, ":one": {"N": "1"},
                            ":n": {"N": str(no_email)},
                            **{f":v_{s}": {"N": str(n)} for s, n in verdict_adds.items()}}}},
        ]
        # The new leads' count and tallies per shard, with the marker: once.
        items.extend(tally_updates(self._table, lst.id, tally))
        failed = self._transact(items)
        if failed is None:
            return True
        if 0 in failed:  # the chunk marker exists: counted by an earlier delivery
            return False
        if 1 in failed:
            raise NotFound("Import not found", details={"import_id": job.id})
        raise ChunkNotCounted(f"chunk {number} of {job.id}: its transaction was cancelled")


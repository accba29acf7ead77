"""`POST /lists/{id}/leads/batch`: up to 1,000 leads in one request, within its time budget.

Every item is validated first (pure, fast). The valid ones are inserted 100
at a time through the batched store (identities looked up in bulk, 25 leads a
transaction) until the request's budget is spent; whatever is left goes to the
jobs queue in parts of at most ~200 KB and the answer is 202 with a
`batch_id`. The 202 already names every pending lead's id, and
`GET /lists/{id}/leads/batch/{batch_id}` returns every outcome once the parts
are done. A part delivered twice finds its own claims and writes nothing new.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import FieldError, NotFound, ValidationFailed
from chalicelib.domain.ids import new_id
from chalicelib.domain.job_messages import BatchInsertJob
from chalicelib.domain.lead import Lead, check_identity, fresh_email_status, parse_lead_fields
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.lists import ListService
from chalicelib.services.ports import JobQueue, LeadBatchStore, VerificationRequests
from chalicelib.services.suppressions import SuppressionService

INSERT_GROUP = 100
MAX_PART_BYTES = 200_000  # under SQS's 256 KB message limit, with room for the envelope


def new_lead(lst: LeadList, payload: Any, *, lead_id: str | None = None) -> Lead:
    """A lead for `lst` from an API object; ValidationFailed with per-field errors."""
    if not isinstance(payload, dict):
        raise ValidationFailed([FieldError("lead", "invalid_type", "a lead is an object")])
    fields = parse_lead_fields(payload, default_region=lst.default_region)
    check_identity(fields, lst.identity)
    now = utc_now_iso()
    return Lead(id=lead_id or new_id("ld"), list_id=lst.id, created_at=now, updated_at=now,
                **fields, **fresh_email_status(fields.get("email")))


def _created(lead: Lead, source: str) -> Activity:
    return Activity(new_id("ac"), lead.id, "created", lead.created_at, {"source": source})


def summary(results: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    statuses = [r["status"] for r in results]
    return {"created": statuses.count("created"), "duplicates": statuses.count("duplicate"),
            "invalid": statuses.count("invalid"), "suppressed": statuses.count("suppressed"),
            "pending": statuses.count("pending")}


class LeadBatches:
    def __init__(self, store: LeadBatchStore, lists: ListService, jobs: JobQueue,
                 verification: VerificationRequests, *, budget_seconds: float,
                 max_batch: int, announce: LeadAnnouncer | None = None,
                 suppressions: SuppressionService | None = None) -> None:
        self._store = store
        self._suppressions = suppressions
        self._announce = announce
        self._lists = lists
        self._jobs = jobs
        self._verification = verification
        self._budget = budget_seconds
        self._max_batch = max_batch

    def create(self, workspace: str, list_id: str,
               payload: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The outcome per item, and whether all were done within the request."""
        deadline = time.monotonic() + self._budget
        lst = self._lists.get(workspace, list_id)
        items = self._items(payload)
        results: dict[int, dict[str, Any]] = {}
        valid: list[tuple[int, Lead, Mapping[str, Any]]] = []
        for index, item in enumerate(items):
            try:
                valid.append((index, new_lead(lst, item), item))
            except ValidationFailed as exc:
                results[index] = {"index": index, "status": "invalid",
                                  "errors": [e.as_dict() for e in exc.errors]}
        done = 0
        while done < len(valid) and (done == 0 or time.monotonic() < deadline):
            group = valid[done:done + INSERT_GROUP]
            self._insert(lst, [(i, lead) for i, lead, _ in group], "api_batch", results)
            done += len(group)
        if done >= len(valid):
            ordered = [results[i] for i in sorted(results)]
            return {**summary(ordered), "results": ordered}, True
        return self._defer(lst, valid[done:], results), False

    def _items(self, payload: Mapping[str, Any]) -> list[Any]:
        extra = set(payload) - {"leads"}
        if extra:
            raise ValidationFailed([FieldError(k, "unknown_field", f"Unknown field {k!r}")
                                    for k in sorted(extra)])
        leads = payload.get("leads")
        if not isinstance(leads, list) or not 1 <= len(leads) <= self._max_batch:
            raise ValidationFailed([FieldError("leads", "invalid_type",
                                               f"leads is an array of 1 to {self._max_batch} "
                                               "lead objects")])
        return leads

    def _insert(self, lst: LeadList, leads: Sequence[tuple[int, Lead]], source: str,
                results: dict[int, dict[str, Any]]) -> None:
        if self._suppressions is not None:  # one BatchGetItem per 100 keys
            matches = self._suppressions.matches(lst.workspace, [lead for _, lead in leads])
            for (index, _), match in zip(leads, matches, strict=True):
                if match is not None:
                    results[index] = {"index": index, "status": "suppressed",
                                      "suppression_id": match.id}
            leads = [(i, lead) for (i, lead), m in zip(leads, matches, strict=True)
                     if m is None]
        outcomes = self._store.insert_leads(lst, [(lead, _created(lead, source))
                                                  for _, lead in leads])
        created: list[Lead] = []
        for (index, lead), outcome in zip(leads, outcomes, strict=True):
            if outcome.status == "saved":
                results[index] = {"index": index, "status": "created", "lead_id": lead.id}
                if outcome.new:
                    created.append(lead)
            else:
                results[index] = {"index": index, "status": "duplicate",
                                  "lead_id": outcome.lead_id}
        self._verification.request(lst, created)
        if self._announce is not None:
            with self._announce.collecting():
                for lead in created:
                    self._announce.created(lst, lead)

    def _defer(self, lst: LeadList, rest: Sequence[tuple[int, Lead, Mapping[str, Any]]],
               results: dict[int, dict[str, Any]]) -> dict[str, Any]:
        batch_id = new_id("bt")
        parts: list[list[tuple[int, str, Mapping[str, Any]]]] = [[]]
        size = 0
        for index, lead, item in rest:
            item_size = len(json.dumps(item, separators=(",", ":"))) + 64
            if parts[-1] and size + item_size > MAX_PART_BYTES:
                parts.append([])
                size = 0
            parts[-1].append((index, lead.id, item))
            size += item_size
        self._store.start_batch(batch_id, lst.workspace, lst.id, parts=1 + len(parts),
                                total=len(results) + len(rest))
        self._store.save_batch_part(batch_id, 0, [results[i] for i in sorted(results)])
        for number, part in enumerate(parts, start=1):
            self._jobs.send(BatchInsertJob(lst.workspace, lst.id, batch_id, number,
                                           tuple(part)).to_body())
        for index, lead, _ in rest:
            results[index] = {"index": index, "status": "pending", "lead_id": lead.id}
        ordered = [results[i] for i in sorted(results)]
        return {"batch_id": batch_id, "status": "running", **summary(ordered),
                "results": ordered}

    def continue_batch(self, job: BatchInsertJob) -> None:
        """Insert one deferred part (again, harmlessly, if delivered twice)."""
        lst = self._lists.get(job.workspace, job.list_id)
        results: dict[int, dict[str, Any]] = {}
        leads: list[tuple[int, Lead]] = []
        for index, lead_id, item in job.items:
            try:
                leads.append((index, new_lead(lst, item, lead_id=lead_id)))
            except ValidationFailed as exc:  # valid at the request: only if the list changed
                results[index] = {"index": index, "status": "invalid",
                                  "errors": [e.as_dict() for e in exc.errors]}
        for start in range(0, len(leads), INSERT_GROUP):
            self._insert(lst, leads[start:start + INSERT_GROUP], "api_batch", results)
        self._store.save_batch_part(job.batch_id, job.part,
                                    [results[i] for i in sorted(results)])

    def get(self, workspace: str, list_id: str, batch_id: str) -> dict[str, Any]:
        lst = self._lists.get(workspace, list_id)
        found = self._store.get_batch(batch_id) if batch_id.startswith("bt_") else None
        if found is None or found[0]["workspace"] != workspace or found[0]["list_id"] != lst.id:
            raise NotFound("Batch not found", details={"batch_id": batch_id})
        meta, parts = found
        ordered = sorted((r for part in parts for r in part), key=lambda r: int(r["index"]))
        complete = len(parts) >= meta["parts"]
        counts = {**summary(ordered), "pending": meta["total"] - len(ordered)}
        return {"batch_id": batch_id, "status": "completed" if complete else "running",
                **counts, "results": ordered}

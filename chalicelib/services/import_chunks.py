"""Validate and save one chunk of an import's rows (chunks queue), exactly once.

Each row ends in exactly one count: invalid, duplicate (in the file, or in the
list under `skip`), saved (a new lead), updated or unchanged (an existing lead
under `fill_empty`/`overwrite`, see domain/lead_merge.py). A redelivered chunk
changes nothing twice: new leads have ids derived from (import, row), updated
leads carry the import's mark, and the chunk's counts are recorded once.

A lead whose domain already has a fresh verdict (the shared verdict cache:
after an import's first chunks, nearly all of its domains) is saved with its
email verdict, counted with the chunk; only the others are queued for the
background verifier. The verdicts a chunk uses are pinned by its first
delivery (`ImportStore.pin_verdicts`), so a redelivery decides every lead the
same way and counts nothing twice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.deliverability import EmailVerdict, classify, email_verdict
from chalicelib.domain.errors import FieldError, NotFound
from chalicelib.domain.ids import deterministic_id, shard_of
from chalicelib.domain.import_job import ImportCounts, ImportJob
from chalicelib.domain.import_messages import ChunkMessage
from chalicelib.domain.import_state import ImportMode, ImportState
from chalicelib.domain.imports import REASONS, RowResult, convert_row, mapped_columns
from chalicelib.domain.lead import Lead, fresh_email_status
from chalicelib.domain.lead_index import ShardTally
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.lead_merge import changed_fields, merge_row
from chalicelib.domain.verification import verdict_fields, with_verdict
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.import_report import ErrorReport, ReportRow
from chalicelib.services.lists import ListService
from chalicelib.services.ports import (
    FileStore,
    ImportStore,
    LeadUpdate,
    MetricsSink,
    VerificationRequests,
)
from chalicelib.services.suppressions import SuppressionService

# A lead edited while the import updates it is read again and the mode applied
# again; past this many rounds the chunk is retried later (SQS), not forced.
UPDATE_ROUNDS = 4


class RowMatcher(Protocol):
    """Sees a chunk's valid rows (as new leads) before and after they are saved."""

    def before_save(self, job: ImportJob, lst: LeadList, leads: Sequence[Lead]) -> None: ...
    def after_save(self, job: ImportJob, lst: LeadList,
                   saved: Sequence[tuple[str, Lead]]) -> None:
        """(the lead id each row now is - new or existing - , the row as a lead)."""
        ...


class UpdateConflict(RuntimeError):
    """Leads kept changing under the import: retry the chunk later."""


@dataclass
class _Existing:
    number: int
    cells: list[str]
    result: RowResult
    lead_id: str


@dataclass
class _ChunkOutcome:
    saved: list[Lead] = field(default_factory=list)
    # New leads' count and tallies per shard, counted with the chunk (once).
    tally: ShardTally = field(default_factory=ShardTally.empty)
    report: list[ReportRow] = field(default_factory=list)
    duplicates: int = 0
    invalid: int = 0
    updated: int = 0
    unchanged: int = 0
    email_changed: list[Lead] = field(default_factory=list)

    def counts(self) -> ImportCounts:
        return ImportCounts(len(self.saved), self.duplicates, self.invalid, self.updated,
                            self.unchanged)

    def verdicts(self) -> Counter[str]:
        """The saved leads written with their email verdict, by status."""
        return Counter(lead.email_status for lead in self.saved
                       if lead.email and lead.email_status != "pending")

    def to_verify(self) -> list[Lead]:
        """The saved leads the background verifier must still write a verdict for."""
        return [lead for lead in self.saved if lead.email and lead.email_status == "pending"]


class ChunkProcessor:
    def __init__(self, imports: ImportStore, files: FileStore, analyses: AnalysisStore,
                 lists: ListService, lifecycle: ImportLifecycle, report: ErrorReport,
                 verification: VerificationRequests, metrics: MetricsSink,
                 suppressions: SuppressionService | None = None) -> None:
        self._imports = imports
        self._suppressions = suppressions
        self._files = files
        self._analyses = analyses
        self._lists = lists
        self._lifecycle = lifecycle
        self._report = report
        self._verification = verification
        self._metrics = metrics
        self._matchers: list[RowMatcher] = []

    def add_matcher(self, matcher: RowMatcher) -> None:
        """Hooks of a source that knows its rows' leads by more than the identity."""
        self._matchers.append(matcher)

    def on_message(self, body: dict[str, Any]) -> None:
        self.process(ChunkMessage.from_body(body))

    def process(self, message: ChunkMessage) -> None:
        job = self._imports.get(message.import_id)
        if job is None:
            # Erased (deleted, or its list was): its rows must not linger here.
            if message.key.startswith(f"chunks/{message.import_id}/"):
                self._files.delete(message.key)
            return
        if job.status is not ImportState.RUNNING:
            return
        if self._imports.chunk_done(job.id, message.chunk):
            self._lifecycle.maybe_finish(job.id)
            return
        lst = self._list_of(job)
        data = self._files.get_bytes(message.key)
        if data is None:
            raise RuntimeError("chunk file missing")  # redelivered into the DLQ, salvaged
        rows: list[list[Any]] = json.loads(data)
        analysis = self._analyses.load(job.id, final=True)
        headers = list(analysis.get("columns") or [])
        columns = mapped_columns(headers, analysis.get("mapping") or {})
        outcome = self._process_rows(job, lst, rows, columns, len(headers), message.chunk)
        self._report.write_part(job.id, message.chunk, outcome.report)
        # Asked before the chunk is recorded done: a crash in between redelivers
        # the chunk and asks again (verification counts each batch once), where
        # the other order could leave the chunk's leads pending for ever. The
        # pinned verdicts make every delivery queue the same leads.
        self._verification.request(lst, outcome.to_verify(), import_id=job.id,
                                   batch=f"c{message.chunk}")
        self._verification.request(lst, outcome.email_changed)
        no_email = sum(1 for lead in outcome.saved if not lead.email)
        counts = outcome.counts()
        verdicts = outcome.verdicts()
        try:
            counted = self._imports.finish_chunk(job, lst, message.chunk, counts,
                                                 outcome.tally, no_email, verdicts)
        except NotFound:  # erased while this chunk ran: take back its report part
            self._files.delete(self._report.part_key(job.id, message.chunk))
            raise
        if counted:  # once per chunk, like the import's own counts
            self._metrics.add("RowsImported", counts.saved)
            self._metrics.add("RowsUpdated", counts.updated)
            self._metrics.add("RowsDuplicate", counts.duplicates)
            self._metrics.add("RowsRejected", counts.invalid)
            for status, n in verdicts.items():  # as the verifier counts its own
                self._metrics.add(f"Emails{status.capitalize()}", n)
        self._lifecycle.maybe_finish(job.id)

    def _list_of(self, job: ImportJob) -> LeadList:
        try:
            return self._lists.get(job.workspace, job.list_id)
        except NotFound:
            raise self._lifecycle.list_deleted(job.id) from None

    def _process_rows(self, job: ImportJob, lst: LeadList, rows: list[list[Any]],
                      columns: list[tuple[int, str]], width: int,
                      number: int) -> _ChunkOutcome:
        out = _ChunkOutcome()
        candidates: list[tuple[int, list[str], RowResult, Lead]] = []
        now = utc_now_iso()
        started_ms = _iso_ms(job.started_at or job.created_at)
        for row in rows:
            number_in_file, cells, earlier = row[0], row[1], row[2]
            problem = row[3] if len(row) > 3 else None
            result = convert_row(number_in_file, cells, columns, width, lst.identity,
                                 job.default_region, problem=problem,
                                 problem_message=row[4] if len(row) > 4 else None)
            if not result.ok or result.fields is None:
                out.invalid += 1
                out.report.append(ReportRow(number_in_file, cells, result.errors,
                                            result.warnings))
                continue
            if earlier is not None:
                out.duplicates += 1
                out.report.append(ReportRow(number_in_file, cells, [FieldError(
                    lst.identity, "duplicate_in_file",
                    f"{REASONS['duplicate_in_file']} (row {earlier})")]))
                continue
            lead_id = deterministic_id("ld", f"{job.id}:{number_in_file}", now_ms=started_ms)
            lead = Lead(id=lead_id, list_id=lst.id, created_at=now, updated_at=now,
                        source={"import_id": job.id, "row": number_in_file,
                                "filename": job.filename, "type": job.source}, **result.fields,
                        **fresh_email_status(result.fields.get("email")))
            candidates.append((number_in_file, cells, result, lead))
        candidates = self._unsuppressed(lst, candidates, out)
        # Before any lead is written: the verdicts this chunk saves leads with.
        known = self._verdicts_at_save(job, number, [c[3] for c in candidates])
        candidates = [(n, cells, result, with_verdict(lead, known, lst.identity, now))
                      for n, cells, result, lead in candidates]
        for matcher in self._matchers:
            matcher.before_save(job, lst, [c[3] for c in candidates])
        outcomes = self._imports.save_leads(lst, [c[3] for c in candidates])
        for matcher in self._matchers:
            matcher.after_save(job, lst, [(o.lead_id, c[3]) for c, o in
                                          zip(candidates, outcomes, strict=True)])
        existing: list[_Existing] = []
        for (row_no, cells, result, lead), saved in zip(candidates, outcomes, strict=True):
            if saved.status == "saved":
                out.saved.append(lead)
                out.tally.add(shard_of(lead.id, lst.shards), None, lead)
                if result.warnings:
                    out.report.append(ReportRow(row_no, cells, (), result.warnings))
            elif job.mode is ImportMode.SKIP:
                out.duplicates += 1
                out.report.append(ReportRow(row_no, cells, [FieldError(
                    lst.identity, "duplicate_in_list",
                    f"{REASONS['duplicate_in_list']} (lead {saved.lead_id})")]))
            else:
                existing.append(_Existing(row_no, cells, result, saved.lead_id))
        if existing:
            self._update_existing(job, lst, existing, out, known)
        return out

    def _unsuppressed(self, lst: LeadList,
                      candidates: list[tuple[int, list[str], RowResult, Lead]],
                      out: _ChunkOutcome) -> list[tuple[int, list[str], RowResult, Lead]]:
        """Rows of suppressed people are rejected (`suppressed`, counted invalid)."""
        if self._suppressions is None or not candidates:
            return candidates
        matches = self._suppressions.matches(lst.workspace, [c[3] for c in candidates])
        for (row_no, cells, _, _), match in zip(candidates, matches, strict=True):
            if match is not None:
                out.invalid += 1
                # An erased person's cells are not written to the report either.
                erased = match.reason == "erased"
                out.report.append(ReportRow(row_no, [] if erased else cells, [FieldError(
                    lst.identity, "suppressed",
                    REASONS["suppressed_erased" if erased else "suppressed"])]))
        return [c for c, m in zip(candidates, matches, strict=True) if m is None]

    def _verdicts_at_save(self, job: ImportJob, number: int,
                          leads: Sequence[Lead]) -> dict[str, EmailVerdict]:
        """The email verdict of each address of the chunk that is known already: decided
        by the address alone, or by its domain's fresh verdict as pinned by the
        chunk's first delivery. Addresses missing here are verified in the background.
        """
        classified = {lead.email: classify(lead.email) for lead in leads if lead.email}
        domains = {name for name, _ in classified.values() if name is not None}
        pinned = {}
        if domains:
            fresh = self._verification.known_verdicts(domains)
            pinned = {v.domain: v for v in self._imports.pin_verdicts(
                job.id, number, [fresh[d] for d in sorted(fresh)])}
        verdicts: dict[str, EmailVerdict] = {}
        for email, (name, decided) in classified.items():
            if decided is not None:
                verdicts[email] = decided
            elif name is not None and name in pinned:
                verdicts[email] = email_verdict(email, name, pinned[name])
        return verdicts

    def _update_existing(self, job: ImportJob, lst: LeadList, rows: Sequence[_Existing],
                         out: _ChunkOutcome, known: Mapping[str, EmailVerdict]) -> None:
        """Apply the import's mode to leads the list holds; conditional on their version."""
        pending = list(rows)
        for _ in range(UPDATE_ROUNDS):
            leads = self._imports.get_leads(lst, [r.lead_id for r in pending])
            planned: list[tuple[_Existing, LeadUpdate]] = []
            for row in pending:
                lead = leads.get(row.lead_id)
                if lead is None:  # deleted since its claim was read: nothing to update
                    out.duplicates += 1
                    out.report.append(ReportRow(row.number, row.cells, [FieldError(
                        lst.identity, "duplicate_in_list", REASONS["duplicate_in_list"])]))
                    continue
                if lead.import_mark == job.id:  # an earlier delivery of this chunk did it
                    self._count_updated(row, out)
                    if lead.email and lead.email_status == "pending":
                        # It may have stopped before asking: ask again (idempotent).
                        out.email_changed.append(lead)
                    continue
                update = self._plan_update(job, lst, row, lead, known)
                if update is None:
                    out.unchanged += 1
                    if row.result.warnings:
                        out.report.append(ReportRow(row.number, row.cells, (),
                                                    row.result.warnings))
                else:
                    planned.append((row, update))
            written = self._imports.update_leads(lst, [u for _, u in planned])
            pending = []
            for (row, update), ok in zip(planned, written, strict=True):
                if ok:
                    self._count_updated(row, out)
                    if update.after.email and update.after.email != update.before.email \
                            and update.after.email_status == "pending":
                        out.email_changed.append(update.after)
                else:
                    pending.append(row)
            if not pending:
                return
        raise UpdateConflict(f"{len(pending)} leads kept changing during the import")

    @staticmethod
    def _count_updated(row: _Existing, out: _ChunkOutcome) -> None:
        out.updated += 1
        if row.result.warnings:
            out.report.append(ReportRow(row.number, row.cells, (), row.result.warnings))

    @staticmethod
    def _plan_update(job: ImportJob, lst: LeadList, row: _Existing, lead: Lead,
                     known: Mapping[str, EmailVerdict]) -> LeadUpdate | None:
        assert row.result.fields is not None
        changes = merge_row(lead, row.result.fields, job.mode)
        if not changes:
            return None
        now = utc_now_iso()
        applied = dict(changes)
        if "email" in changes:
            applied.update(fresh_email_status(changes["email"]))
            # A known verdict goes with the new address, in the same conditional write.
            applied.update(verdict_fields(changes["email"], changes.get("status", lead.status),
                                           known, lst.identity, now))
        after = lead.with_changes({**applied, "import_mark": job.id,
                                   "version": lead.version + 1}, updated_at=now)
        activity = Activity(
            deterministic_id("ac", f"{job.id}:{row.number}:u",
                             now_ms=_iso_ms(job.started_at or job.created_at)), lead.id,
            "updated_by_import", now,
            {"import_id": job.id, "row": row.number, "mode": job.mode.value,
             "filename": job.filename, "changes": changed_fields(lead, changes)})
        return LeadUpdate(lead, after, activity)

    def settle_unprocessed(self, job: ImportJob, lst: LeadList, number: int, rows_hint: int,
                           code: str) -> None:
        """A chunk that cannot be processed: its rows are reported and counted invalid."""
        if self._imports.chunk_done(job.id, number):
            return
        rows = self._readable_chunk(job.id, number)
        error = FieldError("row", code, REASONS.get(code, REASONS["processing_failed"]))
        if rows is not None:
            report = [ReportRow(int(r[0]), r[1], [error]) for r in rows]
            count = len(rows)
        else:
            report = [ReportRow(-1, [f"chunk {number}: {rows_hint} rows"], [error])]
            count = rows_hint
        self._report.write_part(job.id, number, report)
        self._imports.finish_chunk(job, lst, number, ImportCounts(invalid=count),
                                   ShardTally.empty())

    def _readable_chunk(self, import_id: str, number: int) -> list[list[Any]] | None:
        """The chunk's rows, or None if its file is gone or damaged (the hint counts then)."""
        data = self._files.get_bytes(ChunkMessage.key_for(import_id, number))
        try:
            rows = json.loads(data) if data is not None else None
        except ValueError:
            return None
        if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) >= 2 and isinstance(r[0], int) for r in rows):
            return None
        return rows

    def salvage(self, body: dict[str, Any]) -> None:
        """A chunk that kept failing (chunks DLQ): its rows are reported failed, the import ends."""
        message = ChunkMessage.from_body(body)
        job = self._imports.get(message.import_id)
        if job is None or job.status is not ImportState.RUNNING:
            return
        if not self._imports.chunk_done(job.id, message.chunk):
            self.settle_unprocessed(job, self._list_of(job), message.chunk, message.rows,
                                    "processing_failed")
            self._imports.update(job.id, error={
                "code": "chunk_failed",
                "message": f"Chunk {message.chunk} failed repeatedly; its rows were not saved"})
        self._lifecycle.maybe_finish(job.id)


def _iso_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)

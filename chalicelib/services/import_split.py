"""Split a running import's rows into chunks (splits queue).

Streams the source once: in-file duplicates are marked (the first usable
occurrence wins), every chunk is written to S3 and announced on the chunks
queue, and the file's email domains go out for DNS look-up ahead of its leads.
Re-running it (redelivery, watchdog) writes the same chunks again: chunk
workers count each chunk once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.deliverability import lookup_domain
from chalicelib.domain.errors import LeadpipeError, NotFound
from chalicelib.domain.fingerprint_table import FirstOccurrences
from chalicelib.domain.import_job import ImportJob
from chalicelib.domain.import_messages import ChunkMessage, SplitMessage
from chalicelib.domain.import_state import ImportState
from chalicelib.domain.imports import mapped_columns, split_chunks
from chalicelib.domain.row_reader import Row, split_header
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.lists import ListService
from chalicelib.services.ports import (
    FileStore,
    ImportStore,
    QueueSender,
    RowSource,
    VerificationRequests,
)

DOMAIN_GROUP = 500  # domains per look-up message: 500 x 253 bytes fits SQS's 256 KB


class PagedSource(Protocol):
    """A row source read page by page, which can start at any page (a CRM)."""

    def pages(self, job: ImportJob, *, cursor: str | None,
              first_number: int) -> Iterator[tuple[list[Row], str | None]]: ...


@runtime_checkable
class Paging(Protocol):
    def pager_for(self, job: ImportJob) -> PagedSource | None: ...


class ImportSplitter:
    def __init__(self, imports: ImportStore, files: FileStore, source: RowSource,
                 analyses: AnalysisStore, lists: ListService, lifecycle: ImportLifecycle,
                 chunks: QueueSender, verification: VerificationRequests, *,
                 chunk_rows: int) -> None:
        self._imports = imports
        self._files = files
        self._source = source
        self._analyses = analyses
        self._lists = lists
        self._lifecycle = lifecycle
        self._chunks = chunks
        self._verification = verification
        self._chunk_rows = chunk_rows

    def on_message(self, body: dict[str, Any]) -> None:
        self.split(SplitMessage.from_body(body).import_id)

    def split(self, import_id: str) -> None:
        job = self._imports.get(import_id)
        if job is None or job.status is not ImportState.RUNNING:
            return
        if job.chunks_total is not None:
            self._lifecycle.maybe_finish(job.id)  # split before; chunks are on their way
            return
        try:
            lst = self._lists.get(job.workspace, job.list_id)
        except NotFound:
            raise self._lifecycle.list_deleted(job.id) from None
        try:
            self._split(job, lst.identity)
        except LeadpipeError as exc:
            # An unreadable line past the analysed sample, a replaced upload:
            # retrying cannot help, so the import ends here with the reason.
            self._lifecycle.fail(job.id, exc.code, exc.message)

    def _split(self, job: ImportJob, identity: str) -> None:
        pager = self._source.pager_for(job) if isinstance(self._source, Paging) else None
        if pager is not None:
            self._split_pages(job, identity, pager)
            return
        analysis = self._analyses.load(job.id, final=True)
        info = job.file or {}
        headers = list(analysis.get("columns") or [])
        columns = mapped_columns(headers, analysis.get("mapping") or {})
        identity_index = next(i for i, t in columns if t == identity)
        domains = _DomainCollector(next((i for i, t in columns if t == "email"), None))
        number = 0
        total = 0
        with self._source.open_rows(job, info, sample=False) as rows:
            _, data = split_header(rows)
            for chunk in split_chunks(data, width=len(headers), identity_index=identity_index,
                                      identity=identity, region=job.default_region,
                                      chunk_rows=self._chunk_rows):
                # The file's domains go out for look-up ahead of its leads, in
                # big groups: a worker packs a group's look-ups at full
                # concurrency, where per-chunk batches would each wait a round
                # trip for their few new domains.
                new = domains.add(chunk)
                if len(new) >= DOMAIN_GROUP or (number == 0 and new):
                    self._verification.prefetch_domains(domains.take())
                key = ChunkMessage.key_for(job.id, number)
                self._files.put_bytes(key, json.dumps(chunk, separators=(",", ":")).encode(),
                                      "application/json")
                self._chunks.send(ChunkMessage(job.id, number, key, len(chunk)).to_body())
                number += 1
                total += len(chunk)
        self._verification.prefetch_domains(domains.take())
        now = utc_now_iso()
        self._imports.update(job.id, total_rows=total, chunks_total=number, updated_at=now,
                             progressed_at=now)
        self._lifecycle.maybe_finish(job.id)

    def _split_pages(self, job: ImportJob, identity: str, pager: PagedSource) -> None:
        """A source read page by page (a CRM): chunks end at pages, and where the
        next page starts is recorded before a page's chunks are announced, so a
        redelivered split goes on from there instead of reading everything again."""
        analysis = self._analyses.load(job.id)  # not cached: the checkpoint moves
        headers = list(analysis.get("columns") or [])
        columns = mapped_columns(headers, analysis.get("mapping") or {})
        identity_index = next(i for i, t in columns if t == identity)
        domains = _DomainCollector(next((i for i, t in columns if t == "email"), None))
        mark: dict[str, Any] = dict(analysis.get("checkpoint") or {})
        number, total = int(mark.get("chunk", 0)), int(mark.get("rows", 0))
        # The page recorded last may have died before its chunks were announced.
        self._announce(job, mark.get("page_chunks") or [])
        # Repeats of a person are marked within the run; after a resume, from there.
        seen = FirstOccurrences()
        if not mark.get("done"):
            for rows, next_cursor in pager.pages(job, cursor=mark.get("cursor"),
                                                 first_number=total + 1):
                page_chunks: list[list[int]] = []
                for chunk in split_chunks(rows, width=len(headers),
                                          identity_index=identity_index, identity=identity,
                                          region=job.default_region,
                                          chunk_rows=self._chunk_rows, seen=seen):
                    domains.add(chunk)
                    self._files.put_bytes(ChunkMessage.key_for(job.id, number),
                                          json.dumps(chunk, separators=(",", ":")).encode(),
                                          "application/json")
                    page_chunks.append([number, len(chunk)])
                    number += 1
                    total += len(chunk)
                mark = {"cursor": next_cursor, "chunk": number, "rows": total,
                        "page_chunks": page_chunks, "done": next_cursor is None}
                analysis = {**analysis, "checkpoint": mark}
                self._analyses.store(job.id, analysis)
                self._verification.prefetch_domains(domains.take())
                self._announce(job, page_chunks)
        now = utc_now_iso()
        self._imports.update(job.id, total_rows=total, chunks_total=number, updated_at=now,
                             progressed_at=now)
        self._lifecycle.maybe_finish(job.id)

    def _announce(self, job: ImportJob, chunks: list[list[int]]) -> None:
        for number, rows in chunks:
            self._chunks.send(ChunkMessage(job.id, int(number),
                                           ChunkMessage.key_for(job.id, int(number)),
                                           int(rows)).to_body())

    def fail_split(self, body: dict[str, Any]) -> None:
        """The splitter kept failing (splits DLQ): the import fails with a reason."""
        job = self._imports.get(SplitMessage.from_body(body).import_id)
        if job is not None and job.status is ImportState.RUNNING and job.chunks_total is None:
            self._lifecycle.fail(job.id, "split_failed", "The file could not be split into chunks")


class _DomainCollector:
    """The distinct email domains of a file's first occurrences, handed out in groups."""

    def __init__(self, email_index: int | None) -> None:
        self._index = email_index
        self._seen: set[str] = set()
        self._pending: list[str] = []

    def add(self, chunk: list[Any]) -> list[str]:
        if self._index is not None:
            for row in chunk:
                cells, earlier = row[1], row[2]
                if earlier is None and self._index < len(cells):
                    domain = lookup_domain(cells[self._index])
                    if domain is not None and domain not in self._seen:
                        self._seen.add(domain)
                        self._pending.append(domain)
        return self._pending

    def take(self) -> list[str]:
        taken, self._pending = self._pending, []
        return taken

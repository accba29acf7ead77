"""An import as the API shows it: its state, source, counts and progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.import_state import ImportMode, ImportState
from chalicelib.domain.statuses import VERDICT_STATUSES


@dataclass(frozen=True)
class ImportCounts:
    """What became of the rows: saved + updated + unchanged + duplicates + invalid = rows."""

    saved: int = 0
    duplicates: int = 0
    invalid: int = 0
    updated: int = 0
    unchanged: int = 0

    def plus(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(self.saved + other.saved, self.duplicates + other.duplicates,
                            self.invalid + other.invalid, self.updated + other.updated,
                            self.unchanged + other.unchanged)

    @property
    def rows(self) -> int:
        return self.saved + self.updated + self.unchanged + self.duplicates + self.invalid

    def as_dict(self) -> dict[str, int]:
        return {"saved": self.saved, "updated": self.updated, "unchanged": self.unchanged,
                "duplicates": self.duplicates, "invalid": self.invalid}


def verification_counts(saved: int, verdicts: Mapping[str, int]) -> dict[str, int]:
    """The import's saved leads by email status; what has no verdict yet is pending.

    `verdicts` are counted once per verification batch, which may land a moment
    before its chunk's `saved`: pending never goes below zero meanwhile.
    """
    counts = {status: int(verdicts.get(status, 0)) for status in (*VERDICT_STATUSES, "none")}
    return {"pending": max(0, saved - sum(counts.values())), **counts}


@dataclass(frozen=True)
class ImportJob:
    id: str
    workspace: str
    list_id: str
    filename: str
    status: ImportState
    created_at: str
    updated_at: str
    object_key: str
    default_region: str
    auto_start: bool = False
    sheet: str | None = None
    # Where the rows come from: "file" (an upload) today; connected sources later.
    source: str = "file"
    mode: ImportMode = ImportMode.SKIP
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    file: Mapping[str, Any] | None = None
    preview: Sequence[Mapping[str, Any]] = ()
    sample_summary: Mapping[str, Any] | None = None
    total_rows: int | None = None
    chunks_total: int | None = None
    chunks_done: int = 0
    counts: ImportCounts = ImportCounts()
    started_at: str | None = None
    finished_at: str | None = None
    # When the import last moved (a state change, its split, a chunk): the
    # watchdog resumes or fails an active import that stopped moving.
    progressed_at: str | None = None
    resumes: int = 0
    error: Mapping[str, str] | None = None
    verification: Mapping[str, int] | None = None

    @property
    def processed_rows(self) -> int:
        return self.counts.rows

    @property
    def progress(self) -> int:
        if self.status.finished:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.processed_rows * 100 // self.total_rows)

    def _source_api(self) -> str | dict[str, Any]:
        """"file" or "google_sheets"; a sync's run names its sync: {"type", "sync_id"}."""
        sync_id = (self.file or {}).get("sync_id")
        return {"type": self.source, "sync_id": sync_id} if sync_id else self.source

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "list_id": self.list_id, "filename": self.filename,
            "source": self._source_api(), "status": self.status.value,
            "mode": self.mode.value,
            "created_at": self.created_at,
            "updated_at": self.updated_at, "default_region": self.default_region,
            "file": dict(self.file) if self.file else None,
            "mapping": dict(self.mapping), "preview": list(self.preview),
            "sample_summary": dict(self.sample_summary) if self.sample_summary else None,
            "total_rows": self.total_rows, "processed_rows": self.processed_rows,
            "progress": self.progress, "counts": self.counts.as_dict(),
            "started_at": self.started_at, "finished_at": self.finished_at,
            "progressed_at": self.progressed_at,
            "error": dict(self.error) if self.error else None,
        }
        if self.verification is not None:
            data["verification"] = dict(self.verification)
        return data

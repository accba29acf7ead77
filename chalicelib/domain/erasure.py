"""An erasure (GDPR right to be forgotten): its record, kept as an audit without personal data.

Pure: no I/O. The record names the kind of value erased, never the value or
its hash (a hash of a known email can be confirmed by anyone holding the
email); the suppression list keeps the hash so no import brings the person
back (docs/suppression.md, "Erasure").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

RUNNING = "running"
COMPLETED = "completed"


@dataclass(frozen=True)
class Erasure:
    id: str
    workspace: str
    kind: str
    requested_at: str
    requested_by: str  # the token's id, not the token
    status: str = RUNNING
    finished_at: str | None = None
    leads_deleted: int = 0
    lists_touched: int = 0
    report_rows_removed: int = 0
    import_copies_removed: int = 0  # imports whose stored copies held the person
    exports_removed: int = 0  # export files that held the person
    deliveries_redacted: int = 0  # webhook log entries whose event held the person

    def finished(self, at: str) -> Erasure:
        return replace(self, status=COMPLETED, finished_at=at)

    def to_record(self) -> dict[str, Any]:
        return {"id": self.id, "workspace": self.workspace, "kind": self.kind,
                "requested_at": self.requested_at, "requested_by": self.requested_by,
                "status": self.status, "finished_at": self.finished_at,
                "leads_deleted": self.leads_deleted, "lists_touched": self.lists_touched,
                "report_rows_removed": self.report_rows_removed,
                "import_copies_removed": self.import_copies_removed,
                "exports_removed": self.exports_removed,
                "deliveries_redacted": self.deliveries_redacted}

    @staticmethod
    def from_record(record: dict[str, Any]) -> Erasure:
        return Erasure(**{k: record[k] for k in Erasure.__dataclass_fields__ if k in record})

    def to_api(self) -> dict[str, Any]:
        out = self.to_record()
        del out["workspace"]
        return out

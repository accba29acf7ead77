"""An import's lifecycle: its states, the moves between them, and its update modes.

    awaiting_upload → analysing → ready → running → completed | completed_with_errors
          └──────────────┴──────────┴────────┴──→ failed

Every status write names the states it may come from (`sources_of`), and the
store applies it only from one of them (a conditional write): two workers that
race to finish an import cannot both see "this import finished".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import BadRequest


class ImportState(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    ANALYSING = "analysing"
    READY = "ready"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in FINISHED

    @property
    def active(self) -> bool:
        """Work is under way (a queue holds its next step): the watchdog watches it."""
        return self in (ImportState.ANALYSING, ImportState.RUNNING)


FINISHED = frozenset({ImportState.COMPLETED, ImportState.COMPLETED_WITH_ERRORS,
                      ImportState.FAILED})

TRANSITIONS: dict[ImportState, frozenset[ImportState]] = {
    ImportState.AWAITING_UPLOAD: frozenset({ImportState.ANALYSING, ImportState.FAILED}),
    # analysing → analysing: SQS redelivered the upload event after a crash.
    ImportState.ANALYSING: frozenset({ImportState.ANALYSING, ImportState.READY,
                                      ImportState.FAILED}),
    ImportState.READY: frozenset({ImportState.RUNNING, ImportState.FAILED}),
    ImportState.RUNNING: frozenset({ImportState.COMPLETED, ImportState.COMPLETED_WITH_ERRORS,
                                    ImportState.FAILED}),
    ImportState.COMPLETED: frozenset(),
    ImportState.COMPLETED_WITH_ERRORS: frozenset(),
    ImportState.FAILED: frozenset(),
}


def can_move(source: ImportState, target: ImportState) -> bool:
    return target in TRANSITIONS[source]


def sources_of(target: ImportState) -> tuple[ImportState, ...]:
    """The states an import may be in for `target` to be written."""
    return tuple(s for s in ImportState if target in TRANSITIONS[s])


class ImportMode(StrEnum):
    """What a row does to a lead the list already holds (same identity)."""

    SKIP = "skip"              # a duplicate: the lead is untouched
    FILL_EMPTY = "fill_empty"  # the lead gains the values it lacks, nothing it has changes
    OVERWRITE = "overwrite"    # the row's non-empty values replace the lead's


def parse_mode(value: Any) -> ImportMode:
    if value is None:
        return ImportMode.SKIP
    try:
        return ImportMode(value)
    except ValueError:
        modes = [m.value for m in ImportMode]
        raise BadRequest(f"mode is one of {', '.join(modes)}", code="invalid_mode",
                         details={"field": "mode", "modes": modes}) from None

"""Scheduled handlers (EventBridge on AWS, the event pump locally)."""

from __future__ import annotations

from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import flush_metrics


def run_import_watchdog() -> dict[str, Any]:
    """Resume or fail the imports whose progress stalled; returns what it did."""
    try:
        return services().import_watchdog.run().as_dict()
    finally:
        flush_metrics()


def run_sync_dispatcher() -> dict[str, Any]:
    """Start the syncs that are due; returns which started and which were skipped."""
    try:
        return dict(services().syncs.dispatch())
    finally:
        flush_metrics()


def run_follow_ups_due() -> dict[str, Any]:
    """Raise `follow_up.due` for every follow-up whose time has come (once each)."""
    try:
        return dict(services().follow_ups.raise_due())
    finally:
        flush_metrics()

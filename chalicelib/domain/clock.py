"""Timestamps: ISO 8601 UTC with milliseconds and a Z, sortable as text."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    """`2026-01-05T09:00:00.000Z` for any aware (or, taken as UTC, naive) time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time (`Z`, `+00:00` or `+0000` offsets; none means UTC); ValueError."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_now_iso() -> str:
    return iso_utc(datetime.now(UTC))

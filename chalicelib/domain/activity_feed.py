"""The workspace's activity feed (`GET /activity`): its query and its pages (pure).

Feed entries live under one partition a workspace a UTC day
(`FEED#<workspace>#<YYYY-MM-DD>`, sort key `<at>#<activity id>`), so the
feed newest first is a walk over days, newest day first, each read backwards
from where the last page stopped: no scan, and a page never reads a day it
does not return entries from except empty ones. Entries are kept 90 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from chalicelib.domain.activity import Activity
from chalicelib.domain.clock import iso_utc
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, FieldError, ValidationFailed

DEFAULT_DAYS: Final = 30
MAX_DAYS: Final = 90
MAX_TYPES: Final = 20
# A page stops reading (and hands a cursor back) past this many entries read:
# a types filter that matches rarely must not read 90 days in one request.
MAX_READ_PER_PAGE: Final = 2000


@dataclass(frozen=True)
class FeedEntry:
    activity: Activity
    list_id: str

    def to_api(self) -> dict[str, Any]:
        return {**self.activity.to_api(), "list_id": self.list_id}


@dataclass(frozen=True)
class FeedQuery:
    since: str                # ISO UTC: entries at or after it
    types: tuple[str, ...] = ()
    list_id: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], *, now: datetime) -> FeedQuery:
        errors: list[FieldError] = []
        oldest = now - timedelta(days=MAX_DAYS)
        since = now - timedelta(days=DEFAULT_DAYS)
        raw = params.get("since")
        if raw:
            try:
                moment = datetime.fromisoformat(raw)
                since = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            except ValueError:
                errors.append(FieldError("since", "invalid_time",
                                         "since is an ISO 8601 date or time"))
        types = tuple(t for t in (params.get("types") or "").split(",") if t.strip())
        if len(types) > MAX_TYPES or any(len(t) > 40 for t in types):
            errors.append(FieldError("types", "invalid_types",
                                     f"types is a comma-separated list of at most {MAX_TYPES}"))
        list_id = params.get("list_id") or None
        if list_id is not None and len(list_id) > 100:
            errors.append(FieldError("list_id", "invalid_list_id", "list_id is a list's id"))
        if errors:
            raise ValidationFailed(errors)
        return cls(iso_utc(max(since, oldest)), tuple(t.strip() for t in types), list_id)

    def days(self, newest: date) -> list[str]:
        """The days to read, newest first, down to since's."""
        first = date.fromisoformat(self.since[:10])
        count = max(0, (newest - first).days) + 1
        return [(newest - timedelta(days=n)).isoformat() for n in range(count)]


@dataclass(frozen=True)
class FeedPosition:
    """Where a page stopped: a day, and the last key read on it (None: its start)."""

    day: str
    sk: str | None = None
    since: str = ""  # the first page's since: every page reads the same window

    def encode(self, query: FeedQuery) -> str:
        asked = [self.since or query.since, list(query.types), query.list_id]
        return encode_cursor({"f": [self.day, self.sk], "q": asked})

    @classmethod
    def decode(cls, cursor: str, query: FeedQuery) -> FeedPosition:
        data = decode_cursor(cursor)
        where, asked = data.get("f"), data.get("q")
        valid = (isinstance(where, list) and len(where) == 2 and isinstance(where[0], str)
                 and len(where[0]) == 10 and (where[1] is None or isinstance(where[1], str))
                 and isinstance(asked, list) and len(asked) == 3
                 and isinstance(asked[0], str) and len(asked[0]) <= 40
                 and asked[1:] == [list(query.types), query.list_id])
        if not valid or not isinstance(where, list) or not isinstance(asked, list):
            raise BadRequest("cursor is not valid (or belongs to another query)",
                             code="invalid_cursor")
        try:
            date.fromisoformat(where[0])
        except ValueError as exc:
            raise BadRequest("cursor is not valid", code="invalid_cursor") from exc
        return cls(where[0], where[1], asked[0])

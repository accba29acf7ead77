"""`GET /activity`: the workspace's feed, newest first, page by page (no scan)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from chalicelib.domain.activity_feed import (
    MAX_READ_PER_PAGE,
    FeedEntry,
    FeedPosition,
    FeedQuery,
)
from chalicelib.domain.events import CLOCK_SKEW
from chalicelib.services.ports import OutreachStore


class ActivityFeed:
    def __init__(self, store: OutreachStore) -> None:
        self._store = store

    def page(self, workspace: str, params: Mapping[str, str], limit: int,
             cursor: str | None) -> tuple[list[FeedEntry], str | None]:
        now = datetime.now(UTC)
        query = FeedQuery.parse(params, now=now)
        newest = (now + CLOCK_SKEW + timedelta(seconds=1)).date()
        position = FeedPosition.decode(cursor, query) if cursor else None
        if position is not None:
            query = FeedQuery(position.since, query.types, query.list_id)
        days = query.days(newest)
        if position is not None:
            days = [d for d in days if d <= position.day]
        items: list[FeedEntry] = []
        read = 0
        after = position.sk if position is not None else None
        for day in days:
            while True:
                entries, last, scanned = self._store.feed_day(
                    workspace, day, since=query.since, before_sk=after,
                    limit=limit - len(items), types=query.types, list_id=query.list_id)
                items.extend(entries)
                read += scanned
                after = last
                if last is None:
                    break
                if len(items) >= limit or read >= MAX_READ_PER_PAGE:
                    return items, FeedPosition(day, last, query.since).encode(query)
            after = None
            if len(items) >= limit or read >= MAX_READ_PER_PAGE:
                later = [d for d in days if d < day]
                if not later:
                    return items, None
                return items, FeedPosition(later[0], None, query.since).encode(query)
        return items, None

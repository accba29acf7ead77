"""Search, filter, count and stats over a list's leads, through its indexes.

An indexed criterion (status, email status, source, tag) drives the walk:
its index names the leads, which are read by id (strongly consistent) and
checked against the whole filter, so a result is always the lead as it is
now. A filter without one walks the list (at most MAX_EXAMINED_PER_PAGE
leads a request, then a cursor). See domain/lead_query.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_index import stats_from_tallies
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.lead_query import (
    Driver,
    IndexPosition,
    candidates,
    choose,
    exact_count,
    is_driven_cursor,
)
from chalicelib.domain.search_words import first_match
from chalicelib.domain.statuses import EMAIL_STATUSES, LEAD_STATUSES
from chalicelib.services.ports import LeadIndexReader, Repository

# A search that matches rarely must not read a whole 1M-lead list in one
# request: past this many leads examined it returns what it has and a cursor.
MAX_EXAMINED_PER_PAGE = 5000
# Counting by reading the driver's leads stops here (the count is then null).
MAX_COUNTED = 50_000
INDEX_PAGE = 200


class LeadSearch:
    def __init__(self, repo: Repository, index: LeadIndexReader) -> None:
        self._repo = repo
        self._index = index

    def examine(self, lst: LeadList, lead_filter: LeadFilter, start: str | None = None,
                *, page_size: int = INDEX_PAGE) -> Iterator[tuple[Lead, str, bool]]:
        """Every lead the walk reads: (lead, cursor just after it, whether it matches).

        Non-matching leads are yielded too, so a caller can stop on a budget
        even when matches are rare.
        """
        lead_filter = lead_filter.bind(lst.filterable_fields)
        options = candidates(lead_filter)
        if not options or (start is not None and not is_driven_cursor(start)):
            position = LeadPosition.decode(start, lst.shards) if start else None
            for lead, at in self._repo.walk_leads(lst, position, page_size=page_size):
                yield lead, at.encode(), lead_filter.matches(lead)
            return
        if start is not None:
            where = IndexPosition.decode(start, lead_filter, lst.shards)
        else:
            tallies = self._index.tallies(lst)[1] if len(options) > 1 else {}
            driver = choose(lead_filter, tallies) or options[0]
            where = IndexPosition(driver, 0)
        yield from self._driven(lst, lead_filter, where, page_size)

    def _driven(self, lst: LeadList, lead_filter: LeadFilter, where: IndexPosition,
                page_size: int) -> Iterator[tuple[Lead, str, bool]]:
        """Walk the driver's index shard after shard; the leads it names are read
        once a page's worth is gathered, across shards (one BatchGetItem for
        several sparse shards, rather than one each)."""
        driver, after = where.driver, where.sk
        gathered: list[tuple[int, str]] = []  # (shard, index key), in walk order
        for shard in range(where.shard, lst.shards):
            more = True
            while more:
                keys, more = self._index.index_page(lst, driver, shard, after, page_size)
                gathered.extend((shard, key) for key in keys)
                after = keys[-1] if keys else after
                if len(gathered) >= page_size:
                    yield from self._read(lst, lead_filter, driver, gathered)
                    gathered = []
            after = None
        yield from self._read(lst, lead_filter, driver, gathered)

    def _read(self, lst: LeadList, lead_filter: LeadFilter, driver: Driver,
              gathered: list[tuple[int, str]]) -> Iterator[tuple[Lead, str, bool]]:
        ids = [key.rpartition("L#")[2] for _, key in gathered]
        leads = self._index.get_leads(lst, ids) if ids else {}
        for (shard, key), lead_id in zip(gathered, ids, strict=True):
            lead = leads.get(lead_id)  # gone since the index was read: skipped
            if lead is None:
                continue
            matched = lead_filter.matches(lead)
            if matched and driver.field == "q":
                # A lead with two words that begin so is listed at the first.
                first = first_match(lead, driver.value, lead_filter.text_keys)
                matched = key.startswith(f"{first}#L#")
            yield lead, IndexPosition(driver, shard, key).encode(), matched

    def page(self, lst: LeadList, lead_filter: LeadFilter, limit: int,
             cursor: str | None) -> tuple[list[Lead], str | None]:
        items: list[Lead] = []
        # One indexed criterion: (nearly) every candidate matches, so gather no
        # more than asked; with others, candidates are checked, so gather more.
        bound = lead_filter.bind(lst.filterable_fields)
        single = len(bound.as_dict()) <= 1 and len(candidates(bound)) <= 1
        size = min(500, limit + 1 if single else limit * 4)
        for examined, (lead, at, matched) in enumerate(
                self.examine(lst, lead_filter, cursor, page_size=size), start=1):
            if matched:
                items.append(lead)
            if len(items) >= limit or examined >= MAX_EXAMINED_PER_PAGE:
                return items, at
        return items, None

    def count(self, lst: LeadList, lead_filter: LeadFilter) -> int | None:
        """How many leads match: from the tallies when they say, else by reading the
        driver's leads (None past MAX_COUNTED of them)."""
        total, tallies = self._index.tallies(lst)
        exact = exact_count(lead_filter.bind(lst.filterable_fields), tallies, total)
        if exact is not None:
            return exact
        matched = 0
        for examined, (_, _, ok) in enumerate(
                self.examine(lst, lead_filter, page_size=500), start=1):
            matched += ok
            if examined >= MAX_COUNTED:
                return None
        return matched

    def stats(self, lst: LeadList) -> dict[str, Any]:
        total, tallies = self._index.tallies(lst)
        stats = stats_from_tallies([{"n": total, **tallies}])
        # Every status named, zeros included: a client draws them all.
        by_status: dict[str, int] = dict(stats["by_status"])  # type: ignore[call-overload]
        by_email: dict[str, int] = dict(stats["by_email_status"])  # type: ignore[call-overload]
        stats["by_status"] = {s: by_status.get(s, 0) for s in LEAD_STATUSES}
        stats["by_email_status"] = {s: by_email.get(s, 0) for s in EMAIL_STATUSES}
        return stats

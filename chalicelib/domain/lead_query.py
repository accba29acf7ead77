"""How a lead filter is answered: which index drives it, and where a page stands.

A filter with an indexed criterion (status, email status, source, tag, or a
search word of two characters or more) walks
that index shard by shard and reads only the leads it names; the other
criteria are checked on the leads read (LeadFilter.matches). With several
indexed criteria the one matching the fewest leads, by the list's tallies,
drives. The cursor names the driver, so every page of one search walks the
same index even if the counts move meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_index import TALLY_PREFIX, tag_key
from chalicelib.domain.search_words import driving_word

INDEXED_FILTERS = ("status", "email_status", "source", "tag", "campaign")
# Drivers over ranges of sortable keys (no tallies of them): custom fields, lead times.
_RANGE_DRIVERS = ("cf", "time")


@dataclass(frozen=True)
class Driver:
    """The index a search walks: a filter field and the value it asks for."""

    field: str
    value: str
    # A custom field's range of encoded values (domain/custom_index): value is
    # "<key>#<generation>", lo/hi the bounds ("" where open; equal for =).
    lo: str = ""
    hi: str = ""

    def valid_sk(self, sk: str) -> bool:
        """Whether `sk` is a key of this driver's index (a cursor's last key)."""
        if self.field == "q":
            return sk.startswith(self.value) and "#L#" in sk
        if self.field in _RANGE_DRIVERS:
            return "#L#" in sk
        return sk.startswith("L#")

    @property
    def tally(self) -> str:
        value = tag_key(self.value) if self.field == "tag" else self.value
        return TALLY_PREFIX[self.field] + value


def candidates(lead_filter: LeadFilter) -> list[Driver]:
    options = [Driver(name, str(getattr(lead_filter, name))) for name in INDEXED_FILTERS
               if getattr(lead_filter, name)]
    word = driving_word(lead_filter.q) if lead_filter.q else None
    if word is not None:
        options.append(Driver("q", word))
    ranges: dict[tuple[str, int], list[str]] = {}
    for c in lead_filter.custom:
        if not c.kind:  # not bound to the list's fields: cannot drive
            continue
        lo, hi = ranges.setdefault((c.key, c.generation), ["", ""])
        ranges[(c.key, c.generation)] = [c.encoded if c.op in ("eq", "gte") else lo,
                                         c.encoded if c.op in ("eq", "lte") else hi]
    options.extend(Driver("cf", f"{key}#{gen}", lo, hi)
                   for (key, gen), (lo, hi) in sorted(ranges.items()))
    for name in sorted({n for n, _, _ in lead_filter.times}):
        options.append(Driver("time", name, *lead_filter.time_range(name)))
    return options


# A word typed into the search box, or a custom field's value, is taken to
# match about this many leads (there are no tallies of them): an indexed
# filter with fewer drives instead. A range is taken to match many more.
ASSUMED_WORD_MATCHES = 1000
ASSUMED_RANGE_MATCHES = 1_000_000


def _assumed(driver: Driver, tallies: Mapping[str, int]) -> int:
    if driver.field == "q" or (driver.field == "cf" and driver.lo == driver.hi):
        return ASSUMED_WORD_MATCHES
    if driver.field in _RANGE_DRIVERS:
        return ASSUMED_RANGE_MATCHES
    return tallies.get(driver.tally, 0)


def choose(lead_filter: LeadFilter, tallies: Mapping[str, int]) -> Driver | None:
    """The indexed criterion matching the fewest leads (ties: the first named)."""
    options = candidates(lead_filter)
    if not options:
        return None
    return min(options, key=lambda d: _assumed(d, tallies))


def exact_count(lead_filter: LeadFilter, tallies: Mapping[str, int],
                total: int) -> int | None:
    """The count the tallies alone give: no criterion, or one indexed criterion."""
    set_fields = [k for k, v in lead_filter.as_dict().items() if v]
    if not set_fields:
        return total
    options = [d for d in candidates(lead_filter)
               if d.field not in ("q", *_RANGE_DRIVERS)]  # no tallies of words or ranges
    if len(set_fields) == 1 and len(options) == 1:
        return max(0, tallies.get(options[0].tally, 0))
    return None


@dataclass(frozen=True)
class IndexPosition:
    """Where a driven walk stands: its driver, shard, and the last lead key consumed."""

    driver: Driver
    shard: int
    sk: str | None = None

    def encode(self) -> str:
        d = self.driver
        return encode_cursor({"d": [d.field, d.value, d.lo, d.hi], "s": self.shard,
                              "k": self.sk})

    @classmethod
    def decode(cls, cursor: str, lead_filter: LeadFilter, shards: int) -> IndexPosition:
        data = decode_cursor(cursor)
        driver, shard, sk = data.get("d"), data.get("s"), data.get("k")
        valid = (isinstance(driver, list) and len(driver) in (2, 4)
                 and all(isinstance(x, str) for x in driver)
                 and Driver(*driver) in candidates(lead_filter)
                 and isinstance(shard, int) and not isinstance(shard, bool)
                 and 0 <= shard < shards
                 and (sk is None or (isinstance(sk, str)
                                     and Driver(*driver).valid_sk(sk))))
        if not valid or not isinstance(driver, list) or not isinstance(shard, int):
            raise BadRequest("cursor is not valid (or belongs to another filter)",
                             code="invalid_cursor")
        return cls(Driver(*driver), shard, sk if isinstance(sk, str) else None)


def is_driven_cursor(cursor: str) -> bool:
    return "d" in decode_cursor(cursor)

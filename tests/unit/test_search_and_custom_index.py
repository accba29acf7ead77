"""Pure rules of the indexes: search words, custom-field encodings, query planning."""

from __future__ import annotations

import random

import pytest

from chalicelib.domain.custom_index import FilterableField, encode, parse_filterable
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_index import postings, stepping_stones, tally_change
from chalicelib.domain.lead_query import Driver, IndexPosition, choose, exact_count
from chalicelib.domain.search_words import first_match, lead_words, query_words


def _lead(**fields: object) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="c", updated_at="u", **fields)  # type: ignore[arg-type]


ADA = _lead(first_name="Ada", last_name="Lovelace", company="Analytical Engines Ltd",
            job_title="Head of Research", location="Zürich", email="ada.lovelace@gmail.com",
            phone="+14155550134")


def test_lead_words_cover_every_searchable_field_folded() -> None:
    words = lead_words(ADA)
    for word in ("ada", "lovelace", "analytical", "engines", "head", "research", "zurich",
                 "ada.lovelace@gmail.com", "gmail.com", "gmail", "14155550134", "4155550134"):
        assert word in words
    assert "com" not in words  # the last domain label would match every lead


@pytest.mark.parametrize(("q", "words"), [
    ("Ada Love", ["ada", "love"]), ("ZÜRI", ["zuri"]), ("ada.lo@gm", ["ada.lo@gm"]),
    ("gmail.com", ["gmail.com"]), ("415 555 0134", ["4155550134"]),
    ("+1 (415) 555", ["1415555"]), ("12", ["12"]),
])
def test_query_words(q: str, words: list[str]) -> None:
    assert query_words(q) == words


def test_a_lead_is_listed_at_its_first_matching_word() -> None:
    lead = _lead(first_name="Anna", company="Annapurna Annex")
    assert first_match(lead, "ann") == "anna"
    assert first_match(lead, "annex") == "annex"
    assert first_match(lead, "zz") is None


@pytest.mark.parametrize(("kind", "values"), [
    ("number", [-1e9, -2.5, "-1", 0, "0.5", 1, "2", 10, "1,000", 1e12]),
    ("date", ["1999-12-31", "2026-01-01T23:00:00Z", "2026-01-02"]),
    ("boolean", ["no", True]),
])
def test_encodings_sort_as_their_type(kind: str, values: list[object]) -> None:
    encoded = [encode(v, kind) for v in values]
    assert None not in encoded
    assert encoded == sorted(encoded)  # type: ignore[type-var]
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)
    assert sorted(encode(v, kind) for v in shuffled) == encoded  # type: ignore[type-var]


@pytest.mark.parametrize(("value", "kind"), [
    ("lots", "number"), (True, "number"), ("nan", "number"), ("soon", "date"),
    ("maybe", "boolean"), ("", "text"), (None, "number"),
])
def test_values_not_of_the_type_are_not_indexed(value: object, kind: str) -> None:
    assert encode(value, kind) is None


def test_filterable_fields_keep_their_generation_unless_retyped() -> None:
    first = parse_filterable([{"key": "Company Size", "type": "number"}], (), 1)
    assert first == (FilterableField("company_size", "number", 1),)
    kept = parse_filterable([{"key": "company_size", "type": "number"},
                             {"key": "vip", "type": "boolean"}], first, 2)
    assert [f.generation for f in kept] == [1, 2]
    retyped = parse_filterable([{"key": "company_size", "type": "text"}], kept, 3)
    assert retyped[0].generation == 3
    with pytest.raises(ValidationFailed):
        parse_filterable([{"key": "a", "type": "text"}] * 2, (), 1)


def test_custom_postings_follow_the_value_and_generation() -> None:
    field = FilterableField("size", "number", 4, True)
    lead = _lead(custom_fields={"size": "250"})
    keys = {p.pk for p in postings(lead, 3, [field])}
    assert "CF#ls_1#003#size#4" in keys
    assert not {p for p in postings(_lead(custom_fields={"size": "many"}), 3, [field])
                if p.pk.startswith("CF#")}


def test_stepping_stones_split_a_big_tag_change_into_consistent_leads() -> None:
    before = _lead(tags=tuple(f"a{i}" for i in range(50)))
    after = _lead(tags=tuple(f"b{i}" for i in range(50)))
    stones = stepping_stones(before, after)
    assert [len(s.tags) for s in stones] == [0, 50]
    assert stones[-1].tags == after.tags


def test_tallies_move_with_a_change() -> None:
    before = _lead(status="new", tags=("VIP",))
    after = _lead(status="replied", tags=("vip", "cold"))
    assert tally_change(before, after) == {"s:new": -1, "s:replied": 1, "t:cold": 1}


def test_the_rarest_indexed_criterion_drives_and_counts_come_from_tallies() -> None:
    f = LeadFilter(status="new", tag="vip")
    assert choose(f, {"s:new": 900, "t:vip": 12}) == Driver("tag", "vip")
    assert choose(LeadFilter(status="new", q="zephyr"), {"s:new": 90_000}).field == "q"
    assert exact_count(LeadFilter(tag="VIP"), {"t:vip": 7}, 100) == 7
    assert exact_count(LeadFilter(), {}, 100) == 100
    assert exact_count(f, {"s:new": 900, "t:vip": 12}, 1000) is None


def test_a_cursor_is_refused_by_another_filter() -> None:
    cursor = IndexPosition(Driver("tag", "vip"), 2, "L#ld_9").encode()
    assert IndexPosition.decode(cursor, LeadFilter(tag="vip"), 16).shard == 2
    with pytest.raises(Exception, match="cursor"):
        IndexPosition.decode(cursor, LeadFilter(tag="cold"), 16)
    with pytest.raises(Exception, match="cursor"):
        IndexPosition.decode(cursor, LeadFilter(tag="vip"), 2)

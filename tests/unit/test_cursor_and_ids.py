"""Tests for chalicelib.domain.cursor and chalicelib.domain.ids."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.cursor import (
    MAX_CURSOR_LENGTH,
    LeadPosition,
    decode_cursor,
    encode_cursor,
)
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.ids import fingerprint, new_id, shard_of


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _assert_invalid_cursor(cursor: str, shards: int | None = None,
                           *, position: bool = False) -> None:
    with pytest.raises(BadRequest) as info:
        if position:
            LeadPosition.decode(cursor, shards)
        else:
            decode_cursor(cursor)
    assert info.value.code == "invalid_cursor"
    assert info.value.status == 400


# --- cursor -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    {}, {"k": "A#ld_1#2024"}, {"s": 3, "k": None}, {"k": "é ü 🙂", "n": [1, 2], "b": True},
])
def test_cursor_round_trip(data: dict[str, Any]) -> None:
    cursor = encode_cursor(data)
    assert decode_cursor(cursor) == data
    # URL-safe: no padding, no '+' or '/'
    assert re.fullmatch(r"[A-Za-z0-9_-]*", cursor)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.text(), JSON_VALUES, max_size=5))
def test_cursor_round_trip_property(data: dict[str, Any]) -> None:
    cursor = encode_cursor(data)
    if len(cursor) <= MAX_CURSOR_LENGTH:
        assert decode_cursor(cursor) == data


@settings(max_examples=300, deadline=None)
@given(cursor=st.text(max_size=100) | st.text("ABCDEFabcdef0123456789-_=", max_size=100))
def test_decode_cursor_only_raises_bad_request(cursor: str) -> None:
    try:
        data = decode_cursor(cursor)
    except BadRequest as exc:
        assert exc.code == "invalid_cursor"
    else:
        assert isinstance(data, dict)


@pytest.mark.parametrize("cursor", [
    "", "!!!", "not a cursor", "é", "%%%", _b64(b"\xff\xfe\x00"), _b64(b"{not json"),
])
def test_garbage_cursor_rejected(cursor: str) -> None:
    _assert_invalid_cursor(cursor)


@pytest.mark.parametrize("value", [[1, 2], "s", 3, None, True])
def test_non_object_json_cursor_rejected(value: Any) -> None:
    _assert_invalid_cursor(_b64(json.dumps(value).encode()))


def test_over_long_cursor_rejected() -> None:
    # GIVEN a well-formed cursor just over the limit
    cursor = encode_cursor({"k": "x" * 1600})
    assert len(cursor) > MAX_CURSOR_LENGTH
    _assert_invalid_cursor(cursor)
    # AND one that fits is accepted
    assert decode_cursor(encode_cursor({"k": "x" * 1400})) == {"k": "x" * 1400}


def test_deeply_nested_cursor_rejected_as_invalid() -> None:
    cursor = _b64(b"[" * 1500)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    _assert_invalid_cursor(cursor)


def test_lead_position_round_trip() -> None:
    for position in (LeadPosition(0), LeadPosition(7, "L#ld_01abc"), LeadPosition(15, "L#")):
        assert LeadPosition.decode(position.encode(), 16) == position
        assert LeadPosition.decode(position.encode()) == position


@pytest.mark.parametrize(("data", "shards"), [
    ({"s": 16, "k": None}, 16),  # shard out of range
    ({"s": 99}, 4),
    ({"s": -1, "k": None}, None),  # negative
    ({"s": "1", "k": None}, None),  # not an int
    ({"s": 1.0, "k": None}, None),
    ({"k": "L#ld_1"}, None),  # no shard
    ({"s": 0, "k": "A#ld_1"}, None),  # not a lead key
    ({"s": 0, "k": "l#ld_1"}, None),
    ({"s": 0, "k": 5}, None),
    ({"s": 0, "k": ["L#x"]}, None),
])
def test_lead_position_rejects_bad_positions(data: dict[str, Any], shards: int | None) -> None:
    _assert_invalid_cursor(encode_cursor(data), shards, position=True)


def test_lead_position_rejects_garbage() -> None:
    _assert_invalid_cursor("garbage!", 16, position=True)


def test_lead_position_without_shard_count_accepts_any_shard() -> None:
    assert LeadPosition.decode(encode_cursor({"s": 1000, "k": None})) == LeadPosition(1000)


# --- ids --------------------------------------------------------------------------------------

ID_PATTERN = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")  # Crockford base32, lowercase


@pytest.mark.parametrize("prefix", ["ls", "ld", "ac"])
def test_new_id_prefix_and_length(prefix: str) -> None:
    value = new_id(prefix)
    assert value.startswith(prefix + "_")
    assert len(value) == len(prefix) + 1 + 26
    assert ID_PATTERN.fullmatch(value[len(prefix) + 1:])


def test_new_id_encodes_the_time_first() -> None:
    assert new_id("ld", now_ms=0).startswith("ld_0000000000")
    assert new_id("ld", now_ms=31).startswith("ld_000000000z")
    assert new_id("ld", now_ms=32).startswith("ld_0000000010")


def test_new_ids_are_unique() -> None:
    ids = {new_id("ld", now_ms=1_700_000_000_000) for _ in range(1000)}
    assert len(ids) == 1000


@settings(max_examples=200, deadline=None)
@given(times=st.lists(st.integers(min_value=0, max_value=2**50 - 1), min_size=2, max_size=20,
                      unique=True))
def test_new_id_sorts_by_time(times: list[int]) -> None:
    ids = [new_id("ld", now_ms=t) for t in times]
    assert sorted(ids) == [new_id_ for _, new_id_ in sorted(zip(times, ids, strict=True))]


def test_new_id_time_ordered_for_increasing_now() -> None:
    ids = [new_id("ac", now_ms=ms) for ms in range(1_700_000_000_000, 1_700_000_000_050)]
    assert ids == sorted(ids)


def test_shard_of_is_stable_and_in_range() -> None:
    assert shard_of("ld_abc", 16) == shard_of("ld_abc", 16)
    assert shard_of("anything", 1) == 0
    for n in range(200):
        assert 0 <= shard_of(f"ld_{n}", 7) < 7


def test_shard_of_is_roughly_uniform() -> None:
    # GIVEN 10,000 fresh ids over 16 shards (625 expected in each)
    counts = Counter(shard_of(new_id("ld"), 16) for _ in range(10_000))

    # THEN every shard is used and none is far off the mean
    assert set(counts) == set(range(16))
    assert all(400 <= c <= 850 for c in counts.values()), counts


def test_fingerprint_fixed_length_and_stable() -> None:
    values = ["", "a@example.com", "x" * 10_000, "jürgen@bücher.de"]
    prints = [fingerprint(v) for v in values]
    assert all(len(p) == 40 and re.fullmatch(r"[0-9a-f]{40}", p) for p in prints)
    assert len(set(prints)) == len(values)
    assert fingerprint("a@example.com") == prints[1]


def test_deterministic_id_depends_only_on_key_and_time():
    from chalicelib.domain.ids import deterministic_id

    a = deterministic_id("ld", "im_1:2", now_ms=1_700_000_000_000)
    assert a == deterministic_id("ld", "im_1:2", now_ms=1_700_000_000_000)
    assert a != deterministic_id("ld", "im_1:3", now_ms=1_700_000_000_000)
    assert a.startswith("ld_") and len(a) == len(new_id("ld"))
    assert a < deterministic_id("ld", "im_1:2", now_ms=1_700_000_000_001)

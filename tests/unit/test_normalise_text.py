"""Examples for chalicelib.domain.text."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.text import (
    MAX_CUSTOM_FIELDS,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
    clean_text,
    normalise_custom_field_key,
    normalise_tag,
)


def test_constants() -> None:
    assert (MAX_TEXT_LENGTH, MAX_CUSTOM_FIELDS, MAX_TAGS) == (1000, 100, 50)


# --- clean_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Corp", "Acme Corp"),
        ("  Acme Corp \n", "Acme Corp"),
        ("line one\nline two", "line one\nline two"),
        ("col1\tcol2", "col1\tcol2"),
        ("win\r\nline", "win\nline"),
        ("old mac\rline", "old mac\nline"),
        ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("\u202egnp.exe", "gnp.exe"),
        ("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk\u061cl",
         "abcdefghijkl"),
        ("", None),
        ("   \n\t ", None),
        ("\u202e \u200f", None),
    ],
)
def test_clean_text(raw: str, expected: str | None) -> None:
    assert clean_text(raw, field="notes") == expected
    assert clean_text(raw, field="notes", controls="strip") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x00b", "ab"),
        ("\x00  padded\x1f ", "padded"),
        ("bell\x07 esc\x1b", "bell esc"),
        ("\x7f gone", "gone"),
        ("\x00\x01\x02", None),
        # C1: a mis-decoded accented letter, marked where it was
        ("H\x8el\x8fne", "H\ufffdl\ufffdne"),
    ],
)
def test_clean_text_strips_controls_from_imported_cells(raw: str, expected: str | None) -> None:
    assert clean_text(raw, field="notes", controls="strip") == expected


@pytest.mark.parametrize("raw", ["a\x00b", "\x00", "bell\x07", "esc\x1b", "del\x7f", "c1\x85",
                                 "vt\x0bline"])
def test_clean_text_refuses_controls_in_api_input(raw: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        clean_text(raw, field="name")
    assert excinfo.value.code == "invalid_text"
    assert excinfo.value.details["field"] == "name"
    assert excinfo.value.details["character"].startswith("U+")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada \t Lovelace\n", "Ada Lovelace"),
        ("two\r\nlines", "two lines"),
        ("Ada\u202e  Lovelace", "Ada Lovelace"),
    ],
)
def test_single_line_text_has_one_space_for_any_whitespace(raw: str, expected: str) -> None:
    assert clean_text(raw, field="first_name", multiline=False) == expected


def test_clean_text_length_is_checked_after_stripping() -> None:
    # GIVEN text at the limit, padded with whitespace
    raw = "  " + "x" * MAX_TEXT_LENGTH + "  "

    # WHEN
    result = clean_text(raw, field="notes")

    # THEN
    assert result == "x" * MAX_TEXT_LENGTH


@pytest.mark.parametrize(("max_length", "raw"), [(1000, "x" * 1001), (10, "hello world")])
def test_clean_text_too_long(max_length: int, raw: str) -> None:
    # WHEN
    with pytest.raises(InvalidValue) as excinfo:
        clean_text(raw, field="company", max_length=max_length)

    # THEN
    assert excinfo.value.code == "value_too_long"
    assert excinfo.value.details == {"field": "company", "max_length": max_length}


# --- normalise_tag --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("vip", "vip"),
        ("  VIP  ", "VIP"),
        ("trade   show\t2024", "trade show 2024"),
        ("multi\nline\r\ntag", "multi line tag"),
        ("vip\u202e", "vip"),
        ("\u00a0non-breaking\u00a0", "non-breaking"),
        ("cafe\u0301", "caf\u00e9"),
        ("t" * 64, "t" * 64),
    ],
)
def test_normalise_tag(raw: str, expected: str) -> None:
    assert normalise_tag(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "\u202e", "t" * 65, "bad \ud800 tag"])
def test_normalise_tag_rejects(raw: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        normalise_tag(raw)
    assert excinfo.value.code == "invalid_tag"


def test_a_control_character_in_a_tag_is_refused_or_stripped() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        normalise_tag("nul\x00byte")
    assert excinfo.value.code == "invalid_text"
    assert normalise_tag("nul\x00byte", controls="strip") == "nulbyte"
    with pytest.raises(InvalidValue) as excinfo:
        normalise_tag("\x00", controls="strip")
    assert excinfo.value.code == "invalid_tag"


# --- normalise_custom_field_key -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("company_size", "company_size"),
        ("Company Size", "company_size"),
        ("  Company   Size  ", "company_size"),
        ("Company-Size", "company_size"),
        ("Annual Revenue ($)", "annual_revenue"),
        ("__private__", "private"),
        ("a__b", "a_b"),
        ("a - b / c", "a_b_c"),
        ("Q1 2024: Budget?", "q1_2024_budget"),
        ("Größe", "größe"),
        ("\uff23\uff4f\uff4d\uff50\uff41\uff4e\uff59 Size", "company_size"),
        ("\ufb01eld", "field"),
        ("cafe\u0301", "caf\u00e9"),
        ("हिंदी नाम", "हिंदी_नाम"),
        ("k" * 64, "k" * 64),
        ("  " + "k" * 64 + "!!", "k" * 64),
    ],
)
def test_normalise_custom_field_key(raw: str, expected: str) -> None:
    assert normalise_custom_field_key(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "___", "?!", "\x00", "k" * 65, "a " * 40])
def test_normalise_custom_field_key_rejects(raw: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        normalise_custom_field_key(raw)
    assert excinfo.value.code == "invalid_custom_field_key"


def test_normalise_custom_field_key_long_input_is_not_cached_but_works() -> None:
    # GIVEN a raw key longer than the cache bound that still normalises short
    raw = "a" + " " * 1000 + "b"

    # WHEN / THEN
    assert normalise_custom_field_key(raw) == "a_b"

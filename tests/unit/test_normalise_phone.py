"""Examples for chalicelib.domain.phone.normalise_phone."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.phone import Phone, is_valid_region, normalise_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # 10 digits with region US -> +1
        ("(415) 555-0134", "US", Phone("+14155550134", None)),
        ("415-555-0134", "US", Phone("+14155550134", None)),
        ("4155550134", "US", Phone("+14155550134", None)),
        # 11 digits starting with 1 -> +1
        ("1 415 555 0134", "US", Phone("+14155550134", None)),
        ("14155550134", "US", Phone("+14155550134", None)),
        ("+1 (415) 555-0134", "US", Phone("+14155550134", None)),
        # international with '+'
        ("+44 20 7946 0018", "US", Phone("+442079460018", None)),
        ("+44 20 7946 0018", "GB", Phone("+442079460018", None)),
        # "00" international prefix, also where the region's own prefix differs
        ("0044 20 7946 0018", "US", Phone("+442079460018", None)),
        ("0044 20 7946 0018", "GB", Phone("+442079460018", None)),
        ("001 415 555 0134", "US", Phone("+14155550134", None)),
        # the region's own international prefix still works
        ("011 44 20 7946 0018", "US", Phone("+442079460018", None)),
        ("0011 44 20 7946 0018", "AU", Phone("+442079460018", None)),
        # national format of another default region
        ("020 7946 0018", "GB", Phone("+442079460018", None)),
        ("020 7946 0018", "gb", Phone("+442079460018", None)),
        # extensions
        ("415-555-0134 ext. 12", "US", Phone("+14155550134", "12")),
        ("415-555-0134 x12", "US", Phone("+14155550134", "12")),
        ("415-555-0134 ext. \u0661\u0662", "US", Phone("+14155550134", "12")),
        # surrounding whitespace and full-width digits
        ("  (415) 555-0134\n", "US", Phone("+14155550134", None)),
        ("\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff13\uff14", "US",
         Phone("+14155550134", None)),
    ],
)
def test_normalise_phone_accepts(raw: str, region: str, expected: Phone) -> None:
    # WHEN
    result = normalise_phone(raw, region)

    # THEN
    assert result == expected


def test_default_region_is_us() -> None:
    assert normalise_phone("(415) 555-0134") == Phone("+14155550134", None)


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", "US", "unparseable_phone"),
        ("   ", "US", "unparseable_phone"),
        ("abc", "US", "unparseable_phone"),
        ("call me", "US", "unparseable_phone"),
        ("1", "US", "unparseable_phone"),
        ("+", "US", "unparseable_phone"),
        ("+0044 20", "US", "unparseable_phone"),
        ("4" * 65, "US", "unparseable_phone"),
        ("+1 415 555 0134" + " " * 40 + "ext 1234567", "US", "unparseable_phone"),
        # parses, but no such number
        ("123", "US", "invalid_phone"),
        ("+1 415 555 01", "US", "invalid_phone"),
        ("555-0134", "US", "invalid_phone"),
        ("14155550134", "GB", "invalid_phone"),
        ("+44 20 7946", "US", "invalid_phone"),
        ("0044 20 7946 001", "US", "invalid_phone"),
        ("(415) 555-0134", "XX", "invalid_region"),
        ("(415) 555-0134", "", "invalid_region"),
        ("(415) 555-0134", "USA", "invalid_region"),
    ],
)
def test_normalise_phone_rejects(raw: str, region: str, code: str) -> None:
    # WHEN
    with pytest.raises(InvalidValue) as excinfo:
        normalise_phone(raw, region)

    # THEN
    assert excinfo.value.code == code


def test_length_limit_counts_after_trimming() -> None:
    # GIVEN a 64-character number, and the same number with padding around it
    at_limit = "+1" + " " * (64 - len("+1415 555 0134")) + "415 555 0134"
    padded = " " * 100 + "(415) 555-0134" + " " * 100

    # WHEN / THEN
    assert len(at_limit) == 64
    assert normalise_phone(at_limit).e164 == "+14155550134"
    assert normalise_phone(padded).e164 == "+14155550134"


def test_phone_is_frozen() -> None:
    phone = normalise_phone("(415) 555-0134")
    with pytest.raises(AttributeError):
        phone.e164 = "+1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("US", True), ("GB", True), ("gb", True), ("DE", True), ("XX", False), ("ZZ", False),
     ("001", False), ("", False), ("USA", False)],
)
def test_is_valid_region(code: str, expected: bool) -> None:
    assert is_valid_region(code) is expected

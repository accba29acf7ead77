"""Examples for chalicelib.domain.email_address."""

from __future__ import annotations

import pytest

from chalicelib.domain.email_address import MAX_EMAIL_LENGTH, email_domain, normalise_email
from chalicelib.domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane.Doe@Example.COM \n", "jane.doe@example.com"),
        ("JANE+LEADS@EXAMPLE.COM", "jane+leads@example.com"),
        ("o'brien@example.co.uk", "o'brien@example.co.uk"),
        # internationalised domain: unicode form, lowercased, either spelling
        ("jane@bücher.de", "jane@bücher.de"),
        ("JANE@BÜCHER.DE", "jane@bücher.de"),
        ("jane@xn--bcher-kva.de", "jane@bücher.de"),
        # internationalised local part
        ("Jürgen@example.com", "jürgen@example.com"),
    ],
)
def test_normalise_email_accepts(raw: str, expected: str) -> None:
    # WHEN
    result = normalise_email(raw)

    # THEN
    assert result == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "jane",
        "jane@",
        "@example.com",
        "jane@@example.com",
        "jane doe@example.com",
        "jane@example",
        "jane@localhost",
        "jane@example..com",
        "jane.@example.com",
        "jane@example.com.",
        '"jane doe"@example.com',
        "jane@[192.0.2.1]",
        "jane\x00@example.com",
        "jane\ud800@example.com",
        "jane@exa\u00admple.com",
    ],
)
def test_normalise_email_rejects(raw: str) -> None:
    # WHEN
    with pytest.raises(InvalidValue) as excinfo:
        normalise_email(raw)

    # THEN
    assert excinfo.value.code == "invalid_email"


def test_max_length_is_254() -> None:
    # GIVEN addresses of 254 and 255 characters (DNS labels kept under 63)
    at_limit = "a" * 58 + "@" + ".".join(["b" * 62] * 3) + ".cc.com"
    too_long = "x" + at_limit

    # WHEN / THEN
    assert len(at_limit) == MAX_EMAIL_LENGTH
    assert normalise_email(at_limit) == at_limit
    with pytest.raises(InvalidValue) as excinfo:
        normalise_email(too_long)
    assert excinfo.value.code == "invalid_email"


def test_local_part_over_64_characters_is_accepted() -> None:
    # email-validator's default (non-strict) mode: such addresses exist in the wild.
    assert normalise_email("A" * 65 + "@example.com") == "a" * 65 + "@example.com"


def test_oversized_input_is_rejected_without_validation() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        normalise_email("a" * 1_000_000 + "@example.com")
    assert excinfo.value.code == "invalid_email"


def test_error_message_says_what_is_wrong() -> None:
    with pytest.raises(InvalidValue) as excinfo:
        normalise_email("jane@example")
    assert "@" in excinfo.value.message


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("jane@example.com", "example.com"),
        ("jane@bücher.de", "bücher.de"),
        ("jane@mail.example.co.uk", "mail.example.co.uk"),
    ],
)
def test_email_domain(email: str, domain: str) -> None:
    assert email_domain(email) == domain


def test_email_domain_of_a_normalised_address() -> None:
    assert email_domain(normalise_email("Jane@Example.COM")) == "example.com"


@pytest.mark.parametrize("email", ["", "jane", "jane@"])
def test_email_domain_rejects_address_without_domain(email: str) -> None:
    with pytest.raises(InvalidValue) as excinfo:
        email_domain(email)
    assert excinfo.value.code == "invalid_email"

"""Property tests for the normalisers: idempotence, and InvalidValue as the only failure."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from chalicelib.domain.email_address import email_domain, normalise_email
from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.linkedin import normalise_linkedin_url
from chalicelib.domain.phone import normalise_phone
from chalicelib.domain.text import clean_text, normalise_custom_field_key, normalise_tag

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])

# Every code point including lone surrogates, which JSON bodies can carry.
ANY_CHAR = st.characters(exclude_categories=())
WEIRD_TEXT = st.text() | st.text(ANY_CHAR) | st.text(ANY_CHAR, max_size=600)

REGIONS = st.sampled_from(["US", "GB", "DE", "FR", "AU", "IN", "JP", "BR", "CA"])

PHONE_LIKE = st.builds(
    lambda prefix, groups, ext: prefix + " ".join(groups) + ext,
    st.sampled_from(["", "+", "+1 ", "+44 ", "00", "0044 ", "1 ", "(", "0"]),
    st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=5),
    st.sampled_from(["", " ext. 12", " x7", " ext 1234"]),
)
KNOWN_PHONES = st.sampled_from(
    ["(415) 555-0134", "+44 20 7946 0018", "415-555-0134 ext. 12", "030 901820",
     "+61 2 9876 5432", "+33 1 23 45 67 89", "+91 98765 43210", "020 7946 0018"],
)


def _example_phone(region: str, number_type: int, number_format: int, ext: str) -> str:
    example = phonenumbers.example_number_for_type(region, number_type)
    return "" if example is None else phonenumbers.format_number(example, number_format) + ext


# Real, valid numbers from phonenumbers' own metadata, written in several styles.
EXAMPLE_PHONES = st.builds(
    _example_phone,
    st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
    st.sampled_from([PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE]),
    st.sampled_from([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL,
                     PhoneNumberFormat.RFC3966]),
    st.sampled_from(["", " ext. 12", " x7"]),
)

EMAIL_LIKE = (
    st.emails()
    | st.builds(lambda local, domain: f"{local}@{domain}",
                st.text(st.characters(categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=20)
                | st.text(min_size=1, max_size=20),
                st.sampled_from(["example.com", "EXAMPLE.COM", "bücher.de", "xn--bcher-kva.de",
                                 "Mail.Example.Co.UK", "例え.jp"]))
)

SLUG = st.text(st.characters(categories=["Lu", "Ll", "Lo", "Nd", "Mn"], include_characters="-_"),
               min_size=1, max_size=30)
LINKEDIN_LIKE = st.builds(
    lambda scheme, host, slug, encode, tail: f"{scheme}{host}/in/{quote(slug) if encode else slug}"
    + tail,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.sampled_from(["linkedin.com", "www.linkedin.com", "uk.linkedin.com", "m.linkedin.com",
                     "WWW.LinkedIn.com", "example.com"]),
    SLUG,
    st.booleans(),
    st.sampled_from(["", "/", "?trk=x", "#top", "/details/experience/"]),
)


def _accepts_or_invalid(func: Callable[[str], object], raw: str) -> object | None:
    """Run `func`; InvalidValue gives None, any other exception fails the test."""
    try:
        return func(raw)
    except InvalidValue as exc:
        assert exc.code
        assert isinstance(exc.message, str)
        return None


# --- phone ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT | PHONE_LIKE | EXAMPLE_PHONES, region=REGIONS)
def test_phone_never_raises_anything_but_invalid_value(raw: str, region: str) -> None:
    _accepts_or_invalid(lambda value: normalise_phone(value, region), raw)


@PROPERTY_SETTINGS
@given(raw=PHONE_LIKE | KNOWN_PHONES | EXAMPLE_PHONES, region=REGIONS, other_region=REGIONS)
def test_phone_is_idempotent(raw: str, region: str, other_region: str) -> None:
    # GIVEN a number that normalises
    try:
        phone = normalise_phone(raw, region)
    except InvalidValue:
        return

    # WHEN its E.164 form (plus extension) is normalised again, in any region
    again_text = phone.e164 if phone.extension is None else f"{phone.e164} ext. {phone.extension}"
    again = normalise_phone(again_text, other_region)

    # THEN nothing changes
    assert again == phone
    assert phone.e164.startswith("+")
    assert phone.e164[1:].isdigit()
    assert phone.extension is None or (phone.extension.isascii() and phone.extension.isdigit())


# --- email ----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT | EMAIL_LIKE)
def test_email_never_raises_anything_but_invalid_value(raw: str) -> None:
    _accepts_or_invalid(normalise_email, raw)


@PROPERTY_SETTINGS
@given(raw=EMAIL_LIKE)
def test_email_is_idempotent(raw: str) -> None:
    # GIVEN an address that normalises
    result = _accepts_or_invalid(normalise_email, raw)
    if result is None:
        return
    assert isinstance(result, str)

    # WHEN / THEN
    assert normalise_email(result) == result
    assert result == result.lower()
    assert len(result) <= 254
    assert email_domain(result) == result.rpartition("@")[2]


# --- linkedin -------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT | LINKEDIN_LIKE)
def test_linkedin_never_raises_anything_but_invalid_value(raw: str) -> None:
    _accepts_or_invalid(normalise_linkedin_url, raw)


@PROPERTY_SETTINGS
@given(raw=LINKEDIN_LIKE)
def test_linkedin_is_idempotent(raw: str) -> None:
    result = _accepts_or_invalid(normalise_linkedin_url, raw)
    if result is None:
        return
    assert isinstance(result, str)

    assert normalise_linkedin_url(result) == result
    assert result.startswith("https://www.linkedin.com/in/")


# --- text -----------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT, max_length=st.integers(min_value=1, max_value=1000))
def test_clean_text_is_idempotent_and_only_raises_invalid_value(raw: str, max_length: int) -> None:
    # WHEN
    result = _accepts_or_invalid(lambda v: clean_text(v, field="notes", max_length=max_length),
                                 raw)

    # THEN
    if result is not None:
        assert isinstance(result, str)
        assert clean_text(result, field="notes", max_length=max_length) == result
        assert result == result.strip()
        assert len(result) <= max_length
        result.encode("utf-8")  # storable: no lone surrogates left


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT)
def test_tag_is_idempotent_and_only_raises_invalid_value(raw: str) -> None:
    result = _accepts_or_invalid(normalise_tag, raw)
    if result is not None:
        assert isinstance(result, str)
        assert normalise_tag(result) == result
        assert 0 < len(result) <= 64


@PROPERTY_SETTINGS
@given(raw=WEIRD_TEXT)
def test_custom_field_key_is_idempotent_and_only_raises_invalid_value(raw: str) -> None:
    result = _accepts_or_invalid(normalise_custom_field_key, raw)
    if result is not None:
        assert isinstance(result, str)
        assert normalise_custom_field_key(result) == result
        assert 0 < len(result) <= 64
        assert not result.startswith("_")
        assert not result.endswith("_")
        assert "__" not in result

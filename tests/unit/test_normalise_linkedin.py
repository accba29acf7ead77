"""Examples for chalicelib.domain.linkedin.normalise_linkedin_url."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.linkedin import MAX_LINKEDIN_URL_LENGTH, normalise_linkedin_url

JANE = "https://www.linkedin.com/in/jane-doe"


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.linkedin.com/in/jane-doe",
        "http://www.linkedin.com/in/jane-doe",
        "https://linkedin.com/in/jane-doe",
        "www.linkedin.com/in/jane-doe",
        "linkedin.com/in/jane-doe",
        "//www.linkedin.com/in/jane-doe",
        "HTTPS://WWW.LINKEDIN.COM/in/jane-doe",
        "https://www.linkedin.com/IN/Jane-Doe",
        # country and mobile subdomains
        "https://uk.linkedin.com/in/jane-doe",
        "https://de.linkedin.com/in/jane-doe",
        "https://m.linkedin.com/in/jane-doe",
        # trailing slash, query string, fragment
        "https://www.linkedin.com/in/jane-doe/",
        "https://www.linkedin.com/in/jane-doe?trk=public_profile",
        "https://www.linkedin.com/in/jane-doe/?originalSubdomain=uk",
        "https://www.linkedin.com/in/jane-doe#experience",
        # extra path segments after the slug
        "https://www.linkedin.com/in/jane-doe/details/experience/",
        "https://www.linkedin.com/in/jane-doe/recent-activity/all/",
        # case and percent-encoding in the slug
        "https://www.linkedin.com/in/Jane-Doe",
        "https://www.linkedin.com/in/jane%2Ddoe",
        # surrounding whitespace
        "  https://www.linkedin.com/in/jane-doe \n",
    ],
)
def test_profile_url_forms_normalise_to_one_url(raw: str) -> None:
    # WHEN
    result = normalise_linkedin_url(raw)

    # THEN
    assert result == JANE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # percent-encoded UTF-8 is decoded, not re-encoded
        ("https://www.linkedin.com/in/J%C3%BCrgen-M%C3%BCller",
         "https://www.linkedin.com/in/jürgen-müller"),
        ("linkedin.com/in/Jürgen-Müller", "https://www.linkedin.com/in/jürgen-müller"),
        # decomposed and precomposed accents give the same slug (NFC)
        ("linkedin.com/in/ju\u0308rgen", "https://www.linkedin.com/in/jürgen"),
        ("linkedin.com/in/%E7%8E%8B%E5%B0%8F%E6%98%8E", "https://www.linkedin.com/in/王小明"),
        ("linkedin.com/in/jane-doe-1a2b3c4d", "https://www.linkedin.com/in/jane-doe-1a2b3c4d"),
        ("linkedin.com/in/jane_doe", "https://www.linkedin.com/in/jane_doe"),
    ],
)
def test_slug_decoding(raw: str, expected: str) -> None:
    assert normalise_linkedin_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "jane-doe",
        "https://www.linkedin.com",
        "https://www.linkedin.com/",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/in//",
        # not profile pages
        "https://www.linkedin.com/company/acme",
        "https://www.linkedin.com/school/mit/",
        "https://www.linkedin.com/feed/",
        "https://www.linkedin.com/pub/jane-doe/12/345/678",
        "https://www.linkedin.com/jane-doe",
        # other hosts and look-alikes
        "https://www.example.com/in/jane-doe",
        "https://linkedin.com.evil.example/in/jane-doe",
        "https://evillinkedin.com/in/jane-doe",
        "https://a.b.linkedin.com/in/jane-doe",
        "https://www.linkedin.co.uk/in/jane-doe",
        "https://jane@www.linkedin.com/in/jane-doe",
        "https://www.linkedin.com:8443/in/jane-doe",
        "https://www.lin\u212aedin.com/in/jane-doe",
        "ftp://www.linkedin.com/in/jane-doe",
        "javascript:alert(1)//linkedin.com/in/jane-doe",
        "https://[www.linkedin.com/in/jane-doe",
        # characters a slug cannot hold, raw or after decoding
        "https://www.linkedin.com/in/jane doe",
        "https://www.linkedin.com/in/jane%20doe",
        "https://www.linkedin.com/in/jane%2Fdoe",
        "https://www.linkedin.com/in/jane%3Fdoe",
        "https://www.linkedin.com/in/jane%25doe",
        "https://www.linkedin.com/in/jane.doe",
        "https://www.linkedin.com/in/jane%FFdoe",
        "https://www.linkedin.com/in/jane%00doe",
        "https://www.linkedin.com/in/ja\tne",
        "https://www.linkedin.com/in/ja\nne",
        "https://www.linkedin.com/in/ja\ud800ne",
        "https://www.linkedin.com/in/" + "a" * MAX_LINKEDIN_URL_LENGTH,
    ],
)
def test_non_profile_urls_are_rejected(raw: str) -> None:
    # WHEN
    with pytest.raises(InvalidValue) as excinfo:
        normalise_linkedin_url(raw)

    # THEN
    assert excinfo.value.code == "invalid_linkedin_url"


def test_length_limit_is_500_after_trimming() -> None:
    # GIVEN a URL of exactly 500 characters with whitespace around it
    prefix = "https://www.linkedin.com/in/"
    raw = prefix + "a" * (MAX_LINKEDIN_URL_LENGTH - len(prefix))

    # WHEN
    result = normalise_linkedin_url("  " + raw + "  ")

    # THEN
    assert len(raw) == MAX_LINKEDIN_URL_LENGTH
    assert result == raw

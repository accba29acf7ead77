"""Logs are JSON with emails and phones masked; metrics go out as EMF."""

from __future__ import annotations

import io
import json
import re
import time
import unicodedata

import phonenumbers
import pytest
from aws_lambda_powertools import Logger
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType, phonenumberutil

from chalicelib.adapters.telemetry import EmfMetrics, MaskingFormatter
from chalicelib.domain.phone import normalise_phone
from chalicelib.domain.pii import PHONE_PUNCTUATION, mask_pii, mask_url


@pytest.mark.parametrize(("text", "masked"), [
    ("lead ada.l+x@acme.io failed", "lead ***@acme.io failed"),
    ('{"email": "ADA@EXAMPLE.COM"}', '{"email": "***@EXAMPLE.COM"}'),
    ("+1 (415) 555-0134", "***34"), ("+14155550134", "***34"), ("(415) 555-0134", "***34"),
    ("415.555.0134", "***34"), ("call 4155550134 now", "call ***34 now"),
    ("+44 20 7946 0018", "***18"), ("415 555 0134", "***34"), ("020 7946 0018", "***18"),
    ("q=victim 415 555 0134 x", "q=victim ***34 x"), ("tel:+1-415-555-0134", "tel:***34"),
    ("+44 (0)20 7946 0018", "***18"), ("8 (301) 123-45-67", "***67"), ("06 12 34 56 78", "***78"),
    ("٤١٥ ٥٥٥ ٠١٣٤", "***34"), ("４１５－５５５－０１３４", "***34"),
    ("＋４４ ２０ ７９４６ ００１８", "***18"),
    ("०२० ७९४६ ००१८", "***18"), ("020.7946.0018", "***18"), ("020/7946/0018", "***18"),
    ("415*555*0134", "***34"), ("phone 555-0134", "phone ***34"), ("61234567", "***67"),
    ("電話13123456789", "電話***89"), ('{"phone": "(415)555-0134"}', '{"phone": "***34"}'),
    ("victim.person%40example.com", "***@example.com"),
])
def test_emails_and_phones_are_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize("text", [
    "2026-11-22 06:15:45,272+0000", "ld_01m80yaypxd7xrjzbg3aq3bvab", "chunk 12 of 1000 rows",
    "v=spf1 -all", "127.0.0.1:5353", "took 1.25 s", "im_01m80yaz2rnzssrwjh0kaqfcqv/0000012",
    "2026-11-22", "on 22/11/2026 and 11.22.2026", "2026-11-22T06:15:45.272123+00:00",
    "2026-11-22T06:15:45Z", "at 06:15:45.272123", "took 0.53 s", "1000000 rows in 361.8 s",
    "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "12345678-1234-5678-1234-567812345678",
    "01JD3Y5Z6ABCDEFGHJKMNPQRST", "10.0.0.1:8000", "chalice 1.34.0, python 3.11.7",
    "xray 1-5759e988-bd862e3fe1be46a994272793", "chunk 12 of 1000, 250 rows, 3 s",
])
def test_what_is_not_personal_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


@given(st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True),
       st.text(alphabet=" :=,'\"", max_size=3))
def test_no_generated_email_survives(email: str, glue: str) -> None:
    local = email.split("@")[0]
    out = mask_pii(f"error for{glue}{email}{glue}in chunk")
    assert email not in out and f"{local}@" not in out


def test_every_separator_the_phone_parser_skips_is_a_separator() -> None:
    skipped = re.compile(f"[{phonenumberutil._VALID_PUNCTUATION}]")
    punctuation = {chr(c) for c in range(0x110000) if skipped.fullmatch(chr(c))}
    # "x" marks an extension; spaces of every kind are separators of their own
    assert {c for c in punctuation if not c.isspace()} - {"x"} <= set(PHONE_PUNCTUATION)


def test_masking_a_long_line_takes_one_pass() -> None:
    # Each of these took seconds when a failed match was retried from every position.
    for line in ("a" * 200_000 + " ada@acme.io", "12-" * 70_000 + "ab", "1 " * 100_000 + "a",
                 "%41" * 70_000):
        started = time.perf_counter()
        mask_pii(line)
        assert time.perf_counter() - started < 2.0


def test_a_request_target_is_decoded_then_masked() -> None:
    # GIVEN query strings as a browser or curl encodes them
    # WHEN they are masked for an access log
    email = mask_url("/lists/x/leads?q=victim.person%40example.com&limit=5")
    phone = mask_url("/lists/x/leads?q=415+555+0134")
    plus = mask_url("/lists/x/leads?q=%2B44%2020%207946%200018&status=new")
    # THEN neither survives, and the rest of the target does
    assert email == "/lists/x/leads?q=***@example.com&limit=5"
    assert phone == "/lists/x/leads?q=***34"
    assert plus == "/lists/x/leads?q=***18&status=new"
    plain = "/lists/ld_01m80yaypxd7xrjzbg3aq3bvab/leads?limit=50"
    assert mask_url(plain) == plain


# The written forms of a phone number: phonenumbers' own formats, other
# separators, digits only, and the same in other scripts' decimal digits.
PHONE_REGIONS = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "SE", "NO",
                 "DK", "FI", "PL", "PT", "IE", "AU", "NZ", "IN", "JP", "CN", "HK", "SG", "KR",
                 "BR", "MX", "AR", "ZA", "AE", "SA", "IL", "TR", "RU"]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL,
           PhoneNumberFormat.RFC3966]
ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0xFF10]  # ASCII, Arabic-Indic, ..., fullwidth
GLUE = [("", ""), ("phone ", " rejected"), ('{"phone": "', '"}'), ("(", ")"), ("q=", "&limit=5"),
        ("row 12: ", ", row 13"), ("phone=", ";")]


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str, str]:
    """(written form, region, E.164) of a valid number."""
    region = draw(st.sampled_from(PHONE_REGIONS))
    kind = draw(st.sampled_from([PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    separator = draw(st.sampled_from([None, " ", ".", "-", "/", "\u00a0", " - ", "   ", ""]))
    if separator is not None and not text.startswith("tel:"):
        text = text.replace(" ", separator).replace("-", separator)
        # Digits only: numbers shorter than 8 digits are not told apart from counts.
        assume(separator or sum(c.isdigit() for c in text) >= 8)
    zero = draw(st.sampled_from(ZEROS))
    text = "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)
    if zero == 0xFF10:
        text = text.replace("+", "\uff0b")
    return text, region, phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text if unicodedata.decimal(c, None)
                   is not None)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(written_phones(), st.sampled_from(GLUE))
def test_no_phone_the_normaliser_accepts_survives(phone: tuple[str, str, str],
                                                  glue: tuple[str, str]) -> None:
    text, region, e164 = phone
    # GIVEN a number the normaliser reads, written as people and phonenumbers write them
    assert normalise_phone(text, region).e164 == e164
    before, after = glue
    # WHEN it is logged among other text
    out = mask_pii(f"{before}{text}{after}")
    # THEN of its digits only the last two are left
    assert _ascii_digits(out) == _ascii_digits(before) + e164[-2:] + _ascii_digits(after), out


def test_log_lines_are_json_and_masked_everywhere() -> None:
    # GIVEN the formatter our logger uses, writing to a buffer
    stream = io.StringIO()
    log = Logger(service="leadpipe-test", logger_formatter=MaskingFormatter(), stream=stream)
    # WHEN a message, an extra key and an exception all carry personal data
    try:
        raise ValueError("bad row for grace@navy.mil / +1 212 555 0199")
    except ValueError:
        log.exception("import of ada@acme.io failed", extra={"phone": "+14155550134"})
    # THEN the line is JSON and none of it survives
    line = stream.getvalue()
    record = json.loads(line)
    assert record["message"] == "import of ***@acme.io failed"
    assert record["phone"] == "***34"
    for secret in ("ada@", "grace@", "4155550134", "555 0199"):
        assert secret not in line
    assert "***@navy.mil" in record["exception"]


def test_metrics_are_emitted_as_emf(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = EmfMetrics()
    metrics._metrics.clear_metrics()  # powertools' store is per process, shared
    metrics.add("RowsImported", 880)
    metrics.add("RowsRejected", 0)  # zero: not sent
    metrics.flush()
    blob = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "leadpipe"
    assert [m["Name"] for m in directive["Metrics"]] == ["RowsImported"]
    assert blob["RowsImported"] == [880.0] or blob["RowsImported"] == 880.0
    assert blob["stage"] == "test"


def test_nothing_is_collected_while_metrics_are_disabled(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = EmfMetrics()
    metrics._metrics.clear_metrics()
    metrics.add("RowsImported", 5)
    metrics.flush()
    assert metrics._metrics.metric_set == {}
    assert capsys.readouterr().out == ""

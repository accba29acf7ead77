"""The US fast path gives exactly phonenumbers' answer whenever it answers."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.phone import _us_fast_path

DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=12)
FORMAT = st.sampled_from(["{d}", "({a}) {b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "1{d}",
                          "1 {a} {b} {c}", "+{d}", "{a}-{b}-{c}", " ({a}){b} {c} ", "+1{d}",
                          "(1) {d}", "1-{a}-{b}-{c}"])


def _phonenumbers_e164(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.extension:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=5000, deadline=None)
@given(DIGITS, FORMAT)
def test_fast_path_agrees_with_phonenumbers(digits, template):
    text = template.format(d=digits, a=digits[:3], b=digits[3:6], c=digits[6:]).strip()
    fast = _us_fast_path(text)
    if fast is not None:
        assert fast == _phonenumbers_e164(text)


def test_common_us_forms_take_the_fast_path():
    for text in ["(415) 555-0134", "415.555.0134", "+1 415 555 0134", "14155550134",
                 "4155550134"]:
        assert _us_fast_path(text) == "+14155550134"


def test_other_forms_go_the_full_way():
    for text in ["+44 20 7946 0018", "415-555-0134 ext. 12", "0044 20 7946 0018", "12345",
                 "(000) 000-0000"]:
        assert _us_fast_path(text) is None

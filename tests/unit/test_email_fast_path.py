"""The ASCII fast path agrees with email-validator on every address it accepts."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.email_address import _fast_path, normalise_email

ATOM = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789!#$%&'*+/=?^_`{|}~-.",
               min_size=0, max_size=70)
LABEL = st.one_of(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=0,
                          max_size=65), st.just("xn--bcher-kva"))
DOMAIN = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
TLD = st.sampled_from(["com", "io", "org", "test", "local", "localhost", "arpa", "x", "c0m",
                       "onion", "invalid", "co", "museum"])
ADDRESS = st.builds(lambda local, dom, tld, at: f"{local}{at}{dom}.{tld}", ATOM, DOMAIN, TLD,
                    st.sampled_from(["@", "@", "@@", ""]))


def _reference(address: str) -> str | None:
    try:
        return validate_email(address.lower(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@settings(max_examples=3000, deadline=None)
@given(ADDRESS)
def test_fast_path_accepts_only_what_email_validator_accepts_and_agrees(address):
    fast = _fast_path(address)
    if fast is not None:
        assert _reference(address) == fast


def test_everyday_addresses_take_the_fast_path():
    for address in ["ada@example.com", "First.Last+tag@Mail.Example.co.uk", "x_y-z@a1.io"]:
        assert _fast_path(address) == address.lower()
        assert normalise_email(address) == address.lower()


def test_unusual_addresses_go_to_email_validator():
    for address in ['"quoted"@example.com', "jane@bücher.de", "a@localhost",
                    "a..b@example.com", "a@example.test", "a@[127.0.0.1]",
                    "jane@xn--bcher-kva.de", "0@00--0.com"]:
        assert _fast_path(address) is None

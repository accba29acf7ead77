"""The LinkedIn fast path returns what the full normaliser returns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import linkedin
from chalicelib.domain.errors import InvalidValue

SLUG = st.text(alphabet="abcXYZ019-_%.~é", min_size=0, max_size=20)
URL = st.builds(
    lambda scheme, host, slug, tail: f"{scheme}{host}linkedin.com/in/{slug}{tail}",
    st.sampled_from(["", "http://", "https://", "HTTPS://", "ftp://", "//"]),
    st.sampled_from(["", "www.", "uk.", "m.", "WWW.", "evil.", "www.evil."]),
    SLUG,
    st.sampled_from(["", "/", "/details/experience/", "?trk=x", "#top", "/?a=b", " x", "/%20"]),
)


def _full(text: str) -> str | None:
    try:
        return linkedin._normalise_full(text.strip())
    except InvalidValue:
        return None


@settings(max_examples=3000, deadline=None)
@given(URL)
def test_fast_path_agrees_with_the_full_normaliser(url):
    fast = linkedin._FAST.match(url.strip()) if url.strip().isascii() else None
    if fast is not None:
        assert linkedin.CANONICAL_PREFIX + fast[1].lower() == _full(url)

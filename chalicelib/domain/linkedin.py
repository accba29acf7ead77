"""LinkedIn profile URL normalisation to ``https://www.linkedin.com/in/<slug>``.

Accepted: http, https, protocol-relative or no scheme; linkedin.com with no
subdomain, ``www``, ``m`` (mobile) or a two-letter country subdomain
(``uk.``, ``de.``); trailing slashes, query strings, fragments and extra path
segments after the slug (``/in/jane-doe/details/experience/``) are dropped.

Slug encoding choice: the slug is percent-decoded (UTF-8), lowercased and put
in Unicode NFC form, and is returned *decoded* -- nothing is re-encoded. So
``/in/J%C3%BCrgen-M%C3%BCller`` and ``/in/jürgen-müller`` both give
``https://www.linkedin.com/in/jürgen-müller``. One stored spelling per profile
is what makes deduplication on this value work; browsers percent-encode it
again when the link is followed. NFC keeps a decomposed "u + combining
diaeresis" from differing from the precomposed "ü".

A slug may hold Unicode letters, digits and combining marks, '-' and '_'.
Anything else after decoding (space, '/', '?', '%', '.', ...) is rejected.

Rejected with ``invalid_linkedin_url``: other hosts, user-info or ports in the
host, non-http schemes, company/school/showcase pages, and the retired
``/pub/<name>/<a>/<b>/<c>`` form. ``/pub/`` URLs are rejected rather than
mapped because the ``/in/`` slug LinkedIn redirected them to cannot be derived
reliably from the old path.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from chalicelib.domain.errors import InvalidValue

MAX_LINKEDIN_URL_LENGTH = 500
CANONICAL_PREFIX = "https://www.linkedin.com/in/"

_HOST = re.compile(r"(?:(?:www|m|[a-z]{2})\.)?linkedin\.com")
_SLUG_PUNCTUATION = frozenset("-_")


def _invalid(message: str) -> InvalidValue:
    return InvalidValue(message, code="invalid_linkedin_url")


def _is_slug_char(ch: str) -> bool:
    return ch in _SLUG_PUNCTUATION or unicodedata.category(ch)[0] in "LNM"


# The everyday ASCII forms, decided without urlsplit: the slug is plain ASCII
# letters, digits, '-' and '_' (no percent-encoding), which the full path below
# would return lowercased, as this does. Anything else takes the full path.
_FAST = re.compile(r"(?:https?://)?(?:(?:www|m|[a-z]{2})\.)?linkedin\.com/in/([a-z0-9_-]+)"
                   r"(?:/[^\s?#]*)?(?:[?#][^\s]*)?\Z", re.IGNORECASE)


def normalise_linkedin_url(raw: str) -> str:
    """Return the canonical profile URL or raise InvalidValue(code="invalid_linkedin_url")."""
    text = raw.strip()
    if text.isascii() and text.isprintable() and len(text) <= MAX_LINKEDIN_URL_LENGTH:
        fast = _FAST.match(text)
        if fast is not None:
            return CANONICAL_PREFIX + fast[1].lower()
    return _normalise_full(text)


def _normalise_full(text: str) -> str:
    """Every accepted form: percent-encoding, Unicode slugs, odd hosts and paths."""
    if not text:
        raise _invalid("LinkedIn URL is empty")
    if len(text) > MAX_LINKEDIN_URL_LENGTH:
        raise _invalid(f"LinkedIn URL is longer than {MAX_LINKEDIN_URL_LENGTH} characters")
    # urlsplit silently deletes tabs and newlines; reject inner whitespace and
    # control characters instead of letting them vanish.
    if " " in text or not text.isprintable():
        raise _invalid("LinkedIn URL contains whitespace or control characters")

    if text.startswith("//"):
        text = "https:" + text
    elif "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _invalid("Not a URL") from None

    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid("LinkedIn URL must use http or https")
    host = parts.netloc.lower()
    # isascii() first: str.lower() maps e.g. the Kelvin sign to 'k'.
    if not parts.netloc.isascii() or not _HOST.fullmatch(host):
        raise _invalid("Not a linkedin.com URL")

    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2 or segments[0].lower() != "in":
        raise _invalid("Not a LinkedIn profile URL (expected /in/<name>)")

    try:
        slug = unquote(segments[1], encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _invalid("LinkedIn profile name is not valid percent-encoded UTF-8") from None
    slug = unicodedata.normalize("NFC", slug.lower())
    if not slug or not all(_is_slug_char(ch) for ch in slug):
        raise _invalid("LinkedIn profile name contains characters a profile URL cannot have")
    return CANONICAL_PREFIX + slug

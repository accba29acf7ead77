"""Masking personal data (emails, phone numbers) out of text bound for logs.

Logs leave our control (CloudWatch, support tickets, log shippers): a lead's
email or phone must never appear in one. What is kept: an email's domain (it
is what DNS and deliverability problems are about) and a phone's last two
digits (enough to tell two numbers apart in an incident, not to call anyone).

A phone is masked in any form the phone normaliser (phonenumbers) reads:
international or national, grouped by any separator it accepts, digits of any
script. What cannot be told from a count is left alone: 7 digits or more
with a separator or a "+" are a phone, and so is a bare run of 8 or more; a
shorter bare run (a count, a 7-digit local number written without spaces) is
not. Shapes that are not phones are kept first: dates, ISO timestamps, times
with fractions, UUIDs, and digits inside an identifier (ULIDs, X-Ray ids).
A dotted IPv4 address of 7 digits or more is masked like a phone: "32.12.34.56"
is also how a Danish number is written (and an address is personal data too).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, unquote_plus

# `%40` is an encoded "@" (query strings, URLs quoted in messages). The local
# part starts where a token starts and is read possessively: a long token with
# no "@" costs one pass, not one per character.
_NOT_LOCAL = r"\s@\"'<>(),;:\[\]\\"
_EMAIL = re.compile(
    rf"(?<![^{_NOT_LOCAL}])(?:[^{_NOT_LOCAL}%]|%(?!40))++(?:@|%40)"
    rf"([^{_NOT_LOCAL}]+\.[^{_NOT_LOCAL}]+)")

# phonenumbers' VALID_PUNCTUATION (less "x", an extension marker) and "*",
# which it also skips; plus any horizontal whitespace. A test holds us to it.
PHONE_PUNCTUATION = (
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff0e\uff0f"  # dashes, fullwidth -./
    "\xad\u200b\u2060"  # soft hyphen, zero-width space, word joiner
    "()\uff08\uff09[]\uff3b\uff3d./~\u2053\u223c\uff5e*"
)
_SEP = "(?:[^\\S\\r\\n]|[" + re.escape(PHONE_PUNCTUATION) + "])"
_SEPS = re.compile(_SEP + "+")
_YEAR = r"(?:19|20)\d\d"
_MONTH_DAY = r"\d\d?"
# \d is any script's decimal digit, as phonenumbers reads them.
_KEEP = (
    # 2026-11-22, 2026-11-22T06:15:45.272123+00:00, 22/11/2026, 11.22.2026
    rf"{_YEAR}(?P<ymd>[-/.]){_MONTH_DAY}(?P=ymd){_MONTH_DAY}"
    r"(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?!\d)"
    rf"|{_MONTH_DAY}(?P<dmy>[-/.]){_MONTH_DAY}(?P=dmy){_YEAR}(?!\d)"
    r"|\d\d?:\d\d:\d\d[.,]\d+"  # a time with a fraction: 06:15:45.272123
    # A UUID whose groups happen to be all digits.
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])"
)
# A run of digit groups, not starting inside an identifier (ld_01..., a UUID's
# groups): no letter, digit or "_" right before it, nor one behind a "-" or
# ".". The run is atomic, so text that is not a phone is read once (how a run
# glued to an identifier on its right is cut is `_phone_part`'s job).
_PHONE = (
    r"(?<![A-Za-z_\d])(?<![A-Za-z_\d][-.])"
    rf"(?>[+\uff0b]?[(\uff08\[\uff3b]?\d+(?:{_SEP}+\d+)*)"
)
_CANDIDATE = re.compile(rf"(?P<keep>(?<![\d.]){_KEEP})|(?P<phone>{_PHONE})")
_ID_CHAR = re.compile(r"[A-Za-z_\d]")


def _glued(after: str) -> bool:
    """True when what follows a digit group makes it part of an identifier."""
    return bool(_ID_CHAR.match(after)) or (after[:1] in ("-", ".")
                                           and bool(_ID_CHAR.match(after[1:2])))


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _masked(text: str) -> str:
    digits = _digits(text)
    bare = text.isdecimal()  # no "+", no separator: might be a count
    if len(digits) < 7 or (bare and len(digits) < 8):
        return text
    return "***" + digits[-2:]


def _phone_part(match: re.Match[str]) -> str:
    if match.group("keep") is not None:
        return match.group(0)
    text = match.group("phone")
    if not _glued(match.string[match.end():match.end() + 2]):
        return _masked(text)
    # The last group belongs to an identifier (12345678-1234-abcd...): the run
    # is cut at the last separator that does not glue its groups to it.
    for sep in reversed(list(_SEPS.finditer(text))):
        if not _glued(text[sep.start():sep.start() + 2]):
            return _masked(text[:sep.start()]) + text[sep.start():]
    return text


def mask_pii(text: str) -> str:
    """`ada@acme.io` → `***@acme.io`; `+1 (415) 555-0134`, `020 7946 0018` → `***34`, `***18`."""
    return _CANDIDATE.sub(_phone_part, _EMAIL.sub(r"***@\1", text))


def mask_url(target: str) -> str:
    """A request target as an access log should show it: decoded, then masked.

    Masking the encoded form misses `victim%40example.com` and `415+555+0134`;
    each path segment and query value is decoded (`+` is a space in a query)
    and masked on its own, so the path and parameter names stay readable.
    """
    path, question, query = target.partition("?")
    masked = "/".join(mask_pii(unquote(segment)) for segment in path.split("/"))
    if not question:
        return masked
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        pairs.append(mask_pii(unquote_plus(name)) + equals + mask_pii(unquote_plus(value)))
    return masked + "?" + "&".join(pairs)

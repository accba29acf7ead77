"""The words `q` finds a lead by, and how a query is read (pure).

A lead's words: every word of its first and last name, company, job title
and location, the words of its email (local part and domain labels but the
last, `com` would match every lead), the whole email and its domain, and each phone's
digits (E.164 without `+`, and the national number: `415 555 0134` finds
`+14155550134`). Words are folded: accents removed, case folded. `q` matches
a lead when each of its words begins a word of the lead; a `q` holding `@`
or shaped like a domain is one word (an email or domain being typed), a `q`
of phone characters (three digits or more) is its digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import phonenumbers

from chalicelib.domain.lead import Lead

MAX_WORD = 40  # longer words are indexed by their first 40 characters
MAX_WORDS = 24  # per lead: keeps a lead's postings within one transaction
MIN_QUERY = 2  # a shorter q walks the list instead (one letter matches too much)
_WORD = re.compile(r"[^\W_]+")
_PHONE_QUERY = re.compile(r"^[\d\s()+.\-]+$")
_DOMAIN_QUERY = re.compile(r"^[^\W_][\w-]*(\.[\w-]+)+$")
TEXT_FIELDS = ("first_name", "last_name", "company", "job_title", "location")


def fold(text: str) -> str:
    """Accents off, case folded: `Édith` and `edith` are one word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _phone_words(phone: str) -> list[str]:
    words = [_digits(phone)]
    try:
        national = str(phonenumbers.parse(phone, None).national_number)
    except phonenumbers.NumberParseException:
        national = ""
    if national and national != words[0]:
        words.append(national)
    return words


def _email_words(email: str) -> list[str]:
    local, _, domain = email.partition("@")
    labels = domain.split(".")[:-1] if "." in domain else [domain]
    words = _WORD.findall(fold(local)) + [w for label in labels
                                           for w in _WORD.findall(fold(label))]
    return [fold(email).replace("#", ""), fold(domain), *words]


def lead_words(lead: Lead, text_keys: Sequence[str] = ()) -> list[str]:
    """The lead's distinct words, in a fixed order, at most MAX_WORDS; with the
    words of its custom fields named in `text_keys` (filterable text fields)."""
    words: list[str] = []
    for name in TEXT_FIELDS:
        value = getattr(lead, name)
        if value:
            words.extend(_WORD.findall(fold(value)))
    for key in text_keys:
        value = lead.custom_fields.get(key)
        if isinstance(value, str) and value:
            words.extend(_WORD.findall(fold(value)))
    if lead.email:
        words.extend(_email_words(lead.email))
    for phone in (lead.phone, *lead.phones):
        if phone:
            words.extend(_phone_words(phone))
    seen: dict[str, None] = {}
    for word in words:
        if word:
            seen.setdefault(word[:MAX_WORD], None)
    return list(seen)[:MAX_WORDS]


def query_words(q: str) -> list[str]:
    """The words a `q` asks for (each must begin a word of the lead)."""
    text = q.strip()
    if "@" in text or _DOMAIN_QUERY.match(text):  # an email or a domain being typed
        return [fold(text).replace("#", "")[:MAX_WORD]]
    if _PHONE_QUERY.match(text) and len(_digits(text)) >= 3:
        return [_digits(text)[:MAX_WORD]]
    return [w[:MAX_WORD] for w in _WORD.findall(fold(text))]


def matches_query(lead: Lead, q: str, text_keys: Sequence[str] = ()) -> bool:
    wanted = query_words(q)
    if not wanted:
        return True
    words = lead_words(lead, text_keys)
    return all(any(w.startswith(p) for w in words) for p in wanted)


def driving_word(q: str) -> str | None:
    """The query word an index walk starts from: the longest (likely the rarest)."""
    words = [w for w in query_words(q) if len(w) >= MIN_QUERY]
    return max(words, key=len) if words else None


def first_match(lead: Lead, prefix: str, text_keys: Sequence[str] = ()) -> str | None:
    """The first (smallest) word of the lead beginning with `prefix`: a walk
    over the word index yields the lead there only, so it comes once."""
    found = [w for w in lead_words(lead, text_keys) if w.startswith(prefix)]
    return min(found) if found else None

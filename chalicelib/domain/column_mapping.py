"""Mapping import-file column headers onto lead fields (pure code, no I/O).

A target is one of TARGET_FIELDS, ``custom:<key>`` (a custom field; the key is
what normalise_custom_field_key gives) or None (the column is ignored).
LIST_TARGETS (emails, phones, tags) take any number of columns; every other
target, custom keys included, takes at most one.

How auto_map decides, column by column:

1. Headers are compared on a *match key*: NFKC, camelCase and letter/digit
   boundaries split ("linkedinUrl", "Email2"), accents dropped ("Prénom" is
   "prenom"), case folded, and every run of non-alphanumerics (spaces,
   punctuation, '_') removed. "E-mail Address", "email_address" and
   "EMAIL ADDRESS" are all "emailaddress".
2. An exact hit in the synonym table wins (method "synonym", score 100). The
   table also names well-known columns that are *not* lead fields ("Email
   Status", "Company Size", "Company Linkedin Url", "Fax", "County", ...):
   those become custom fields even though they look like identity columns.
3. A trailing number is a sequence number: "Email 2", "Phone #3", "Tag 1",
   and the " (2)" unique_headers adds. Numbered email/phone columns are
   alternates, numbered tag columns are tags, "<field> 1" is the field itself,
   and "<single field> 2" ("First Name 2", "Address Line 2") is a custom field.
4. Otherwise a typo match (method "fuzzy"), see _fuzzy: an optimal string
   alignment edit distance (a swap of two neighbours is one edit) on the match
   key, at most one edit for keys of 5-11 characters and two from 12, none
   below 5; the score is 100 * (1 - edits / length), so never under 80. A
   header that only *adds* something to a synonym ("Emailed", "Company ID"),
   or that holds a number or a word the synonym lacks such as date, at,
   verified, count, size, id, status or a verb form ("Phoned", "...ed",
   "...ing"), is never a typo of it; nor is a header as close to two different
   targets. Short or generic synonyms ("Contact", "Account", "Status",
   "Notes", "State", "Country", ...) match exactly only. So "Emial", "Frist
   Name", "Compnay" map and "Emailed At", "Phone Verified", "Company Size",
   "Last Contacted", "Contract", "Stage" do not.
5. Conflicts. Email and phone: the best column (synonym before fuzzy, then
   synonym rank: "Email"/"Phone"/"Phone Number" before "Work Email"/"Mobile"/
   "Work Direct Phone", which come before "Other Email"/"Phone 2", then
   leftmost) becomes email/phone and every other email/phone column goes to
   emails/phones. Any other single-value target: the best column wins (same
   order) and the others become custom fields. Location is such a target:
   "Location" beats a full address, then City, then a street "Address", then
   State/Region, then Country; so with City, State and Country (and no
   Location) City is the location and State and Country are custom fields
   (custom:state, custom:country). Columns are never combined.
6. Everything else is ``custom:<key>`` (method "custom", score 0), keys made
   distinct with "_2", "_3" suffixes; a header with no valid key (only
   punctuation, or a key over 64 characters) is ignored (method "ignored"), as
   is every custom column after the first MAX_CUSTOM_FIELDS, the most a lead
   holds.

Two context rules: French "Nom" is the last name when a first-name column
exists and the full name otherwise; "Name" is the last name next to a German
"Vorname" and the full name otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

from chalicelib.domain.column_synonyms import DENY_WORDS, EXACT_ONLY, SYNONYM_TABLE
from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.text import (
    MAX_CUSTOM_FIELD_KEY_LENGTH,
    MAX_CUSTOM_FIELDS,
    normalise_custom_field_key,
)

__all__ = [
    "CUSTOM_PREFIX",
    "LIST_TARGETS",
    "TARGET_FIELDS",
    "ColumnMatch",
    "auto_map",
    "mapping_dict",
    "match_key",
    "match_tokens",
    "unique_headers",
]

TARGET_FIELDS: Final = (
    "first_name", "last_name", "full_name", "email", "emails", "phone", "phones",
    "company", "job_title", "linkedin_url", "location", "notes", "tags", "status",
)
LIST_TARGETS: Final = frozenset({"emails", "phones", "tags"})
CUSTOM_PREFIX: Final = "custom:"

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+")
_DIGIT_RUNS = re.compile(r"\d+|\D+")
_FIRST_SEQUENCE = frozenset({"", "1"})


def match_tokens(header: str) -> tuple[str, ...]:
    """The words of a header as matching sees them (see the module docstring)."""
    text = _CAMEL.sub(" ", unicodedata.normalize("NFKC", header))
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(ch))
    tokens: list[str] = []
    for word in _WORD.findall(text.casefold()):
        tokens.extend(_DIGIT_RUNS.findall(word) if not word.isalpha() else (word,))
    return tuple(tokens)


def match_key(header: str) -> str:
    """"E-mail Address", "email_address" and "EMAIL ADDRESS" all give "emailaddress"."""
    return "".join(match_tokens(header))


@dataclass(frozen=True)
class _Synonym:
    target: str | None
    rank: int
    tokens: frozenset[str]


def _build_synonyms() -> dict[str, _Synonym]:
    table: dict[str, _Synonym] = {}
    for target, by_rank in SYNONYM_TABLE.items():
        for rank, phrases in by_rank.items():
            for phrase in phrases:
                tokens = match_tokens(phrase)
                key = "".join(tokens)
                entry = _Synonym(target, rank, frozenset(tokens))
                known = table.get(key)
                if known is not None and (known.target, known.rank) != (target, rank):
                    raise AssertionError(f"synonym {phrase!r} is listed twice")
                table[key] = known or entry
    return table


_SYNONYMS: Final = _build_synonyms()
_MAX_FUZZY_EDITS = 2
_FUZZY_KEYS: Final = tuple(k for k in _SYNONYMS if len(k) >= 5 and k not in EXACT_ONLY)
_LONGEST_FUZZY_KEY: Final = max(len(k) for k in _FUZZY_KEYS)
# Query length -> the synonyms within _MAX_FUZZY_EDITS of that length (the others
# cannot be close enough), so a typo check scans a fifth of the table.
_FUZZY_BY_LENGTH: Final = {
    n: tuple(k for k in _FUZZY_KEYS if abs(len(k) - n) <= _MAX_FUZZY_EDITS)
    for n in range(1, _LONGEST_FUZZY_KEY + _MAX_FUZZY_EDITS + 1)
}


@dataclass(frozen=True)
class ColumnMatch:
    column: str
    target: str | None
    method: str  # "synonym" | "fuzzy" | "custom" | "ignored"
    score: float


@dataclass(frozen=True)
class _Hit:
    target: str | None
    rank: int
    method: str
    score: float


def unique_headers(raw: list[str]) -> list[str]:
    """Trimmed, distinct column names, one per input header, in order.

    A blank header becomes ``column_<n>`` (n counts from 1). A repeated name gets
    " (2)", " (3)", ... in order; a suffix that is itself a header somewhere in
    the file is skipped, so a header always keeps its own name the first time
    it appears. A leading byte-order mark (Excel's CSV) is dropped.
    """
    trimmed = [header.strip().lstrip("\ufeff").strip() for header in raw]
    reserved = {name for name in trimmed if name}
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    out: list[str] = []
    for position, header in enumerate(trimmed, start=1):
        original = bool(header)
        name = header if original else f"column_{position}"
        if name not in taken and (original or name not in reserved):
            taken.add(name)
            out.append(name)
            continue
        n = next_suffix.get(name, 2)
        while (candidate := f"{name} ({n})") in taken or candidate in reserved:
            n += 1
        next_suffix[name] = n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _allowed_edits(length: int) -> int:
    if length < 5:
        return 0
    return 1 if length < 12 else _MAX_FUZZY_EDITS


def _adds_to(query: str, choice: str) -> bool:
    """The header is the synonym plus something ("emailed", "companyid"); a plural 's' is fine."""
    return len(query) > len(choice) and choice in query and query != choice + "s"


def _is_verb_form_or_number(word: str) -> bool:
    """"Phoned", "emailed", "mailing": an event about the field, not the field.

    And a number is never a typo ("Phone1" is not "Phones").
    """
    return word.isdecimal() or (len(word) >= 4 and word.endswith(("ed", "ing")))


@lru_cache(maxsize=4096)
def _fuzzy(tokens: tuple[str, ...]) -> _Hit | None:
    query = "".join(tokens)
    choices = _FUZZY_BY_LENGTH.get(len(query), ()) if len(query) >= 4 else ()
    words = frozenset(tokens)
    best: list[tuple[int, float, _Synonym]] = []
    for choice, distance, _ in process.extract(
            query, choices, scorer=OSA.distance, score_cutoff=_MAX_FUZZY_EDITS, limit=None):
        edits = int(distance)
        entry = _SYNONYMS[choice]
        longest = max(len(query), len(choice))
        extra_words = words - entry.tokens
        if (edits > _allowed_edits(longest) or _adds_to(query, choice)
                or extra_words & DENY_WORDS or any(map(_is_verb_form_or_number, extra_words))):
            continue
        if best and edits > best[0][0]:
            continue
        if best and edits < best[0][0]:
            best.clear()
        best.append((edits, round(100 * (1 - edits / longest), 1), entry))
    if not best or len({entry.target for _, _, entry in best}) != 1:
        return None  # nothing close, or as close to two different targets
    _, score, entry = min(best, key=lambda b: (b[2].rank, -b[1]))
    return _Hit(entry.target, entry.rank, "fuzzy", score)


def _lookup(tokens: tuple[str, ...]) -> _Hit | None:
    entry = _SYNONYMS.get("".join(tokens))
    if entry is not None:
        return _Hit(entry.target, entry.rank, "synonym", 100.0)
    return _fuzzy(tokens)


def _classify(tokens: tuple[str, ...]) -> _Hit | None:
    if not tokens:
        return None
    entry = _SYNONYMS.get("".join(tokens))
    if entry is not None:
        return _Hit(entry.target, entry.rank, "synonym", 100.0)
    if len(tokens) < 2 or not tokens[-1].isdecimal():
        return _fuzzy(tokens)
    # "Email 2", "Tag 1", "Phone (3)": a sequence number after a known header
    hit = _lookup(tokens[:-1])
    if hit is None or hit.target is None or hit.target in LIST_TARGETS:
        return hit
    first = tokens[-1].lstrip("0") in _FIRST_SEQUENCE
    if hit.target in ("email", "phone"):
        return hit if first else _Hit(hit.target, max(hit.rank, 2), hit.method, hit.score)
    return hit if first else None


# The losers of a conflict on email/phone are alternates; on any other field, custom.
_OVERFLOW: Final = {"email": "emails", "phone": "phones"}


def _priority(hit: _Hit, index: int) -> tuple[int, int, float, int]:
    return (0 if hit.method == "synonym" else 1, hit.rank, -hit.score, index)


def _apply_context(hits: list[_Hit | None], keys: list[str]) -> None:
    has_first = any(h is not None and h.target == "first_name" for h in hits)
    german = "vorname" in keys
    for i, key in enumerate(keys):
        hit = hits[i]
        if hit is None or hit.method != "synonym":
            continue
        if key == "nom":
            hits[i] = _Hit("last_name" if has_first else "full_name", 0, "synonym", 100.0)
        elif key == "name" and german:
            hits[i] = _Hit("last_name", 0, "synonym", 100.0)


def _resolve(hits: list[_Hit | None]) -> list[str | None]:
    """One column per single-value target; losers go to the list or to custom (None)."""
    targets: list[str | None] = [h.target if h is not None else None for h in hits]
    claims: dict[str, list[tuple[int, _Hit]]] = {}
    for i, hit in enumerate(hits):
        if hit is not None and hit.target is not None and hit.target not in LIST_TARGETS:
            claims.setdefault(hit.target, []).append((i, hit))
    for target, columns in claims.items():
        winner, _ = min(columns, key=lambda claim: _priority(claim[1], claim[0]))
        overflow = _OVERFLOW.get(target)
        for i, _ in columns:
            if i != winner:
                targets[i] = overflow
    return targets


def _custom_keys(headers: Iterable[str]) -> Iterator[str | None]:
    """Distinct custom keys in order, lazily; None for a header with no valid key."""
    used: set[str] = set()
    next_suffix: dict[str, int] = {}
    for header in headers:
        try:
            key = normalise_custom_field_key(header)
        except InvalidValue:
            yield None
            continue
        if key in used:
            n = next_suffix.get(key, 2)
            while True:
                suffix = f"_{n}"
                candidate = key[:MAX_CUSTOM_FIELD_KEY_LENGTH - len(suffix)].rstrip("_") + suffix
                if candidate not in used:
                    break
                n += 1
            next_suffix[key] = n + 1
            key = candidate
        used.add(key)
        yield key


def auto_map(headers: list[str]) -> list[ColumnMatch]:
    """Best-guess target for every column; `headers` are distinct (see unique_headers)."""
    tokens = [match_tokens(header) for header in headers]
    keys = ["".join(t) for t in tokens]
    hits = [_classify(t) for t in tokens]
    _apply_context(hits, keys)
    targets = _resolve(hits)

    custom_keys = _custom_keys(h for h, t in zip(headers, targets, strict=True) if t is None)
    customs = 0
    matches: list[ColumnMatch] = []
    for header, hit, target in zip(headers, hits, targets, strict=True):
        if target is not None:
            assert hit is not None
            matches.append(ColumnMatch(header, target, hit.method, hit.score))
            continue
        key = next(custom_keys) if customs < MAX_CUSTOM_FIELDS else None
        if key is None:
            matches.append(ColumnMatch(header, None, "ignored", 0.0))
            continue
        customs += 1
        matches.append(ColumnMatch(header, CUSTOM_PREFIX + key, "custom", 0.0))
    return matches


def mapping_dict(matches: Iterable[ColumnMatch]) -> dict[str, str | None]:
    return {match.column: match.target for match in matches}

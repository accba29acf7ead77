"""Free-text, tag and custom-field-key normalisation.

Lengths are counted in Unicode code points (what Python's len() gives).

Lone surrogates (possible in JSON via "\\ud800") cannot be encoded as UTF-8 and
would fail later when the value is stored, so they are dealt with here:
free text gets U+FFFD in their place (the rest of the text is worth keeping),
a tag containing one is rejected, and in a custom-field key they act as a
separator like any other non-word character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from chalicelib.domain.errors import InvalidValue

MAX_TEXT_LENGTH = 1000
MAX_CUSTOM_FIELDS = 100
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_CUSTOM_FIELD_KEY_LENGTH = 64

# C0 controls except tab (0x09) and newline (0x0A). CR goes too, which turns
# Windows "\r\n" line ends into "\n".
_DROP_C0 = {code: None for code in range(0x20) if code not in (0x09, 0x0A)}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _drop_controls(value: str) -> str:
    if value.isascii() and value.isprintable():
        return value  # nothing to drop: the common case, at C speed
    cleaned = value.translate(_DROP_C0)
    # The regex is skipped for ASCII, which is the common case on imports.
    if not cleaned.isascii():
        cleaned = _SURROGATE.sub("\ufffd", cleaned)
    return cleaned


def clean_text(value: str, *, field: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Strip, drop C0 controls (not tab/newline); None when nothing is left.

    Raises InvalidValue(code="value_too_long") when the cleaned text is longer
    than `max_length`.
    """
    # Controls are removed before stripping so "\x00  text" does not keep its spaces.
    cleaned = _drop_controls(value).strip()
    if not cleaned:
        return None
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length} characters",
                           code="value_too_long",
                           details={"field": field, "max_length": max_length})
    return cleaned


def normalise_tag(raw: str) -> str:
    """Trim and collapse inner whitespace to single spaces; case is kept.

    The tag is also put in NFC form so composed and decomposed accents compare
    equal. Raises InvalidValue(code="invalid_tag").
    """
    if _SURROGATE.search(raw):
        raise InvalidValue("Tag contains invalid characters", code="invalid_tag")
    tag = unicodedata.normalize("NFC", " ".join(raw.translate(_DROP_C0).split()))
    if not tag:
        raise InvalidValue("Tag is empty", code="invalid_tag")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidValue(f"Tag is longer than {MAX_TAG_LENGTH} characters", code="invalid_tag",
                           details={"max_length": MAX_TAG_LENGTH})
    return tag


def _is_key_char(ch: str) -> bool:
    # Marks are kept so scripts written with combining vowel signs
    # (Devanagari, Thai, ...) are not cut into pieces.
    return ch.isalnum() or unicodedata.category(ch)[0] == "M"


def normalise_custom_field_key(raw: str) -> str:
    """Lowercase; every run of non-word characters (incl. '_') becomes one '_'.

    NFKC folds compatibility forms first (full-width letters, ligatures), so
    full-width "Company Size" gives "company_size". Unicode letters are kept.
    Raises InvalidValue(code="invalid_custom_field_key").
    """
    if len(raw) <= _CACHEABLE_KEY_LENGTH:
        return _normalise_key_cached(raw)
    return _normalise_key(raw)


def _normalise_key(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).lower()
    out: list[str] = []
    pending_separator = False
    for ch in text:
        if _is_key_char(ch):
            # Separators are only emitted between kept characters, which also
            # strips leading and trailing '_'.
            if pending_separator and out:
                out.append("_")
            pending_separator = False
            out.append(ch)
        else:
            pending_separator = True
    key = "".join(out)
    if not key:
        raise InvalidValue("Custom field key is empty", code="invalid_custom_field_key")
    if len(key) > MAX_CUSTOM_FIELD_KEY_LENGTH:
        raise InvalidValue(f"Custom field key is longer than {MAX_CUSTOM_FIELD_KEY_LENGTH} "
                           "characters", code="invalid_custom_field_key",
                           details={"max_length": MAX_CUSTOM_FIELD_KEY_LENGTH})
    return key


# The same few column names repeat on every row of an import. Bounded in both
# entry count and entry size, so memory cannot grow with odd input.
_CACHEABLE_KEY_LENGTH = 256
_normalise_key_cached = lru_cache(maxsize=1024)(_normalise_key)

"""Free-text, tag and custom-field-key normalisation: the one rule for text a user writes.

Every text a user can write — list names, notes, a lead's text fields, tags,
custom-field values, and the same fields read from an imported file — goes
through `sanitise` (docs/data-model.md, "Text"):

- bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
  U+061C) are removed, silently: they make text display other than it reads
  ("report\\u202efdp.exe" shows as "reportexe.pdf"), and no name or note needs them;
- other control characters (C0 but tab and line ends, DEL, C1) are refused
  with `invalid_text` (`controls="reject"`: API input, where the writer can be
  told) or removed (`controls="strip"`: imported cells, where one stray byte
  must not cost the row; the CSV reader drops NULs the same way). In a cell
  a C1 control becomes U+FFFD instead: it is what latin-1 makes of an
  accented letter of a mis-detected Mac Roman or DOS export (file_format),
  and U+FFFD marks where a letter was, as for undecodable bytes;
- line ends become "\\n"; single-line text (names, company, job title,
  location, tags) has every run of whitespace, tabs and line breaks included,
  made one space; multi-line text (notes, custom-field values) keeps tabs and
  line breaks.

Custom-field keys keep their own, stricter rule: only letters, digits and
marks survive, so no control can; bidi controls are removed before it.

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
from typing import Literal

from chalicelib.domain.errors import InvalidValue

MAX_TEXT_LENGTH = 1000
MAX_CUSTOM_FIELDS = 100
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_CUSTOM_FIELD_KEY_LENGTH = 64

# What becomes of a control character: refused (API input) or removed (imports).
Controls = Literal["reject", "strip"]

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# C0 but tab and newline (CR is a line end, made "\n" first), DEL, and C1.
_C1 = range(0x80, 0xA0)
CONTROL_CHARACTERS = "".join(
    chr(code) for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *_C1))
_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")
_DROP_BIDI: dict[int, str | None] = dict.fromkeys(map(ord, BIDI_CONTROLS))
_STRIP_CONTROLS: dict[int, str | None] = {
    **_DROP_BIDI, **dict.fromkeys(map(ord, CONTROL_CHARACTERS)), **dict.fromkeys(_C1, "\ufffd")}
_SURROGATE = re.compile("[\ud800-\udfff]")


def sanitise(value: str, *, field: str, multiline: bool, controls: Controls) -> str:
    """The text rule above; not stripped, no length limit.

    Raises InvalidValue(code="invalid_text") for a control character when
    `controls` is "reject".
    """
    if value.isascii() and value.isprintable():
        # nothing to remove: the common case, at C speed
        return value if multiline else " ".join(value.split())
    text = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    if controls == "reject" and (found := _CONTROL.search(text)):
        code_point = f"U+{ord(found.group()):04X}"
        raise InvalidValue(f"{field} contains a control character ({code_point})",
                           code="invalid_text", details={"field": field, "character": code_point})
    text = text.translate(_STRIP_CONTROLS if controls == "strip" else _DROP_BIDI)
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return text if multiline else " ".join(text.split())


def clean_text(value: str, *, field: str, max_length: int = MAX_TEXT_LENGTH,
               multiline: bool = True, controls: Controls = "reject") -> str | None:
    """`sanitise`, then strip; None when nothing is left.

    Raises InvalidValue: `invalid_text` (see sanitise), or `value_too_long`
    when the cleaned text is longer than `max_length`.
    """
    # Controls are removed before stripping so "\x00  text" does not keep its spaces.
    cleaned = sanitise(value, field=field, multiline=multiline, controls=controls).strip()
    if not cleaned:
        return None
    if len(cleaned) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length} characters",
                           code="value_too_long",
                           details={"field": field, "max_length": max_length})
    return cleaned


def normalise_tag(raw: str, *, controls: Controls = "reject") -> str:
    """Single-line text (trimmed, inner whitespace one space); case is kept.

    The tag is also put in NFC form so composed and decomposed accents compare
    equal. Raises InvalidValue(code="invalid_tag"), or `invalid_text` for a
    control character when `controls` is "reject".
    """
    if _SURROGATE.search(raw):
        raise InvalidValue("Tag contains invalid characters", code="invalid_tag")
    tag = unicodedata.normalize(
        "NFC", sanitise(raw, field="tag", multiline=False, controls=controls).strip())
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
    # Bidi controls are removed, not separators: "a\u200eb" is the key "ab".
    text = unicodedata.normalize("NFKC", raw.translate(_DROP_BIDI)).lower()
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

"""Which text encoding the first bytes of an upload are in.

Encodings, in order: a BOM (UTF-8, UTF-16, UTF-32), UTF-16 without a BOM
(recognised by its NUL byte every other byte), strict UTF-8, then cp1252 if
the bytes are valid cp1252, else latin-1. Windows Excel's "CSV" export is cp1252
(€ and smart quotes live in 0x80-0x9F, where latin-1 only has control codes), so
cp1252 wins whenever it can decode the sample; latin-1 is the fallback for the
five bytes cp1252 leaves undefined, because latin-1 decodes every byte.
charset-normalizer is not used: between these two it has nothing to add, and on
short samples its guesses of other code pages are unreliable.
"""

from __future__ import annotations

import codecs


def detect_encoding(sample: bytes) -> str:
    """The Python codec name to decode the sample with (it may end mid-character)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-32 first: its little-endian BOM begins with the UTF-16 one.
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bomless = _bomless_utf16(sample)
    if bomless is not None:
        return bomless
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM, told apart by the zero high byte of its ASCII characters."""
    head = sample[:4096]
    even, odd = head[0::2], head[1::2]
    if len(odd) < 2:
        return None
    even_zero, odd_zero = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_zero > 0.7 and even_zero < 0.1:
        return "utf-16-le"
    if even_zero > 0.7 and odd_zero < 0.1:
        return "utf-16-be"
    return None

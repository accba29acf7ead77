"""The bytes of an uploaded JSON file as the parser wants them: UTF-8, digit runs checked.

ijson reads bytes and wants UTF-8; uploads may also be UTF-16 (with a BOM).
`Utf8Reader` re-encodes the stream's text as UTF-8 for it (and for the JSON
Lines reader), a leading BOM dropped and bad bytes made U+FFFD.

ijson's C backend has one known failure on hostile input: an integer with
more digits than Python converts (sys.get_int_max_str_digits(), 4300) makes
it carry on with the exception pending, which ends in a SystemError or a
segfault. Its pure-Python backend raises cleanly but is ten times slower and
holds a whole string-heavy document in its lexer buffer. So the C backend is
used, and the bytes it is fed are checked first: a run of digits that long
(in a number or, rarely, inside a string) raises TooManyDigits, a ValueError,
which `json_rows` reports as `malformed_json`.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import Any, BinaryIO

_READ_SIZE = 64 * 1024
_DIGITS = b"0123456789"
# Every byte but a digit made a space: split() then gives the runs of digits.
_DIGITS_ONLY = bytes(byte if byte in _DIGITS else 0x20 for byte in range(256))


class TooManyDigits(ValueError):
    """A run of more digits than int() converts, which ijson's C backend cannot survive."""


class Utf8Reader(io.RawIOBase):
    """The stream's text re-encoded as UTF-8, a leading BOM dropped; bad bytes become U+FFFD.

    Decoding and re-encoding even UTF-8 is what makes a stray byte one
    replacement character rather than an unreadable file. With
    `guard_digits`, a run of digits too long for int() raises TooManyDigits.
    """

    def __init__(self, stream: BinaryIO, encoding: str, *, guard_digits: bool = False) -> None:
        super().__init__()
        self._stream = stream
        limit = sys.get_int_max_str_digits()
        self._max_digits = limit if guard_digits and limit > 0 else 0
        self._trailing_digits = 0
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = b""
        self._offset = 0
        self._eof = False
        self._started = False
        self.saw_content = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._offset >= len(self._pending) and not self._eof:
            chunk = self._stream.read(_READ_SIZE)
            self._eof = not chunk
            text = self._decoder.decode(chunk, final=self._eof)
            if not self._started and text:
                self._started = True
                text = text.removeprefix("\ufeff")
            if not self.saw_content and text.strip():
                self.saw_content = True
            self._pending = text.encode("utf-8", "replace")
            self._offset = 0
            if self._max_digits:
                self._check_digits(self._pending)
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending) - self._offset)
        view[:count] = self._pending[self._offset:self._offset + count]
        self._offset += count
        return count

    def _check_digits(self, data: bytes) -> None:
        """Refuse a run of more digits than int() takes, even one spread over reads.

        Linear in the data: the runs come from a C-level split, not a regex
        (one asking for 4301 digits backtracks quadratically on shorter runs).
        """
        leading = len(data) - len(data.lstrip(_DIGITS))
        longest = max(map(len, data.translate(_DIGITS_ONLY).split()), default=0)
        if leading == len(data):
            self._trailing_digits += leading
            longest = self._trailing_digits
        else:
            longest = max(longest, self._trailing_digits + leading)
            self._trailing_digits = len(data) - len(data.rstrip(_DIGITS))
        if longest > self._max_digits:
            raise TooManyDigits(f"a number (or a run of digits) longer than "
                                f"{self._max_digits} digits")

"""First-occurrence table for in-file dedupe, 12 bytes a row.

The splitter streams a whole file and must remember every identity it has
seen. A Python dict costs ~100 bytes an entry (200 MB for a 2M-row file);
this open-addressing table of 64-bit fingerprints and 32-bit row numbers in
two flat arrays costs 12 bytes per slot at most 50% load (24 MB for 2M rows).
A 64-bit fingerprint collision between two different people has probability
~n²/2⁶⁵ (1e-7 for 2M rows); the cost would be one row wrongly reported as a
duplicate, which the error report would show.
"""

from __future__ import annotations

import hashlib
from array import array


def fingerprint64(value: str) -> int:
    digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") | 1  # 0 marks an empty slot


class FirstOccurrences:
    """Maps an identity fingerprint to the row number where it first appeared."""

    def __init__(self, capacity: int = 1 << 14) -> None:
        size = 1
        while size < capacity * 2:
            size <<= 1
        self._keys = array("Q", bytes(8 * size))
        self._rows = array("I", bytes(4 * size))
        self._mask = size - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def first_row(self, value: str, row: int) -> int | None:
        """Record `value` at `row` unless seen before; return the earlier row if it was."""
        key = fingerprint64(value)
        keys, mask = self._keys, self._mask
        slot = key & mask
        while True:
            found = keys[slot]
            if found == 0:
                keys[slot] = key
                self._rows[slot] = row
                self._count += 1
                if self._count * 2 > mask:
                    self._grow()
                return None
            if found == key:
                return int(self._rows[slot])
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old_keys, old_rows = self._keys, self._rows
        size = (self._mask + 1) * 2
        self._keys = array("Q", bytes(8 * size))
        self._rows = array("I", bytes(4 * size))
        self._mask = size - 1
        for key, row in zip(old_keys, old_rows, strict=True):
            if key:
                slot = key & self._mask
                while self._keys[slot]:
                    slot = (slot + 1) & self._mask
                self._keys[slot] = key
                self._rows[slot] = row

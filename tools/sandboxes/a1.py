"""A1 ranges and partial-response field masks, as the Google Sheets sandbox reads them.

A range is a sheet name alone (the whole sheet), `<sheet>!<cells>`, or cells
alone (on the first sheet). A sheet name may be quoted, with a quote inside
doubled: 'Q1 ''Hot'' Leads'. Cells are A1, A1:C10, A:C, 2:5 or A2:Z. A sheet
that does not exist cannot be parsed either: Google answers both with 400
"Unable to parse range: ...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CELLS = re.compile(r"(?P<c1>[A-Za-z]{1,3})?(?P<r1>[1-9]\d*)?"
                    r"(?::(?P<c2>[A-Za-z]{1,3})?(?P<r2>[1-9]\d*)?)?\Z")
_PLAIN_TITLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MASK_PATH = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*)")


class RangeError(ValueError):
    """Google's 400 INVALID_ARGUMENT: "Unable to parse range: <range>"."""


@dataclass(frozen=True)
class Bounds:
    """0-based, inclusive; None is open-ended (to the grid's edge)."""

    first_row: int | None = None
    first_col: int | None = None
    last_row: int | None = None
    last_col: int | None = None


def column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def quote_title(title: str) -> str:
    """How Google writes a sheet's name in a range: quoted unless plain."""
    return title if _PLAIN_TITLE.match(title) else "'" + title.replace("'", "''") + "'"


def _bounds(cells: str) -> Bounds | None:
    matched = _CELLS.match(cells)
    if matched is None or not cells or cells.endswith(":"):
        return None
    c1, r1, c2, r2 = matched.group("c1", "r1", "c2", "r2")
    if ":" not in cells:
        if not (c1 and r1):  # a lone "A" or "5" is no cell
            return None
        c2, r2 = c1, r1
    elif (c1 is None) != (c2 is None) and (r1 is None) != (r2 is None):
        return None  # "A:5", "1:B": a column against a row

    def row(text: str | None) -> int | None:
        return int(text) - 1 if text else None

    def col(text: str | None) -> int | None:
        return column_index(text) if text else None

    return Bounds(row(r1), col(c1), row(r2), col(c2))


def _unquote(text: str) -> tuple[str, str] | None:
    """('title', rest) for text starting with a quoted title; None if not well quoted."""
    at, title = 1, []
    while at < len(text):
        if text[at] == "'":
            if text[at + 1:at + 2] == "'":
                title.append("'")
                at += 2
                continue
            return "".join(title), text[at + 1:]
        title.append(text[at])
        at += 1
    return None


def parse_range(text: str, titles: list[str]) -> tuple[str, Bounds]:
    """(sheet title, bounds) of `text` against a spreadsheet's sheet `titles`."""
    refused = RangeError(f"Unable to parse range: {text}")
    if text in titles:
        return text, Bounds()
    if text.startswith("'"):
        quoted = _unquote(text)
        if quoted is None:
            raise refused
        title, rest = quoted
        if rest and not rest.startswith("!"):
            raise refused
        cells = rest[1:]
    elif "!" in text:
        title, _, cells = text.rpartition("!")
    else:
        bounds = _bounds(text)
        if bounds is None or not titles:
            raise refused
        return titles[0], bounds
    if title not in titles:
        raise refused
    bounds = _bounds(cells) if cells else Bounds()
    if bounds is None:
        raise refused
    return title, bounds


def parse_mask(text: str) -> dict[str, Any]:
    """A partial-response mask ("sheets.properties", "sheets(properties(title))", ...) as a tree;
    an empty subtree keeps everything below it."""
    tree: dict[str, Any] = {}
    at = _mask_into(tree, text, 0)
    if at != len(text):
        raise ValueError(f"bad fields mask: {text!r}")
    return tree


def _mask_into(tree: dict[str, Any], text: str, at: int) -> int:
    while True:
        matched = _MASK_PATH.match(text, at)
        if matched is None:
            raise ValueError(f"bad fields mask: {text!r}")
        node = tree
        for name in re.split(r"[./]", matched.group(1)):
            node = node.setdefault(name, {})
        at = matched.end()
        if text[at:at + 1] == "(":
            at = _mask_into(node, text, at + 1)
            if text[at:at + 1] != ")":
                raise ValueError(f"bad fields mask: {text!r}")
            at += 1
        if text[at:at + 1] != ",":
            return at
        at += 1


def apply_mask(value: Any, tree: dict[str, Any]) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [apply_mask(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: apply_mask(value[key], sub) for key, sub in tree.items() if key in value}
    return value

"""One JSON record as the cells of a row: flattening its keys and formatting its values.

`json_rows` reads the records; this module turns one parsed record (a dict
of str, int, Decimal, bool, None, lists and dicts) into cells by column name.
Cells are what a user would type:
- nested objects are flattened to dotted keys: {"address": {"city": "X"}} is
  column "address.city". Keys that meet after flattening ({"a.b": 1, "a":
  {"b": 2}}) share one column and the last in the record wins, as for a
  repeated key, which every JSON parser resolves the same way;
- an array of scalars is joined with "; " (nulls and blanks left out), a
  separator the tags column splits on; an array holding objects or arrays
  is kept as its compact JSON text;
- numbers in plain notation where that stays short, without trailing zeros
  (1.0 is "1", 1e3 is "1000", 1.50 is "1.5", 1e400 stays "1E+400"), all
  digits kept; booleans TRUE/FALSE as spreadsheets give them; null is "";
- NUL characters are dropped (as from CSV) and unpaired UTF-16 surrogates
  from "\\ud800" escapes become U+FFFD, so every cell encodes as UTF-8.

A record past a limit raises RecordProblem, whose code is one of
json_rows.ROW_PROBLEMS; the reader makes it a row problem.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from chalicelib.domain.row_reader import cell_text

MAX_DEPTH = 5
MAX_STRING_CHARS = 1024 * 1024
# A flattened key (a column name) longer than this is no column anyone maps;
# refusing the record keeps the header, stored with the analysis, small.
MAX_KEY_CHARS = 1024

_SURROGATE = re.compile("[\ud800-\udfff]")
# Beyond this exponent a number keeps its exponent: 1e400 would be 401 digits.
_MAX_PLAIN_EXPONENT = 40


class RecordProblem(Exception):
    """A record that cannot be a row; `code` is a key of json_rows.ROW_PROBLEMS.

    `message` is None where the code's usual message says it all.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def flatten_record(record: dict[str, Any]) -> dict[str, str]:
    """A record's cells by flattened key; RecordProblem when a limit is passed.

    The limits are checked here for both kinds, whatever was checked while
    the record was built; the record is level 1 of MAX_DEPTH.
    """
    out: dict[str, str] = {}
    _flatten(record, "", out, 1)
    return out


def _flatten(record: dict[str, Any], prefix: str, out: dict[str, str], depth: int) -> None:
    for key, value in record.items():
        name = prefix + _clean(key)
        if len(name) > MAX_KEY_CHARS:
            raise RecordProblem("value_too_long",
                                f"A key is longer than {MAX_KEY_CHARS} characters")
        kind = type(value)
        if kind is str:
            text = _clean(value)
        elif kind is dict:
            if depth >= MAX_DEPTH:
                raise RecordProblem("too_deeply_nested")
            _flatten(value, name + ".", out, depth + 1)
            continue
        elif kind is list:
            if depth >= MAX_DEPTH:
                raise RecordProblem("too_deeply_nested")
            text = _list_text(value, depth + 1)
        else:
            text = _scalar_text(value)
        if len(text) > MAX_STRING_CHARS:
            raise RecordProblem("value_too_long")
        out[name] = text  # keys that meet: the last value, in the first one's place


def _list_text(items: list[Any], depth: int) -> str:
    """An array at `depth`: its scalars joined, or its JSON text if it holds containers."""
    if any(type(item) is dict or type(item) is list for item in items):
        return _json_text(items, depth)
    texts = (_scalar_text(item) for item in items)
    return "; ".join(text for text in texts if text.strip())


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    return cell_text(value)  # None, bool, int (and float, from other backends)


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite() or abs(value.adjusted()) > _MAX_PLAIN_EXPONENT:
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _json_text(value: Any, depth: int) -> str:
    """Compact JSON of a value at `depth` (Decimal numbers kept as written)."""
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        raise RecordProblem("too_deeply_nested")
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(key)}:{_json_text(item, depth + 1)}"
                              for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(item, depth + 1) for item in value) + "]"
    if isinstance(value, str):
        return _json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_string(text: str) -> str:
    return json.dumps(_clean(text), ensure_ascii=False)


def _clean(text: str) -> str:
    if text.isascii() and "\x00" not in text:
        return text
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text

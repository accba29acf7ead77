"""Rows of an uploaded JSON file: an array of records ("json") or one a line ("jsonl").

The pipeline takes a header and rows of string cells, as a CSV gives them. A
JSON file names its columns in every record instead, and any record may bring
a new one, so reading takes two passes over the file: `json_columns` reads it
all for the columns, then `iter_json_rows` reads it again for the rows. Hence
`read_json_rows` (what `row_reader.iter_rows` calls) needs a seekable stream;
the pipeline already downloads every non-CSV upload to a temp file. Both
passes stream: memory holds one record at a time (each at most
MAX_RECORD_CHARS) plus the columns, whatever the file size. Arrays are parsed
with ijson's event parser (its C backend, yajl2_c, which the wheel ships),
JSON Lines line by line with json.loads.

ijson's C backend has one known failure on hostile input: an integer with
more digits than Python converts (sys.get_int_max_str_digits(), 4300) makes
it carry on with the exception pending, which ends in a SystemError or a
segfault. Its pure-Python backend raises cleanly but is ten times slower and
holds a whole string-heavy document in its lexer buffer. So the C backend is
used, and the bytes it is fed are checked first: a run of digits that long
(in a number or, rarely, inside a string) makes the file `malformed_json`.
It also refuses an escaped lone low surrogate ("\\udc00"), cleanly: in an
array that too is `malformed_json` (a lone high one it reads as "?"), where
json.loads, for JSON Lines, reads both and the cell gets U+FFFD.

Rows. The first row is the header, numbered 0 (it is no line of the file):
the flattened keys of all records in order of first appearance, at most
MAX_COLUMNS. Then one row per record, its cells aligned to the header ("" for
a key the record lacks). A record's number is its physical line (jsonl: 1 for
the first line, blank lines skipped but counted) or its 1-based position in
the array (json). A record with no non-blank value is skipped like a blank
CSV row, keeping the numbering.

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

Problems. A record that cannot be used is a row with no cells and a
`problem` code (ROW_PROBLEMS), not an exception: a line that is not valid
JSON (`invalid_json`), a record that is not an object (`not_an_object`),
nesting deeper than MAX_DEPTH (`too_deeply_nested`; the record is level 1, each
object or array inside it one more), a string or key longer than
MAX_STRING_CHARS, or a cell that would be (`value_too_long`), a record over
MAX_RECORD_CHARS (`record_too_large`). What stops the whole file raises
UnreadableFile: a top level that is not an array (`json_not_array`), an array
broken off or broken inside (`malformed_json`, details.record: where the
parser stopped; it cannot resynchronise inside an array as it can at the next
line), no record at all or none with a field (`empty_file`), no record usable
(`malformed_json`, details: the first record's line or position and
problem), too many columns (`too_many_columns`).
"""

from __future__ import annotations

import codecs
import io
import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple

import ijson

from chalicelib.domain.file_format import (
    JSON_KINDS,
    FileFormat,
    UnreadableFile,
    json_not_array,
)
from chalicelib.domain.row_reader import Row, cell_text

MAX_DEPTH = 5
MAX_STRING_CHARS = 1024 * 1024
# A flattened key (a column name) longer than this is no column anyone maps;
# refusing the record keeps the header, stored with the analysis, small.
MAX_KEY_CHARS = 1024
# Every distinct key is a column: a file whose records each bring new keys
# (ids as keys) would otherwise grow the header without end.
MAX_COLUMNS = 1000
# About the characters of a record's keys and values; bounds the memory one
# record takes (a JSON Lines line is held whole up to this many bytes).
MAX_RECORD_CHARS = 32 * 1024 * 1024
HEADER_ROW_NUMBER = 0

# Reason codes of a row that could not be read, with the message each carries.
ROW_PROBLEMS = {
    "invalid_json": "The line is not valid JSON",
    "not_an_object": "The record is not a JSON object",
    "too_deeply_nested": f"The record is nested more than {MAX_DEPTH} levels deep",
    "value_too_long": f"A value or key is longer than {MAX_STRING_CHARS} characters",
    "record_too_large": f"The record is larger than {MAX_RECORD_CHARS} characters",
}

_READ_SIZE = 64 * 1024
# ijson turns each read into a list of all its events before yielding the
# first (about 1 MB of them for 64 KiB of small values): smaller reads, a
# smaller peak.
_PARSE_SIZE = 16 * 1024
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = b"0123456789"
# Every byte but a digit made a space: split() then gives the runs of digits.
_DIGITS_ONLY = bytes(byte if byte in _DIGITS else 0x20 for byte in range(256))
# Beyond this exponent a number keeps its exponent: 1e400 would be 401 digits.
_MAX_PLAIN_EXPONENT = 40
# ijson raises its own JSONError for bad JSON; ValueError (UnicodeDecodeError,
# json.loads' JSONDecodeError and int()'s digit limit among them) and
# ArithmeticError (Decimal's InvalidOperation for an exponent past 10**18)
# come from converting values.
_PARSE_ERRORS = (ijson.JSONError, ValueError, ArithmeticError)


class _Record(NamedTuple):
    number: int
    fields: dict[str, str] | None
    problem: str | None = None
    message: str | None = None


class _Problem(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or ROW_PROBLEMS[code]


def read_json_rows(stream: BinaryIO, fmt: FileFormat) -> Iterator[Row]:
    """Header row then data rows of a JSON file read from the stream's position.

    Reads the whole file once for the columns at the call (so an unreadable
    file raises here), seeks back, and streams the rows. The stream must be
    seekable; it is left open.
    """
    start = stream.tell()
    columns = json_columns(stream, fmt.kind, encoding=fmt.encoding)
    stream.seek(start)
    return iter_json_rows(stream, fmt.kind, columns, encoding=fmt.encoding)


def json_columns(stream: BinaryIO, kind: str, *, encoding: str | None = None) -> list[str]:
    """The flattened keys of all usable records, in order of first appearance (a full pass)."""
    columns: dict[str, None] = {}
    records = 0
    first_problem: _Record | None = None
    for record in _records(stream, kind, encoding):
        records += 1
        if record.fields is None:
            first_problem = first_problem or record
            continue
        for name in record.fields:
            if name not in columns:
                if len(columns) >= MAX_COLUMNS:
                    raise UnreadableFile(
                        f"The records have more than {MAX_COLUMNS} different fields "
                        f"(at {_where(kind, record.number)})",
                        code="too_many_columns",
                        details={"max_columns": MAX_COLUMNS, _place(kind): record.number})
                columns[name] = None
    if not records:
        raise UnreadableFile("The JSON file holds no records", code="empty_file")
    if not any(name.strip() for name in columns):
        if first_problem is not None:
            raise UnreadableFile(
                f"No record of the JSON file can be read; the first, at "
                f"{_where(kind, first_problem.number)}: {first_problem.message}",
                code="malformed_json",
                details={_place(kind): first_problem.number, "problem": first_problem.problem})
        raise UnreadableFile("The JSON file's records hold no fields", code="empty_file")
    return list(columns)


def iter_json_rows(stream: BinaryIO, kind: str, columns: list[str], *,
                   encoding: str | None = None) -> Iterator[Row]:
    """The header row (number 0, `columns`), then one row per record aligned to `columns`."""
    yield Row(HEADER_ROW_NUMBER, list(columns))
    for record in _records(stream, kind, encoding):
        if record.fields is None:
            yield Row(record.number, [], problem=record.problem, problem_message=record.message)
            continue
        cells = [record.fields.get(name, "") for name in columns]
        if any(cell.strip() for cell in cells):
            yield Row(record.number, cells)


# --- reading records ---------------------------------------------------------------------------

def _records(stream: BinaryIO, kind: str, encoding: str | None) -> Iterator[_Record]:
    if kind not in JSON_KINDS:
        raise ValueError(f"not a JSON kind: {kind!r}")
    # Only ijson (arrays) needs the digit guard; json.loads raises cleanly.
    reader = _Utf8Reader(stream, encoding or "utf-8", guard_digits=kind == "json")
    buffered = io.BufferedReader(reader, _READ_SIZE)
    try:
        if kind == "jsonl":
            yield from _line_records(buffered)
        else:
            yield from _array_records(buffered, reader)
    finally:
        # Closing the buffer closes only the transcoder, never the caller's stream.
        buffered.close()


def _line_records(lines: BinaryIO) -> Iterator[_Record]:
    number = 0
    while line := lines.readline(MAX_RECORD_CHARS + 1):
        number += 1
        if len(line) > MAX_RECORD_CHARS and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # the rest of it, a piece at a time
                line = lines.readline(_READ_SIZE)
            yield _Record(number, None, "record_too_large", ROW_PROBLEMS["record_too_large"])
            continue
        if line.strip():
            yield _line_record(number, line)


def _line_record(number: int, line: bytes) -> _Record:
    # json.loads rather than ijson for a line: a line is whole in memory
    # already, and a parser per line is several times slower through ijson's
    # dispatch. Both give the same values: int, Decimal, and last-key-wins.
    try:
        value = _LINE_DECODER.decode(line.decode("utf-8", "replace"))
    except RecursionError:  # nested hundreds deep: the decoder's own limit
        return _Record(number, None, "too_deeply_nested", ROW_PROBLEMS["too_deeply_nested"])
    except _PARSE_ERRORS as exc:
        return _Record(number, None, "invalid_json",
                       f"{ROW_PROBLEMS['invalid_json']}: {_parser_reason(exc)}")
    try:
        if not isinstance(value, dict):
            raise _Problem("not_an_object")
        return _Record(number, _fields(value))
    except _Problem as exc:
        return _Record(number, None, exc.code, exc.message)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_LINE_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _array_records(source: BinaryIO, reader: _Utf8Reader) -> Iterator[_Record]:
    events = ijson.basic_parse(source, buf_size=_PARSE_SIZE, use_float=False)
    done = 0
    closed = False
    try:
        first = next(events, None)
        if first is None:
            raise UnreadableFile("The JSON file is empty", code="empty_file")
        if first[0] != "start_array":
            raise json_not_array()
        for event, value in events:
            if event == "end_array":
                closed = True
                break
            try:
                yield _Record(done + 1, _record_fields(event, value, events))
            except _Problem as exc:
                yield _Record(done + 1, None, exc.code, exc.message)
            done += 1
        for _ in events:  # only whitespace may follow the array
            pass
    except _PARSE_ERRORS as exc:
        if done == 0 and not reader.saw_content:
            raise UnreadableFile("The JSON file is empty", code="empty_file") from exc
        where = ("after the array" if closed else
                 f"at record {done + 1} (after {done} complete records)")
        raise UnreadableFile(
            f"The JSON file is malformed {where}: {_parser_reason(exc)}",
            code="malformed_json",
            details={"record": done + 1, "reason": _parser_reason(exc)}) from exc


def _record_fields(first_event: str, first_value: Any,
                   events: Iterator[tuple[str, Any]]) -> dict[str, str]:
    """Read one record whose first event is given; its flattened cells, or _Problem.

    On a problem the rest of the record is still consumed, so that an array
    goes on at the next record.
    """
    if first_event != "start_map":  # a scalar (first_value) or an array
        if first_event == "start_array":
            _skip(events, 1)
        raise _Problem("not_an_object")
    root: dict[str, Any] = {}
    stack: list[dict[str, Any] | list[Any]] = [root]
    key = ""
    size = 0
    try:
        for event, value in events:
            if event == "map_key":
                if len(value) > MAX_STRING_CHARS:
                    raise _Problem("value_too_long")
                key = value
                size += len(value) + 1
            elif event in _CLOSE:
                stack.pop()
                if not stack:
                    return _fields(root)
            elif event in _OPEN:
                if len(stack) >= MAX_DEPTH:
                    stack.append([])  # counted for the skip below
                    raise _Problem("too_deeply_nested")
                child: dict[str, Any] | list[Any] = {} if event == "start_map" else []
                _put(stack[-1], key, child)
                stack.append(child)
                size += 1
            else:
                if isinstance(value, str):
                    if len(value) > MAX_STRING_CHARS:
                        raise _Problem("value_too_long")
                    size += len(value) + 1
                else:
                    size += 8
                _put(stack[-1], key, value)
            if size > MAX_RECORD_CHARS:
                raise _Problem("record_too_large")
    except _Problem:
        _skip(events, len(stack))
        raise
    # The parser raises before it ends inside a record; this is defensive.
    raise _Problem("invalid_json")


def _put(container: dict[str, Any] | list[Any], key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value  # a repeated key: the last wins
    else:
        container.append(value)


def _skip(events: Iterator[tuple[str, Any]], depth: int) -> None:
    """Consume events until `depth` open containers have closed."""
    if depth <= 0:
        return
    for event, _ in events:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


# --- flattening --------------------------------------------------------------------------------

def _fields(record: dict[str, Any]) -> dict[str, str]:
    """A record's cells by flattened key; _Problem when a limit is passed.

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
            raise _Problem("value_too_long", f"A key is longer than {MAX_KEY_CHARS} characters")
        kind = type(value)
        if kind is str:
            text = _clean(value)
        elif kind is dict:
            if depth >= MAX_DEPTH:
                raise _Problem("too_deeply_nested")
            _flatten(value, name + ".", out, depth + 1)
            continue
        elif kind is list:
            if depth >= MAX_DEPTH:
                raise _Problem("too_deeply_nested")
            text = _list_text(value, depth + 1)
        else:
            text = _scalar_text(value)
        if len(text) > MAX_STRING_CHARS:
            raise _Problem("value_too_long")
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
        raise _Problem("too_deeply_nested")
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


# --- helpers -----------------------------------------------------------------------------------

class _Utf8Reader(io.RawIOBase):
    """The stream's text re-encoded as UTF-8, a leading BOM dropped; bad bytes become U+FFFD.

    ijson reads bytes and wants UTF-8; uploads may also be UTF-16 (with a BOM).
    Decoding and re-encoding even UTF-8 is what makes a stray byte one
    replacement character rather than an unreadable file.
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
            raise _TooManyDigits(f"a number (or a run of digits) longer than "
                                 f"{self._max_digits} digits")


class _TooManyDigits(ValueError):
    pass


def _parser_reason(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = str(text).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _place(kind: str) -> str:
    return "line" if kind == "jsonl" else "record"


def _where(kind: str, number: int) -> str:
    return f"line {number}" if kind == "jsonl" else f"record {number}"

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

The C backend cannot survive an integer with more digits than int()
converts; the bytes it is fed pass through `json_utf8_reader` first, so such
a run of digits (in a number or, rarely, inside a string) makes the file
`malformed_json`. The backend also refuses an escaped lone low surrogate
("\\udc00"), cleanly: in an array that too is `malformed_json` (a lone high
one it reads as "?"), where json.loads, for JSON Lines, reads both and the
cell gets U+FFFD.

Rows. The first row is the header, numbered 0 (it is no line of the file):
the flattened keys of all records in order of first appearance, at most
MAX_COLUMNS. Then one row per record, its cells aligned to the header ("" for
a key the record lacks). A record's number is its physical line (jsonl: 1 for
the first line, blank lines skipped but counted) or its 1-based position in
the array (json). A record with no non-blank value is skipped like a blank
CSV row, keeping the numbering.

Cells are what a user would type; `json_flatten` turns a record into them
(dotted keys for nested objects, arrays joined with "; ", numbers in plain
notation, booleans TRUE/FALSE).

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

import io
import json
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
from chalicelib.domain.json_flatten import (
    MAX_DEPTH,
    MAX_STRING_CHARS,
    RecordProblem,
    flatten_record,
)
from chalicelib.domain.json_utf8_reader import Utf8Reader
from chalicelib.domain.row_reader import Row

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
# ijson raises its own JSONError for bad JSON; ValueError (UnicodeDecodeError,
# json.loads' JSONDecodeError, int()'s digit limit and the reader's
# TooManyDigits among them) and ArithmeticError (Decimal's InvalidOperation
# for an exponent past 10**18) come from converting values.
_PARSE_ERRORS = (ijson.JSONError, ValueError, ArithmeticError)


class _Record(NamedTuple):
    number: int
    fields: dict[str, str] | None
    problem: str | None = None
    message: str | None = None


def _problem_record(number: int, problem: RecordProblem) -> _Record:
    return _Record(number, None, problem.code, problem.message or ROW_PROBLEMS[problem.code])


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
    reader = Utf8Reader(stream, encoding or "utf-8", guard_digits=kind == "json")
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
            raise RecordProblem("not_an_object")
        return _Record(number, flatten_record(value))
    except RecordProblem as exc:
        return _problem_record(number, exc)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_LINE_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _array_records(source: BinaryIO, reader: Utf8Reader) -> Iterator[_Record]:
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
            except RecordProblem as exc:
                yield _problem_record(done + 1, exc)
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
    """Read one record whose first event is given; its flattened cells, or RecordProblem.

    On a problem the rest of the record is still consumed, so that an array
    goes on at the next record.
    """
    if first_event != "start_map":  # a scalar (first_value) or an array
        if first_event == "start_array":
            _skip(events, 1)
        raise RecordProblem("not_an_object")
    root: dict[str, Any] = {}
    stack: list[dict[str, Any] | list[Any]] = [root]
    key = ""
    size = 0
    try:
        for event, value in events:
            if event == "map_key":
                if len(value) > MAX_STRING_CHARS:
                    raise RecordProblem("value_too_long")
                key = value
                size += len(value) + 1
            elif event in _CLOSE:
                stack.pop()
                if not stack:
                    return flatten_record(root)
            elif event in _OPEN:
                if len(stack) >= MAX_DEPTH:
                    stack.append([])  # counted for the skip below
                    raise RecordProblem("too_deeply_nested")
                child: dict[str, Any] | list[Any] = {} if event == "start_map" else []
                _put(stack[-1], key, child)
                stack.append(child)
                size += 1
            else:
                if isinstance(value, str):
                    if len(value) > MAX_STRING_CHARS:
                        raise RecordProblem("value_too_long")
                    size += len(value) + 1
                else:
                    size += 8
                _put(stack[-1], key, value)
            if size > MAX_RECORD_CHARS:
                raise RecordProblem("record_too_large")
    except RecordProblem:
        _skip(events, len(stack))
        raise
    # The parser raises before it ends inside a record; this is defensive.
    raise RecordProblem("invalid_json")


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


# --- helpers -----------------------------------------------------------------------------------

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

"""Tests for chalicelib.domain.json_rows: JSON arrays and JSON Lines as a header and rows."""

from __future__ import annotations

import codecs
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import json_rows
from chalicelib.domain.file_format import SAMPLE_SIZE, FileFormat, UnreadableFile, sniff
from chalicelib.domain.json_flatten import MAX_DEPTH, MAX_KEY_CHARS, MAX_STRING_CHARS
from chalicelib.domain.json_rows import (
    HEADER_ROW_NUMBER,
    MAX_COLUMNS,
    ROW_PROBLEMS,
    iter_json_rows,
    json_columns,
    read_json_rows,
)
from chalicelib.domain.row_reader import Row, iter_rows, split_header
from tests.json_corpus import JSON_CASES, JsonCase, case_kwargs

KINDS = ["json", "jsonl"]


def encode(records: list[Any], kind: str) -> bytes:
    """Records as a JSON array or as JSON Lines."""
    if kind == "json":
        return json.dumps(records).encode()
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def read(data: bytes, kind: str, encoding: str | None = None) -> list[Row]:
    return list(read_json_rows(io.BytesIO(data), FileFormat(kind=kind, encoding=encoding)))


def table(data: bytes, kind: str) -> list[tuple[int, list[str] | str]]:
    """(number, cells) per row, or (number, problem code) for a row that could not be read."""
    return [(row.number, row.problem or row.cells) for row in read(data, kind)]


def refused(data: bytes, kind: str) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as excinfo:
        read(data, kind)
    return excinfo.value


def nested(depth: int, leaf: Any = "x") -> dict[str, Any]:
    """A record `depth` levels deep: {"k1": {"k2": ... {"kN": leaf}}} (the record is level 1)."""
    value: Any = leaf
    for level in range(depth, 0, -1):
        value = {f"k{level}": value}
    return value  # type: ignore[no-any-return]


# --- header, cells, numbering ------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_header_first_then_one_row_per_record(kind):
    # GIVEN records with different keys (ragged)
    data = encode([{"email": "a@x.co", "name": "Ada"},
                   {"name": "Bob", "phone": "+1 415 555 0134"},
                   {"email": "c@x.co"}], kind)
    # WHEN read
    rows = read(data, kind)
    # THEN the header holds every key in order of first appearance, cells align to it
    assert rows[0] == Row(HEADER_ROW_NUMBER, ["email", "name", "phone"])
    assert HEADER_ROW_NUMBER == 0
    assert [(row.number, row.cells) for row in rows[1:]] == [
        (1, ["a@x.co", "Ada", ""]),
        (2, ["", "Bob", "+1 415 555 0134"]),
        (3, ["c@x.co", "", ""]),
    ]


def test_split_header_takes_the_json_header():
    data = encode([{"email": "a@x.co"}, {"email": "b@x.co"}], "json")
    header, rows = split_header(read_json_rows(io.BytesIO(data), FileFormat(kind="json")))
    assert header == ["email"]
    assert [row.number for row in rows] == [1, 2]


def test_jsonl_numbers_are_physical_lines_and_blank_lines_are_skipped():
    data = b'\n{"email": "a@x.co"}\n  \r\n\t\n{"email": "b@x.co"}\r\n\n{"email": "c@x.co"}'
    assert table(data, "jsonl") == [(0, ["email"]), (2, ["a@x.co"]), (5, ["b@x.co"]),
                                    (7, ["c@x.co"])]


def test_array_numbers_are_positions_counting_unusable_records():
    data = b'[{"email": "a@x.co"}, 7, {"email": "c@x.co"}]'
    assert table(data, "json") == [(0, ["email"]), (1, ["a@x.co"]), (2, "not_an_object"),
                                   (3, ["c@x.co"])]


@pytest.mark.parametrize("kind", KINDS)
def test_records_without_a_value_are_skipped_like_blank_rows(kind):
    data = encode([{"email": "a@x.co"}, {}, {"email": None}, {"email": "  "},
                   {"email": "e@x.co"}], kind)
    assert table(data, kind) == [(0, ["email"]), (1, ["a@x.co"]), (5, ["e@x.co"])]


@pytest.mark.parametrize("kind", KINDS)
def test_nested_objects_become_dotted_keys(kind):
    data = encode([{"email": "a@x.co",
                    "address": {"city": "London", "geo": {"lat": 51.5, "lng": -0.1}},
                    "empty": {}}], kind)
    assert table(data, kind) == [
        (0, ["email", "address.city", "address.geo.lat", "address.geo.lng"]),
        (1, ["a@x.co", "London", "51.5", "-0.1"]),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_arrays(kind):
    data = encode([{"email": "a@x.co",
                    "tags": ["vip", "", None, "q1", 2, True],
                    "emails": ["b@x.co", "c@x.co"],
                    "none": [],
                    "jobs": [{"title": "CEO", "since": 2020}, "x", [1, None]],
                    "matrix": [[1, 2], [3]]}], kind)
    header, row = read(data, kind)
    cells = dict(zip(header.cells, row.cells, strict=True))
    assert cells == {
        "email": "a@x.co",
        "tags": "vip; q1; 2; TRUE",  # nulls and blanks left out
        "emails": "b@x.co; c@x.co",
        "none": "",
        "jobs": '[{"title":"CEO","since":2020},"x",[1,null]]',
        "matrix": "[[1,2],[3]]",
    }


def test_json_text_of_an_array_keeps_numbers_and_unicode_as_written():
    data = b'[{"x": [{"n": 1.50, "big": 1e400, "s": "Zo\\u00eb \\"q\\"", "t": false}]}]'
    assert read(data, "json")[1].cells == ['[{"n":1.50,"big":1E+400,"s":"Zoë \\"q\\"","t":false}]']


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("number", "text"), [
    ("0", "0"),
    ("-0", "0"),
    ("-0.0", "0"),
    ("4155550134", "4155550134"),
    ("4155550134.0", "4155550134"),
    ("4.155550134e9", "4155550134"),
    ("1.0", "1"),
    ("1.50", "1.5"),
    ("1e3", "1000"),
    ("1E-7", "0.0000001"),
    ("-12.25", "-12.25"),
    ("123456789012345678901234567890", "123456789012345678901234567890"),
    ("1.23456789012345678901234567890123", "1.23456789012345678901234567890123"),
    ("1e400", "1E+400"),
    ("1e-400", "1E-400"),
])
def test_numbers_as_a_user_would_type_them(kind, number, text):
    record = b'{"n": ' + number.encode() + b"}"
    data = b"[" + record + b"]" if kind == "json" else record + b"\n"
    assert read(data, kind)[1].cells == [text]


@pytest.mark.parametrize("kind", KINDS)
def test_booleans_and_null(kind):
    data = encode([{"a": True, "b": False, "c": None, "d": "x"}], kind)
    assert read(data, kind)[1].cells == ["TRUE", "FALSE", "", "x"]


@pytest.mark.parametrize("kind", KINDS)
def test_keys_that_meet_after_flattening_share_a_column_and_the_last_wins(kind):
    records = [{"a.b": 1, "x": 0, "a": {"b": 2}}, {"a": {"b": 3}, "a.b": 4}]
    assert table(encode(records, kind), kind) == [(0, ["a.b", "x"]), (1, ["2", "0"]),
                                                  (2, ["4", ""])]


@pytest.mark.parametrize("kind", KINDS)
def test_a_repeated_key_the_last_wins(kind):
    record = b'{"email": "a@x.co", "name": "A", "email": "b@x.co"}'
    data = b"[" + record + b"]" if kind == "json" else record
    assert table(data, kind) == [(0, ["email", "name"]), (1, ["b@x.co", "A"])]


@pytest.mark.parametrize("kind", KINDS)
def test_nul_characters_are_dropped_and_lone_surrogates_replaced(kind):
    record = b'{"na\\u0000me": "A\\u0000da", "s": "x\\ud800y", "pair": "\\ud83d\\ude00"}'
    data = b"[" + record + b"]" if kind == "json" else record
    header, row = read(data, kind)
    assert header.cells == ["name", "s", "pair"]
    assert row.cells[0] == "Ada" and row.cells[2] == "\U0001f600"
    # ijson's C backend makes the lone surrogate "?", json.loads keeps it and
    # the reader replaces it: either way every cell encodes as UTF-8.
    assert row.cells[1] in ("x\ufffdy", "x?y")
    for cell in header.cells + row.cells:
        cell.encode("utf-8")


def test_a_lone_low_surrogate_escape():
    # json.loads (lines) reads it; ijson's C backend (arrays) refuses it, cleanly
    record = b'{"email": "a@x.co", "notes": "x\\udc00y"}'
    assert read(record + b"\n", "jsonl")[1].cells == ["a@x.co", "x\ufffdy"]
    assert refused(b"[" + record + b"]", "json").code == "malformed_json"


# --- encodings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_encodings(kind, encoding):
    text = encode([{"email": "zoe@x.co", "name": "Zoë"}, {"email": "a@x.co", "name": "€"}],
                  kind).decode()
    data = text.encode(encoding)
    rows = read(data, kind, encoding)
    assert [(row.number, row.cells) for row in rows] == [
        (0, ["email", "name"]), (1, ["zoe@x.co", "Zoë"]), (2, ["a@x.co", "€"])]
    # the BOM is dropped even when the format says plain UTF-8
    if encoding == "utf-8-sig":
        assert [row.cells for row in read(data, kind, "utf-8")][1] == ["zoe@x.co", "Zoë"]


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_utf8_bytes_become_replacement_characters(kind):
    record = b'{"name": "Caf\xe9"}'
    data = b"[" + record + b"]" if kind == "json" else record
    assert read(data, kind)[1].cells == ["Caf\ufffd"]


# --- per-row problems -----------------------------------------------------------------------------

def test_a_malformed_line_is_a_row_problem_not_a_failed_import():
    data = (b'{"email": "a@x.co"}\n'
            b'{"email": "b@x.co",}\n'  # trailing comma
            b'{"email": "c@x.co"} {"email": "d@x.co"}\n'  # two values on a line
            b'{"email": NaN}\n'
            b'{"email": "e@x.co"\n'  # never closed
            b"not json at all\n"
            b'{"email": "f@x.co"}\n')
    rows = read(data, "jsonl")
    assert [(row.number, row.problem or row.cells) for row in rows] == [
        (0, ["email"]), (1, ["a@x.co"]), (2, "invalid_json"), (3, "invalid_json"),
        (4, "invalid_json"), (5, "invalid_json"), (6, "invalid_json"), (7, ["f@x.co"])]
    problem = rows[2]
    assert problem.cells == []
    assert problem.problem_message is not None
    assert problem.problem_message.startswith(ROW_PROBLEMS["invalid_json"])


@pytest.mark.parametrize("line", [b'"a string"', b"42", b"null", b'["a@x.co"]', b"[]"])
def test_a_line_that_is_not_an_object(line):
    data = b'{"email": "a@x.co"}\n' + line + b"\n"
    rows = read(data, "jsonl")
    assert (rows[2].number, rows[2].problem) == (2, "not_an_object")
    assert rows[2].problem_message == ROW_PROBLEMS["not_an_object"]


def test_array_elements_that_are_not_objects():
    data = b'[{"email": "a@x.co"}, "s", 1, null, true, [{"email": "x@x.co"}], [], {"email": "b"}]'
    assert table(data, "json") == [
        (0, ["email"]), (1, ["a@x.co"]), (2, "not_an_object"), (3, "not_an_object"),
        (4, "not_an_object"), (5, "not_an_object"), (6, "not_an_object"),
        (7, "not_an_object"), (8, ["b"])]


@pytest.mark.parametrize("kind", KINDS)
def test_five_levels_are_accepted_six_are_a_row_problem(kind):
    assert MAX_DEPTH == 5
    records = [{"email": "a@x.co"}, nested(5), nested(6), {"email": "b@x.co"}]
    assert table(encode(records, kind), kind) == [
        (0, ["email", "k1.k2.k3.k4.k5"]), (1, ["a@x.co", ""]), (2, ["", "x"]),
        (3, "too_deeply_nested"), (4, ["b@x.co", ""])]


@pytest.mark.parametrize("kind", KINDS)
def test_arrays_count_as_levels(kind):
    # nested(4, v): v is the value of a key of the level-4 object, so an array there is level 5
    records = [nested(4, ["a", "b"]), nested(4, [["a"]]), nested(5, ["a"]),
               nested(2, [{"x": [1]}]), nested(2, [{"x": [[1]]}])]
    assert table(encode(records, kind), kind) == [
        (0, ["k1.k2.k3.k4", "k1.k2"]), (1, ["a; b", ""]), (2, "too_deeply_nested"),
        (3, "too_deeply_nested"), (4, ["", '[{"x":[1]}]']), (5, "too_deeply_nested")]


@pytest.mark.parametrize("kind", KINDS)
def test_thousands_of_levels_are_a_row_problem_and_reading_goes_on(kind):
    deep = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    good = b'{"email": "b@x.co"}'
    data = b"[" + deep + b"," + good + b"]" if kind == "json" else deep + b"\n" + good
    assert table(data, kind) == [(0, ["email"]), (1, "too_deeply_nested"), (2, ["b@x.co"])]


def test_a_deep_array_element_is_skipped_whole():
    data = b"[" + b"[" * 50_000 + b"]" * 50_000 + b', {"email": "b@x.co"}]'
    assert table(data, "json") == [(0, ["email"]), (1, "not_an_object"), (2, ["b@x.co"])]


@pytest.mark.parametrize("kind", KINDS)
def test_a_string_of_exactly_the_limit_is_kept_one_more_is_a_row_problem(kind):
    assert MAX_STRING_CHARS == 1_048_576
    records = [{"email": "a@x.co", "notes": "n" * MAX_STRING_CHARS},
               {"email": "b@x.co", "notes": "n" * (MAX_STRING_CHARS + 1), "after": "z"},
               {"email": "c@x.co", "notes": "short"}]
    rows = read(encode(records, kind), kind)
    assert rows[0].cells == ["email", "notes"]  # "after" came only with the refused record
    assert len(rows[1].cells[1]) == MAX_STRING_CHARS
    assert (rows[2].number, rows[2].problem, rows[2].cells) == (2, "value_too_long", [])
    assert rows[3].cells == ["c@x.co", "short"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("record", [
    {"k" * (MAX_STRING_CHARS + 1): "v"},  # a key over the string limit
    {"k" * (MAX_KEY_CHARS + 1): "v"},  # a column name nobody maps
    {"a" * 600: {"b" * 600: "v"}},  # ... once flattened
    {"tags": ["t" * 600_000, "u" * 600_000]},  # a cell over the limit once joined
    {"jobs": [{"notes": "n" * 600_000}, {"notes": "m" * 600_000}]},  # as JSON text
])
def test_other_values_too_long(kind, record):
    records = [{"email": "a@x.co"}, record, {"email": "c@x.co"}]
    assert table(encode(records, kind), kind) == [
        (0, ["email"]), (1, ["a@x.co"]), (2, "value_too_long"), (3, ["c@x.co"])]


def test_a_record_too_large(monkeypatch):
    monkeypatch.setattr(json_rows, "MAX_RECORD_CHARS", 1000)
    big = {"email": "b@x.co", **{f"f{i}": "v" * 50 for i in range(30)}}
    records = [{"email": "a@x.co"}, big, {"email": "c@x.co"}]
    assert table(encode(records, "json"), "json") == [
        (0, ["email"]), (1, ["a@x.co"]), (2, "record_too_large"), (3, ["c@x.co"])]
    # a line over the limit is skipped a piece at a time; the next line is read
    assert table(encode(records, "jsonl"), "jsonl") == [
        (0, ["email"]), (1, ["a@x.co"]), (2, "record_too_large"), (3, ["c@x.co"])]


def test_every_problem_has_a_message():
    assert set(ROW_PROBLEMS) == {"invalid_json", "not_an_object", "too_deeply_nested",
                                 "value_too_long", "record_too_large"}
    assert all(ROW_PROBLEMS.values())


# --- whole-file problems --------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b'{"email": "a@x.co"}', b'"a@x.co"', b"42", b"null",
                                  b'  {"email": "a@x.co",\n "name": "A"}\n'])
def test_a_top_level_that_is_not_an_array(data):
    error = refused(data, "json")
    assert error.code == "json_not_array"
    assert error.message == "The JSON file must be an array of objects or one object per line"


@pytest.mark.parametrize(("data", "record"), [
    (b'[{"email": "a@x.co"}, {"email": "b@x.co"', 2),  # cut off
    (b'[{"email": "a@x.co"}, {"email": }, {"email": "c@x.co"}]', 2),
    (b'[{"email": "a@x.co"},, {"email": "c@x.co"}]', 2),
    (b'[{"email": "a@x.co"}, {"email": "b@x.co"}', 3),  # the array never closed
    (b'[{"email": "a@x.co"}] trailing', 2),
    (b'[{"email": "a@x.co"}][{"email": "b@x.co"}]', 2),
    (b'[{"email": NaN}]', 1),
])
def test_a_broken_array_is_malformed_json_saying_where(data, record):
    error = refused(data, "json")
    assert error.code == "malformed_json"
    assert error.details["record"] == record
    assert error.details["reason"]


@pytest.mark.parametrize("data", [
    b'[{"n": 1' + b"0" * 5000 + b"}]",  # an integer int() refuses ...
    b'[{"n": -' + b"9" * 4301 + b".5}]",  # ... or any run of digits that long
    b'[{"n": "' + b"7" * 100_000 + b'"}]',  # even in a string, across reads
])
def test_a_run_of_more_digits_than_int_takes_is_refused_before_the_parser_sees_it(data):
    # ijson's C backend crashes (SystemError, or a segfault) when int() raises
    # inside it; the reader refuses such a run of digits first.
    error = refused(b'[{"email": "a@x.co"},' + data[1:], "json")
    assert error.code == "malformed_json"
    assert "4300 digits" in error.details["reason"]


def test_an_integer_over_4300_digits_on_a_line_is_one_invalid_row():
    # JSON Lines go through json.loads, which raises cleanly
    data = b'{"email": "a@x.co"}\n{"n": 1' + b"0" * 5000 + b'}\n{"email": "c@x.co"}\n'
    assert table(data, "jsonl") == [(0, ["email"]), (1, ["a@x.co"]), (2, "invalid_json"),
                                    (3, ["c@x.co"])]


@pytest.mark.parametrize("number", [b"1e9999999999999999999999", b"-2.5E-9999999999999999999999"])
def test_an_exponent_decimal_refuses(number):
    # decimal.InvalidOperation is an ArithmeticError, not a ValueError
    assert table(b'{"email": "a@x.co"}\n{"n": ' + number + b"}\n", "jsonl")[2] == (
        2, "invalid_json")
    assert refused(b'[{"email": "a@x.co"}, {"n": ' + number + b"}]", "json").details == {
        "record": 2, "reason": "[<class 'decimal.InvalidOperation'>]"}
    # the largest exponent Decimal takes is still a number
    assert read(b'[{"n": 1e999999999999999999}]', "json")[1].cells == ["1E+999999999999999999"]


def test_4300_digits_are_still_a_number():
    data = b'[{"n": 1' + b"0" * 4299 + b"}]"
    assert read(data, "json")[1].cells == ["1" + "0" * 4299]


def test_the_fast_parser_is_the_one_in_use():
    # The wheel ships yajl2_c; the pure-Python fallback is slow and buffers
    # string-heavy documents whole (see json_rows' module docstring).
    import ijson

    assert ijson.backend == "yajl2_c"


@pytest.mark.parametrize(("data", "kind"), [
    (b"[]", "json"), (b" [ ] \n", "json"), (b"", "json"), (b"  \n ", "json"),
    (codecs.BOM_UTF8, "json"), (b"", "jsonl"), (b"\n \r\n\n", "jsonl"),
    (b"[{}, {}]", "json"), (b"{}\n{}\n", "jsonl"),
])
def test_nothing_to_read_is_an_empty_file(data, kind):
    assert refused(data, kind).code == "empty_file"


def test_records_with_only_blank_keys_are_an_empty_file():
    # a header of blank names would read as a blank row, and the first record as the header
    assert refused(b'[{"": "a@x.co"}, {" ": "b"}]', "json").code == "empty_file"


def test_no_usable_line_at_all_is_malformed_json():
    # a pretty-printed object uploaded as .jsonl
    error = refused(b'{\n  "email": "a@x.co"\n}\n', "jsonl")
    assert error.code == "malformed_json"
    assert error.details == {"line": 1, "problem": "invalid_json"}
    error = refused(b'[1, {"a": ' + b"[" * 10 + b"]" * 10 + b"}]", "json")
    assert error.details == {"record": 1, "problem": "not_an_object"}


@pytest.mark.parametrize("kind", KINDS)
def test_too_many_columns(kind):
    wide = [{f"c{i}": "v" for i in range(MAX_COLUMNS)}]
    assert len(read(encode(wide, kind), kind)[0].cells) == MAX_COLUMNS
    # one more, in a later record
    error = refused(encode([*wide, {"email": "x"}], kind), kind)
    assert error.code == "too_many_columns"
    assert error.details == {"max_columns": MAX_COLUMNS,
                             "line" if kind == "jsonl" else "record": 2}


def test_iter_rows_refuses_at_the_call():
    with pytest.raises(UnreadableFile):
        iter_rows(io.BytesIO(b'{"a": 1}'), FileFormat(kind="json"))


def test_unknown_kind():
    with pytest.raises(ValueError):
        json_columns(io.BytesIO(b"[]"), "csv")


# --- streams ------------------------------------------------------------------------------------

def test_reads_from_the_stream_position_and_leaves_it_open():
    stream = io.BytesIO(b"JUNK" + encode([{"email": "a@x.co"}], "jsonl"))
    stream.seek(4)
    rows = list(iter_rows(stream, FileFormat(kind="jsonl", encoding="utf-8")))
    assert [row.cells for row in rows] == [["email"], ["a@x.co"]]
    assert not stream.closed


def test_the_two_passes_can_be_called_separately():
    data = encode([{"email": "a@x.co", "x": 1}], "json")
    columns = json_columns(io.BytesIO(data), "json")
    # columns chosen by the caller: cells follow them, unknown keys are dropped
    rows = list(iter_json_rows(io.BytesIO(data), "json", ["x", "missing"]))
    assert columns == ["email", "x"]
    assert rows == [Row(0, ["x", "missing"]), Row(1, ["1", ""])]


def test_a_200k_record_jsonl_streams_in_flat_memory(tmp_path: Path):
    path = tmp_path / "big.jsonl"
    count = 200_000
    with path.open("wb") as out:
        for i in range(count):
            out.write(b'{"email":"user%d@example.com","n":%d,"a":{"c":"L"}}\n' % (i, i))
    size = path.stat().st_size
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            rows = iter_rows(stream, FileFormat(kind="jsonl", encoding="utf-8"))
            seen = 0
            last = None
            for row in rows:
                seen += 1
                last = row
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == count + 1
    assert last == Row(count, [f"user{count - 1}@example.com", str(count - 1), "L"])
    assert peak < size // 4, (peak, size)


def test_an_array_streams_in_flat_memory(tmp_path: Path):
    path = tmp_path / "big.json"
    count = 20_000
    notes = b"n" * 100
    with path.open("wb") as out:
        out.write(b"[")
        for i in range(count):
            out.write(b'%s{"email":"user%d@example.com","notes":"%s","tags":["a","b"],'
                      b'"a":{"c":"L"}}\n' % (b"," if i else b"", i, notes))
        out.write(b"]")
    size = path.stat().st_size
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            seen = sum(1 for _ in iter_rows(stream, FileFormat(kind="json", encoding="utf-8")))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == count + 1
    assert peak < size // 4, (peak, size)


# --- property: flat records round-trip ------------------------------------------------------

_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(st.characters(exclude_categories=["Cs"]), max_size=20))
_KEYS = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8)
_RECORDS = st.lists(st.dictionaries(_KEYS, _SCALARS, max_size=6), min_size=1, max_size=8)


def _expected_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value.replace("\x00", "")
    return str(value)  # ints; floats are compared by value


@settings(max_examples=300, deadline=None)
@given(records=_RECORDS, kind=st.sampled_from(KINDS), ascii_only=st.booleans())
def test_flat_records_round_trip_to_the_same_cells(records, kind, ascii_only):
    if kind == "json":
        data = json.dumps(records, ensure_ascii=ascii_only).encode()
    else:
        data = b"".join(json.dumps(r, ensure_ascii=ascii_only).encode() + b"\n" for r in records)
    columns = list(dict.fromkeys(key for record in records for key in record))
    if not any(name.strip() for name in columns):
        with pytest.raises(UnreadableFile):
            read(data, kind)
        return
    expected = []
    for number, record in enumerate(records, start=1):
        cells = [_expected_cell(record.get(name)) for name in columns]
        if any(cell.strip() for cell in cells):
            expected.append((number, record))
    rows = read(data, kind)
    assert rows[0].cells == columns
    assert [row.number for row in rows[1:]] == [number for number, _ in expected]
    for row, (_, record) in zip(rows[1:], expected, strict=True):
        assert row.problem is None
        for name, cell in zip(columns, row.cells, strict=True):
            value = record.get(name)
            if isinstance(value, float):
                assert float(cell) == value
            else:
                assert cell == _expected_cell(value)


# --- the JSON corpus, at the reader's level ---------------------------------------------------

@pytest.mark.parametrize("case", JSON_CASES, ids=[case.name for case in JSON_CASES])
def test_corpus_cases_at_the_reader_level(case: JsonCase):
    # The pipeline test runs them end to end; here, what the reader owns: the
    # import errors, the rows and which of them carry a problem.
    expected = case_kwargs(case.expected)
    if "failed" in expected:
        with pytest.raises(UnreadableFile) as excinfo:
            fmt = sniff(case.data[:SAMPLE_SIZE], case.filename)
            split_header(iter_rows(io.BytesIO(case.data), fmt))
        assert excinfo.value.code == expected["failed"]
        return
    fmt = sniff(case.data[:SAMPLE_SIZE], case.filename)
    _, data = split_header(iter_rows(io.BytesIO(case.data), fmt))
    rows = list(data)
    assert len(rows) == sum(expected["counts"])
    problems = {row.number: ("rejected", row.problem) for row in rows if row.problem}
    assert problems == {number: outcome for number, outcome in expected["report"].items()
                        if outcome[0] == "rejected" and outcome[1] in ROW_PROBLEMS}


def test_corpus_names_are_unique_and_expectations_parse():
    assert len({case.name for case in JSON_CASES}) == len(JSON_CASES)
    assert case_kwargs("failed:json_not_array") == {"failed": "json_not_array"}
    assert case_kwargs("rows:saved=2,duplicates=0,invalid=1;3=rejected:invalid_json;"
                       "4=warned:value_too_long") == {
        "auto_start": True, "counts": (2, 0, 1),
        "report": {3: ("rejected", "invalid_json"), 4: ("saved_with_warnings", "value_too_long")}}

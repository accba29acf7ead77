"""Hostile and malformed JSON uploads, each with the outcome the import must get.

For tests/integration/test_import_corpus.py: every entry is a
`JsonCase(name, filename, data, expected)` (a plain tuple too), and
`case_kwargs(expected)` turns `expected` into that file's `Case` fields:

    from tests.json_corpus import JSON_CASES, case_kwargs
    CASES += [Case(c.name, c.data, filename=c.filename, **case_kwargs(c.expected))
              for c in JSON_CASES]

`expected` is one of:
- "failed:<code>": analysis fails the import with this error code;
- "rows:saved=S,duplicates=D,invalid=I" then, for each row of the error
  report, ";<row>=<outcome>:<codes>" with outcome `rejected` or `warned`
  (saved_with_warnings): the import is auto-started and finishes with exactly
  these counts and report rows. Row numbers are what json_rows gives: the
  physical line for JSON Lines, the 1-based position in the array for JSON.

Rows a reader could not use carry `Row.problem` (json_rows.ROW_PROBLEMS); the
expectations assume the pipeline rejects such a row with that code, counted as
invalid. The list's identity is email. Names start with json/jsonl/ndjson so
they cannot collide with the CSV cases. Data is built in code.
"""

from __future__ import annotations

import codecs
import json
import random
from typing import Any, NamedTuple

MB = 1024 * 1024


class JsonCase(NamedTuple):
    name: str
    filename: str
    data: bytes
    expected: str


_OUTCOMES = {"rejected": "rejected", "warned": "saved_with_warnings"}


def case_kwargs(expected: str) -> dict[str, Any]:
    """`expected` as keyword arguments of the corpus' Case (failed, or auto_start/counts/report)."""
    kind, _, rest = expected.partition(":")
    if kind == "failed":
        return {"failed": rest}
    if kind != "rows":
        raise ValueError(f"bad expectation {expected!r}")
    counts_text, *report_items = rest.split(";")
    counts = dict(item.split("=") for item in counts_text.split(","))
    report: dict[int, tuple[str, str]] = {}
    for item in report_items:
        row, _, outcome_codes = item.partition("=")
        outcome, _, codes = outcome_codes.partition(":")
        report[int(row)] = (_OUTCOMES[outcome], codes)
    return {"auto_start": True,
            "counts": (int(counts["saved"]), int(counts["duplicates"]), int(counts["invalid"])),
            "report": report}


def _array(*records: Any) -> bytes:
    return json.dumps(list(records)).encode()


def _lines(*records: Any) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def _nested(depth: int, leaf: Any = "x") -> dict[str, Any]:
    """{"k1": {"k2": ... {"k<depth>": leaf}}}: `depth` levels, counting itself."""
    value: Any = leaf
    for level in range(depth, 0, -1):
        value = {f"k{level}": value}
    return value  # type: ignore[no-any-return]


_A = {"email": "a@example.com"}
_B = {"email": "b@example.com"}
_C = {"email": "c@example.com"}
_DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
_DEEP_ARRAY = b"[" * 50_000 + b"]" * 50_000
_HUGE_INT = b"1" + b"0" * 5000

JSON_CASES: list[JsonCase] = [
    # --- what imports --------------------------------------------------------------------
    JsonCase("json_array_nested_keys_tags_and_numbers", "leads.json", _array(
        {"email": "ada@example.com", "name": "Ada Lovelace", "address": {"city": "London"},
         "tags": ["vip", "q1"], "phone": 4155550134},
        {"email": "grace@example.com", "first_name": "Grace", "company": {"name": "Navy"},
         "phone": 4155550199.0, "vip": True, "notes": None},
        {"email": "not-an-email", "first_name": "X"}),
        "rows:saved=2,duplicates=0,invalid=1;3=rejected:invalid_email"),
    JsonCase("jsonl_lines", "leads.jsonl", _lines(_A, _B, _C),
             "rows:saved=3,duplicates=0,invalid=0"),
    JsonCase("ndjson_extension", "leads.ndjson", _lines(_A), "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_named_file_of_one_object_a_line", "leads.json", _lines(_A, _B),
             "rows:saved=2,duplicates=0,invalid=0"),
    JsonCase("jsonl_utf8_bom_and_crlf", "leads.jsonl",
             codecs.BOM_UTF8 + _lines(_A, _B).replace(b"\n", b"\r\n"),
             "rows:saved=2,duplicates=0,invalid=0"),
    JsonCase("json_utf16_with_bom", "leads.json",
             json.dumps([{"email": "zoe@example.com", "first_name": "Zoë"}]).encode("utf-16"),
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_invalid_utf8_byte_becomes_a_replacement_character", "leads.json",
             b'[{"email": "a@example.com", "first_name": "Caf\xe9"}]',
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_nul_and_lone_high_surrogate_escapes", "leads.json",
             b'[{"email": "a@example.com", "first_name": "A\\u0000da", "notes": "x\\ud800y"}]',
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("jsonl_lone_low_surrogate_escape", "leads.jsonl",
             b'{"email": "a@example.com", "notes": "x\\udc00y"}\n',
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_keys_meeting_after_flattening", "leads.json",
             b'[{"email": "a@example.com", "address.city": "X", "address": {"city": "Y"}}]',
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_array_of_objects_kept_as_json_text", "leads.json",
             _array({**_A, "jobs": [{"title": "CEO", "since": 2020}, {"title": "CTO"}]}),
             "rows:saved=1,duplicates=0,invalid=0"),
    JsonCase("json_records_with_no_value_are_skipped", "leads.json",
             _array(_A, {}, {"email": None}, _C), "rows:saved=2,duplicates=0,invalid=0"),
    JsonCase("json_only_null_values_is_a_header_only_file", "leads.json",
             _array({"email": None}, {"email": ""}), "rows:saved=0,duplicates=0,invalid=0"),
    JsonCase("json_same_person_twice", "leads.json",
             _array(_A, {"email": "A@Example.com"}, _B),
             "rows:saved=2,duplicates=1,invalid=0;2=rejected:duplicate_in_file"),
    JsonCase("json_record_without_the_identity_key", "leads.json",
             _array(_A, {"first_name": "B"}),
             "rows:saved=1,duplicates=0,invalid=1;2=rejected:missing_identity"),
    JsonCase("json_one_mb_string_is_kept_for_the_row_to_warn_about", "leads.json",
             _array({**_A, "notes": "n" * MB}, _B),
             "rows:saved=2,duplicates=0,invalid=0;1=warned:value_too_long"),
    JsonCase("json_csv_named_json_is_read_as_csv", "leads.json",
             b"email,first_name\na@example.com,Ada\n", "rows:saved=1,duplicates=0,invalid=0"),
    # --- bad records: one row each, the rest imports -----------------------------------------
    JsonCase("jsonl_malformed_line", "leads.jsonl",
             _lines(_A) + b'{"email": "b@example.com",\n' + _lines(_C),
             "rows:saved=2,duplicates=0,invalid=1;2=rejected:invalid_json"),
    JsonCase("jsonl_blank_lines_keep_the_numbering", "leads.jsonl",
             b"\n" + _lines(_A) + b"\n   \n{not json\n" + _lines(_C),
             "rows:saved=2,duplicates=0,invalid=1;5=rejected:invalid_json"),
    JsonCase("jsonl_bad_lines_of_every_kind", "leads.jsonl",
             _lines(_A) + b'{"email": NaN}\n{"a": 1} {"b": 2}\n{"email": "x@example.com"}]\n'
             b'{"n": ' + _HUGE_INT + b"}\n" + _lines(_C),
             "rows:saved=2,duplicates=0,invalid=4;2=rejected:invalid_json;"
             "3=rejected:invalid_json;4=rejected:invalid_json;5=rejected:invalid_json"),
    JsonCase("jsonl_exponent_past_what_decimal_takes", "leads.jsonl",
             _lines(_A) + b'{"email": "b@example.com", "n": 1e9999999999999999999999}\n',
             "rows:saved=1,duplicates=0,invalid=1;2=rejected:invalid_json"),
    JsonCase("jsonl_lines_that_are_not_objects", "leads.jsonl",
             _lines(_A, "b@example.com", 42, None, [_C], _C),
             "rows:saved=2,duplicates=0,invalid=4;2=rejected:not_an_object;"
             "3=rejected:not_an_object;4=rejected:not_an_object;5=rejected:not_an_object"),
    JsonCase("json_elements_that_are_not_objects", "leads.json",
             _array(_A, "b@example.com", 42, None, [_C], _C),
             "rows:saved=2,duplicates=0,invalid=4;2=rejected:not_an_object;"
             "3=rejected:not_an_object;4=rejected:not_an_object;5=rejected:not_an_object"),
    JsonCase("json_five_levels_accepted_six_rejected", "leads.json",
             _array({**_A, **_nested(5)}, {**_B, **_nested(6)}, _C),
             "rows:saved=2,duplicates=0,invalid=1;2=rejected:too_deeply_nested"),
    JsonCase("jsonl_arrays_count_as_levels", "leads.jsonl",
             _lines({**_A, **_nested(4, ["x"])}, {**_B, **_nested(5, ["x"])}, _C),
             "rows:saved=2,duplicates=0,invalid=1;2=rejected:too_deeply_nested"),
    JsonCase("jsonl_nesting_bomb_line", "leads.jsonl",
             _lines(_A) + _DEEP_OBJECT + b"\n" + _lines(_C),
             "rows:saved=2,duplicates=0,invalid=1;2=rejected:too_deeply_nested"),
    JsonCase("json_nesting_bomb_element", "leads.json",
             b"[" + json.dumps(_A).encode() + b"," + _DEEP_OBJECT + b","
             + _DEEP_ARRAY + b"," + json.dumps(_C).encode() + b"]",
             "rows:saved=2,duplicates=0,invalid=2;2=rejected:too_deeply_nested;"
             "3=rejected:not_an_object"),
    JsonCase("json_string_one_over_a_megabyte", "leads.json",
             _array({**_A, "notes": "n" * (MB + 1)}, _B),
             "rows:saved=1,duplicates=0,invalid=1;1=rejected:value_too_long"),
    JsonCase("jsonl_key_too_long_for_a_column", "leads.jsonl",
             _lines(_A, {**_B, "k" * 2000: "v"}, _C),
             "rows:saved=2,duplicates=0,invalid=1;2=rejected:value_too_long"),
    # --- whole file refused ------------------------------------------------------------------
    JsonCase("json_single_object", "leads.json", json.dumps(_A).encode(),
             "failed:json_not_array"),
    JsonCase("json_pretty_printed_object", "leads.json", json.dumps(_A, indent=2).encode(),
             "failed:json_not_array"),
    JsonCase("json_a_string", "leads.json", b'"a@example.com"', "failed:json_not_array"),
    JsonCase("json_a_number", "leads.json", b"42\n", "failed:json_not_array"),
    JsonCase("json_truncated_array", "leads.json", _array(_A, _B, _C)[:-20],
             "failed:malformed_json"),
    JsonCase("json_broken_element", "leads.json",
             b'[{"email": "a@example.com"}, {"email": }, {"email": "c@example.com"}]',
             "failed:malformed_json"),
    JsonCase("json_trailing_garbage", "leads.json", _array(_A) + b" and more",
             "failed:malformed_json"),
    JsonCase("json_two_arrays", "leads.json", _array(_A) + _array(_B), "failed:malformed_json"),
    JsonCase("json_nan", "leads.json", b'[{"email": "a@example.com", "score": NaN}]',
             "failed:malformed_json"),
    # ijson's C backend cannot decode it (jsonl can: see above); a clean refusal
    JsonCase("json_lone_low_surrogate_escape", "leads.json",
             b'[{"email": "a@example.com", "notes": "x\\udc00y"}]', "failed:malformed_json"),
    JsonCase("json_integer_over_4300_digits", "leads.json",
             b'[{"email": "a@example.com"}, {"email": "b@example.com", "n": ' + _HUGE_INT
             + b"}]", "failed:malformed_json"),
    JsonCase("json_exponent_past_what_decimal_takes", "leads.json",
             b'[{"email": "a@example.com", "n": 1e9999999999999999999999}]',
             "failed:malformed_json"),
    JsonCase("jsonl_no_line_is_an_object", "leads.jsonl", json.dumps(_A, indent=2).encode(),
             "failed:malformed_json"),
    JsonCase("json_empty_array", "leads.json", b"[]", "failed:empty_file"),
    JsonCase("json_array_of_empty_objects", "leads.json", b"[{}, {}]", "failed:empty_file"),
    JsonCase("json_whitespace_only", "leads.json", b"  \n\t\n", "failed:empty_file"),
    JsonCase("jsonl_blank_lines_only", "leads.jsonl", b"\n\n\r\n", "failed:empty_file"),
    JsonCase("json_too_many_columns", "leads.json",
             _array(_A, {f"field_{i}": "v" for i in range(1001)}), "failed:too_many_columns"),
    JsonCase("json_binary_garbage", "leads.json", random.Random(42).randbytes(4096),
             "failed:not_a_text_file"),
    JsonCase("json_html_named_json", "leads.json", b"<html><body>leads</body></html>",
             "failed:unsupported_file_type"),
]

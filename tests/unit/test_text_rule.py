"""One text rule for every text a user writes (domain/text.sanitise), wherever it is written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.activity import parse_note
from chalicelib.domain.errors import InvalidValue, ValidationFailed
from chalicelib.domain.imports import convert_row
from chalicelib.domain.lead import parse_lead_fields
from chalicelib.domain.lead_list import parse_duplicate, parse_list_create, parse_list_update
from chalicelib.domain.text import (
    BIDI_CONTROLS,
    CONTROL_CHARACTERS,
    clean_text,
    normalise_custom_field_key,
    normalise_tag,
    sanitise,
)

RLO = "\u202e"
FORBIDDEN = set(BIDI_CONTROLS + CONTROL_CHARACTERS)
PROPERTY_SETTINGS = settings(max_examples=400, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
# Text rich in what the rule is about, and any code point at all.
HOSTILE = st.text(st.sampled_from([*BIDI_CONTROLS, *CONTROL_CHARACTERS, "\t", "\n", "\r", " ",
                                   "a", "é", "\ud800", "\u00a0"]))
TEXT = HOSTILE | st.text(st.characters(exclude_categories=()))


def _codes(parse: Any, payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as excinfo:
        parse(payload)
    return {e.field: e.code for e in excinfo.value.errors}


# --- the rule's output ---------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(raw=TEXT, multiline=st.booleans())
def test_stripped_text_never_holds_a_control_or_bidi_character(raw: str, multiline: bool) -> None:
    result = sanitise(raw, field="x", multiline=multiline, controls="strip")
    assert not FORBIDDEN & set(result)
    assert "\r" not in result
    if not multiline:
        assert "\n" not in result and "\t" not in result
    result.encode("utf-8")
    assert sanitise(result, field="x", multiline=multiline, controls="reject") == result


@PROPERTY_SETTINGS
@given(raw=TEXT, multiline=st.booleans())
def test_api_text_is_refused_or_holds_no_control_or_bidi_character(raw: str,
                                                                   multiline: bool) -> None:
    try:
        result = clean_text(raw, field="x", multiline=multiline, max_length=10_000)
    except InvalidValue as exc:
        assert exc.code == "invalid_text"
        assert FORBIDDEN - set(BIDI_CONTROLS) & set(raw)
        return
    assert result is None or not FORBIDDEN & set(result)


@PROPERTY_SETTINGS
@given(raw=TEXT)
def test_tags_and_custom_field_keys_hold_none_either(raw: str) -> None:
    for normalise in (lambda v: normalise_tag(v, controls="strip"), normalise_custom_field_key):
        try:
            result = normalise(raw)
        except InvalidValue:
            continue
        assert not FORBIDDEN & set(result)


# --- everywhere a user writes text ---------------------------------------------------------


def test_list_names_refuse_nul_and_lose_bidi_overrides() -> None:
    assert _codes(parse_list_create, {"name": "Q1\x00"}) == {"name": "invalid_text"}
    assert _codes(parse_list_update, {"name": "\x07Q1"}) == {"name": "invalid_text"}
    assert _codes(parse_duplicate, {"name": "copy\x85"}) == {"name": "invalid_text"}
    assert parse_list_create({"name": f"Q1 {RLO}stcepsorP"})["name"] == "Q1 stcepsorP"
    assert _codes(parse_list_create, {"name": RLO}) == {"name": "required"}
    # one line: tabs and line breaks are spaces, as before
    assert parse_list_create({"name": "Q1\n\tProspects"})["name"] == "Q1 Prospects"


def test_notes_refuse_nul_keep_lines_and_lose_bidi_overrides() -> None:
    assert parse_note({"text": f"  called{RLO}\r\nno answer\t(2x) "}) == \
        "called\nno answer\t(2x)"
    assert _codes(parse_note, {"text": "a\x00b"}) == {"text": "invalid_text"}
    assert _codes(parse_note, {"text": f" {RLO} "}) == {"text": "required"}
    assert _codes(parse_note, {"text": "x" * 5001, "extra": 1}) == {
        "extra": "unknown_field", "text": "value_too_long"}


def test_lead_text_fields_from_the_api() -> None:
    out = parse_lead_fields({
        "first_name": f"Ada{RLO}", "last_name": "Love\tlace\n", "company": f"{RLO}Engines",
        "notes": f"line one{RLO}\nline two", "tags": [f"vip{RLO}"],
        "custom_fields": {f"Tier{RLO}": f"gold{RLO}\nplus"}}, default_region="US")
    assert (out["first_name"], out["last_name"], out["company"]) == ("Ada", "Love lace", "Engines")
    assert out["notes"] == "line one\nline two"
    assert out["tags"] == ("vip",)
    assert out["custom_fields"] == {"tier": "gold\nplus"}
    bad = {"first_name": "A\x00", "notes": "\x1b[31m", "tags": ["ok", "b\x00d"],
           "custom_fields": {"k": "v\x7f"}}
    assert _codes(lambda p: parse_lead_fields(p, default_region="US"), bad) == {
        "first_name": "invalid_text", "notes": "invalid_text", "tags[1]": "invalid_text",
        "custom_fields.k": "invalid_text"}


def test_imported_cells_lose_controls_instead_of_the_row() -> None:
    columns = [(0, "email"), (1, "first_name"), (2, "notes"), (3, "tags"), (4, "custom:tier")]
    cells = ["a@example.com", f"A\x00da{RLO}", "one\x07\r\ntwo", f"vip{RLO}", "gold\x1b"]
    result = convert_row(2, cells, columns, 5, "email", "US")
    assert result.ok, result.errors
    assert result.fields is not None
    assert (result.fields["first_name"], result.fields["notes"]) == ("Ada", "one\ntwo")
    assert result.fields["tags"] == ("vip",)
    assert result.fields["custom_fields"] == {"tier": "gold"}
    assert not result.warnings

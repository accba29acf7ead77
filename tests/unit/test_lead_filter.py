"""Tests for chalicelib.domain.lead_filter.LeadFilter."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import MAX_FILTER_LENGTH, LeadFilter


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2024-01-01T00:00:00.000Z",
                updated_at="2024-01-01T00:00:00.000Z", **fields)


GRACE = _lead(first_name="Grace", last_name="Hopper", email="grace@navy.mil",
              company="US Navy", job_title="Rear Admiral", location="Arlington, VA",
              tags=("VIP", "cobol"), status="contacted", email_status="valid")


def _codes(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        LeadFilter.parse(raw)
    return {e.field: e.code for e in info.value.errors}


# --- parse ------------------------------------------------------------------------------------


def test_parse_keeps_values_stripped() -> None:
    f = LeadFilter.parse({"q": "  grace ", "status": " new ", "tag": "VIP", "company": "Navy"})
    assert f == LeadFilter(q="grace", status="new", tag="VIP", company="Navy")
    assert not f.is_empty


def test_parse_rejects_unknown_keys() -> None:
    assert _codes({"q": "x", "name": "grace", "limit": "5"}) == {
        "name": "unknown_field", "limit": "unknown_field"}


@pytest.mark.parametrize(("key", "value", "code"), [
    ("status", "won", "invalid_status"),
    ("status", "NEW", "invalid_status"),
    ("email_status", "bounced", "invalid_email_status"),
    ("q", "x" * (MAX_FILTER_LENGTH + 1), "invalid_filter"),
    ("company", 5, "invalid_filter"),
    ("tag", ["a"], "invalid_filter"),
])
def test_parse_rejects_bad_values(key: str, value: Any, code: str) -> None:
    assert _codes({key: value}) == {key: code}


def test_parse_reports_every_error_at_once() -> None:
    assert _codes({"bogus": "1", "status": "won", "email_status": "nope",
                   "location": "y" * 201}) == {
        "bogus": "unknown_field", "status": "invalid_status",
        "email_status": "invalid_email_status", "location": "invalid_filter"}


def test_value_of_max_length_accepted() -> None:
    assert LeadFilter.parse({"q": "x" * MAX_FILTER_LENGTH}).q == "x" * MAX_FILTER_LENGTH


@pytest.mark.parametrize("raw", [{}, {"q": ""}, {"q": "   ", "status": None},
                                 {"status": "", "email_status": " ", "tag": "\t"}])
def test_blank_values_are_ignored(raw: dict[str, Any]) -> None:
    f = LeadFilter.parse(raw)
    assert f == LeadFilter()
    assert f.is_empty
    assert f.as_dict() == {}


def test_as_dict_round_trips_through_parse() -> None:
    f = LeadFilter(q="grace", status="new", tag="VIP")
    assert f.as_dict() == {"q": "grace", "status": "new", "tag": "VIP"}
    assert LeadFilter.parse(f.as_dict()) == f


# --- matches ----------------------------------------------------------------------------------


def test_empty_filter_matches_everything() -> None:
    assert LeadFilter().matches(GRACE)
    assert LeadFilter().matches(_lead())


@pytest.mark.parametrize("q", [
    "grace hopper", "GRACE HOPPER", "Grace", "hopper", "gra hop", "grace  hopper",
    "navy.mil", "GRACE@NAVY", "us navy", "admiral", "arlington", "va",
])
def test_q_matches_name_email_company_title_location(q: str) -> None:
    assert LeadFilter(q=q).matches(GRACE)


# q matches the beginning of words (search as you type), not any substring
@pytest.mark.parametrize("q", ["ada", "lovelace", "cobol", "contacted", "ace hop", "race"])
def test_q_does_not_match_other_text_tags_or_status(q: str) -> None:
    assert not LeadFilter(q=q).matches(GRACE)


def test_q_does_not_search_notes_or_custom_fields() -> None:
    lead = _lead(first_name="A", notes="secret plan", custom_fields={"k": "secret"})
    assert not LeadFilter(q="secret").matches(lead)


def test_q_uses_casefold_not_lower() -> None:
    # "ß".lower() is "ß" but casefolds to "ss"
    lead = _lead(location="Hauptstraße 1")
    assert LeadFilter(q="HAUPTSTRASSE").matches(lead)
    assert LeadFilter(location="STRASSE").matches(lead)


def test_q_on_lead_without_any_text() -> None:
    assert not LeadFilter(q="a").matches(_lead())


@pytest.mark.parametrize(("name", "value"), [
    ("company", "navy"), ("company", "US NAVY"), ("company", "s na"),
    ("job_title", "admiral"), ("job_title", "REAR"),
    ("location", "arlington"), ("location", ", va"),
])
def test_company_title_location_substring_case_insensitive(name: str, value: str) -> None:
    assert LeadFilter(**{name: value}).matches(GRACE)


@pytest.mark.parametrize(("name", "value"), [
    ("company", "army"), ("job_title", "captain"), ("location", "boston"),
])
def test_company_title_location_mismatch(name: str, value: str) -> None:
    assert not LeadFilter(**{name: value}).matches(GRACE)


@pytest.mark.parametrize("name", ["company", "job_title", "location"])
def test_field_filter_on_missing_value_does_not_match(name: str) -> None:
    assert not LeadFilter(**{name: "x"}).matches(_lead())


@pytest.mark.parametrize(("tag", "expected"), [
    ("VIP", True), ("vip", True), ("Cobol", True), ("vi", False), ("VIP ", False), ("x", False),
])
def test_tag_is_case_insensitive_exact(tag: str, expected: bool) -> None:
    assert LeadFilter(tag=tag).matches(GRACE) is expected


@pytest.mark.parametrize(("status", "expected"), [("contacted", True), ("new", False)])
def test_status_exact(status: str, expected: bool) -> None:
    assert LeadFilter(status=status).matches(GRACE) is expected


@pytest.mark.parametrize(("email_status", "expected"), [("valid", True), ("pending", False)])
def test_email_status_exact(email_status: str, expected: bool) -> None:
    assert LeadFilter(email_status=email_status).matches(GRACE) is expected


@pytest.mark.parametrize(("raw", "expected"), [
    ({"q": "grace", "status": "contacted", "tag": "vip", "company": "navy"}, True),
    ({"q": "grace", "status": "new"}, False),
    ({"q": "ada", "status": "contacted"}, False),
    ({"tag": "vip", "company": "army"}, False),
    ({"email_status": "valid", "job_title": "admiral", "location": "boston"}, False),
    ({"email_status": "valid", "job_title": "admiral", "location": "va"}, True),
])
def test_filters_are_anded(raw: dict[str, str], expected: bool) -> None:
    assert LeadFilter.parse(raw).matches(GRACE) is expected

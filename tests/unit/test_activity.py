"""Tests for chalicelib.domain.activity.describe_changes."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.activity import ACTIVITY_TYPES, Activity, describe_changes
from chalicelib.domain.lead import Lead


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2024-01-01T00:00:00.000Z",
                updated_at="2024-01-01T00:00:00.000Z", **fields)


BEFORE = _lead(first_name="Grace", email="g@navy.mil", emails=("a@x.com",),
               phone="+14155550134", tags=("VIP", "cobol"), custom_fields={"size": 5},
               status="new")


def test_identical_leads_give_no_events() -> None:
    assert describe_changes(BEFORE, BEFORE) == []
    # only bookkeeping differs
    after = BEFORE.with_changes({"version": 9}, updated_at="2030-01-01T00:00:00.000Z")
    assert describe_changes(BEFORE, after) == []


def test_email_status_change_is_not_an_edit() -> None:
    after = BEFORE.with_changes({"email_status": "valid"}, updated_at="x")
    assert describe_changes(BEFORE, after) == []


def test_edited_lists_each_tracked_field_with_from_and_to() -> None:
    # GIVEN several tracked fields changed
    after = BEFORE.with_changes({
        "first_name": "Ada", "company": "Navy", "emails": ("a@x.com", "b@x.com"),
        "phone": None, "custom_fields": {"size": 6},
    }, updated_at="x")

    # WHEN the change is described
    events = describe_changes(BEFORE, after)

    # THEN one "edited" event holds every field, tuples as lists
    assert events == [("edited", {"changes": {
        "first_name": {"from": "Grace", "to": "Ada"},
        "emails": {"from": ["a@x.com"], "to": ["a@x.com", "b@x.com"]},
        "phone": {"from": "+14155550134", "to": None},
        "company": {"from": None, "to": "Navy"},
        "custom_fields": {"from": {"size": 5}, "to": {"size": 6}},
    }})]


@pytest.mark.parametrize(("name", "value"), [
    ("last_name", "Hopper"), ("email", "new@x.com"), ("phone_extension", "12"),
    ("phones", ("+442079460018",)), ("job_title", "Admiral"),
    ("linkedin_url", "https://www.linkedin.com/in/grace"), ("location", "VA"), ("notes", "n"),
])
def test_each_tracked_field_is_reported(name: str, value: Any) -> None:
    after = BEFORE.with_changes({name: value}, updated_at="x")
    events = describe_changes(BEFORE, after)
    assert [kind for kind, _ in events] == ["edited"]
    change = events[0][1]["changes"][name]
    expected_to = list(value) if isinstance(value, tuple) else value
    assert change["to"] == expected_to
    assert set(events[0][1]["changes"]) == {name}


def test_status_change_has_its_own_event() -> None:
    after = BEFORE.with_changes({"status": "qualified"}, updated_at="x")
    assert describe_changes(BEFORE, after) == [
        ("status_changed", {"from": "new", "to": "qualified"})]


def test_tags_change_lists_added_and_removed() -> None:
    after = BEFORE.with_changes({"tags": ("cobol", "navy", "admiral")}, updated_at="x")
    assert describe_changes(BEFORE, after) == [
        ("tags_changed", {"added": ["navy", "admiral"], "removed": ["VIP"]})]


def test_tag_case_change_counts_as_add_and_remove() -> None:
    after = BEFORE.with_changes({"tags": ("vip", "cobol")}, updated_at="x")
    assert describe_changes(BEFORE, after) == [
        ("tags_changed", {"added": ["vip"], "removed": ["VIP"]})]


def test_all_kinds_together_in_order() -> None:
    after = BEFORE.with_changes({"notes": "hi", "status": "contacted", "tags": ()},
                                updated_at="x")
    events = describe_changes(BEFORE, after)
    assert [kind for kind, _ in events] == ["edited", "status_changed", "tags_changed"]
    assert events[0][1] == {"changes": {"notes": {"from": None, "to": "hi"}}}
    assert events[2][1] == {"added": [], "removed": ["VIP", "cobol"]}
    assert all(kind in ACTIVITY_TYPES for kind, _ in events)


def test_activity_to_api() -> None:
    activity = Activity("ac_1", "ld_1", "note_added", "2024-01-01T00:00:00.000Z", {"text": "t"})
    assert activity.to_api() == {"id": "ac_1", "lead_id": "ld_1", "type": "note_added",
                                 "at": "2024-01-01T00:00:00.000Z", "data": {"text": "t"}}
    assert Activity("ac_2", "ld_1", "created", "t").data == {}

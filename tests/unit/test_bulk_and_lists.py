"""Tests for chalicelib.domain.bulk and chalicelib.domain.lead_list."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.bulk import MAX_BULK_IDS, BulkRequest, parse_bulk_request
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_filter import LeadFilter
from chalicelib.domain.lead_list import (
    MAX_LIST_NAME,
    LeadList,
    parse_duplicate,
    parse_list_create,
    parse_list_update,
)
from chalicelib.domain.text import MAX_TAGS


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2024-01-01T00:00:00.000Z",
                updated_at="2024-01-01T00:00:00.000Z", **fields)


def _codes(parse: Any, payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        parse(payload)
    return {e.field: e.code for e in info.value.errors}


# --- parse_bulk_request -----------------------------------------------------------------------


def test_delete_by_ids_dedupes_ids_in_order() -> None:
    req = parse_bulk_request({"action": "delete", "lead_ids": ["ld_2", "ld_1", "ld_2"]})
    assert req == BulkRequest(action="delete", lead_ids=("ld_2", "ld_1"))
    assert req.filter is None


def test_set_status_by_filter() -> None:
    req = parse_bulk_request({"action": "set_status", "status": "qualified",
                              "filter": {"tag": "vip", "q": " grace "}})
    assert req.action == "set_status"
    assert req.status == "qualified"
    assert req.filter == LeadFilter(tag="vip", q="grace")
    assert req.lead_ids is None


def test_tags_normalised_and_deduped() -> None:
    req = parse_bulk_request({"action": "add_tags", "lead_ids": ["ld_1"],
                              "tags": [" VIP ", "VIP", "hot  lead"]})
    assert req.tags == ("VIP", "hot lead")


def test_status_and_tags_only_kept_for_their_action() -> None:
    req = parse_bulk_request({"action": "delete", "lead_ids": ["ld_1"], "status": "new",
                              "tags": ["x"]})
    assert req.status is None
    assert req.tags == ()


@pytest.mark.parametrize("payload", [
    {"action": "delete"},
    {"action": "delete", "lead_ids": ["ld_1"], "filter": {}},
])
def test_exactly_one_of_lead_ids_or_filter(payload: dict[str, Any]) -> None:
    assert _codes(parse_bulk_request, payload) == {"lead_ids": "invalid_selection"}


@pytest.mark.parametrize("action", [None, "archive", "DELETE", 3])
def test_unknown_action_rejected(action: Any) -> None:
    assert _codes(parse_bulk_request, {"action": action, "lead_ids": []}) == {
        "action": "invalid_action"}


@pytest.mark.parametrize("status", [None, "won", "New"])
def test_set_status_requires_a_known_status(status: Any) -> None:
    payload = {"action": "set_status", "lead_ids": ["ld_1"]}
    if status is not None:
        payload["status"] = status
    assert _codes(parse_bulk_request, payload) == {"status": "invalid_status"}


@pytest.mark.parametrize("action", ["add_tags", "remove_tags"])
@pytest.mark.parametrize("tags", [None, [], "vip", ["ok", 1], ["t"] * (MAX_TAGS + 1)])
def test_tag_actions_require_tags(action: str, tags: Any) -> None:
    payload: dict[str, Any] = {"action": action, "lead_ids": ["ld_1"]}
    if tags is not None:
        payload["tags"] = tags
    assert _codes(parse_bulk_request, payload) == {"tags": "invalid_type"}


def test_bad_tag_reported_by_index() -> None:
    assert _codes(parse_bulk_request, {"action": "add_tags", "lead_ids": ["ld_1"],
                                       "tags": ["ok", "  "]}) == {"tags[1]": "invalid_tag"}


@pytest.mark.parametrize("lead_ids", ["ld_1", [1], ["ld_1", None], ["x"] * (MAX_BULK_IDS + 1)])
def test_bad_lead_ids_rejected(lead_ids: Any) -> None:
    assert _codes(parse_bulk_request, {"action": "delete", "lead_ids": lead_ids}) == {
        "lead_ids": "invalid_type"}


def test_max_lead_ids_accepted() -> None:
    ids = [f"ld_{n}" for n in range(MAX_BULK_IDS)]
    assert parse_bulk_request({"action": "delete", "lead_ids": ids}).lead_ids == tuple(ids)


def test_filter_errors_are_prefixed() -> None:
    assert _codes(parse_bulk_request, {"action": "delete",
                                       "filter": {"status": "won", "x": "1"}}) == {
        "filter.status": "invalid_status", "filter.x": "unknown_field"}
    assert _codes(parse_bulk_request, {"action": "delete", "filter": ["x"]}) == {
        "filter": "invalid_type"}


def test_unknown_fields_and_every_error_reported() -> None:
    assert _codes(parse_bulk_request, {"action": "set_status", "oops": 1, "lead_ids": "x"}) == {
        "oops": "unknown_field", "lead_ids": "invalid_type", "status": "invalid_status"}


# --- changes_for ------------------------------------------------------------------------------


def test_set_status_changes() -> None:
    req = BulkRequest(action="set_status", status="qualified")
    assert req.changes_for(_lead(status="new")) == {"status": "qualified"}
    assert req.changes_for(_lead(status="qualified")) is None


def test_add_tags_appends_only_new_tags_case_insensitively() -> None:
    req = BulkRequest(action="add_tags", tags=("vip", "Hot", "new"))
    assert req.changes_for(_lead(tags=("VIP", "hot"))) == {"tags": ("VIP", "hot", "new")}


def test_add_tags_nothing_new_returns_none() -> None:
    req = BulkRequest(action="add_tags", tags=("vip",))
    assert req.changes_for(_lead(tags=("VIP",))) is None


def test_add_tags_capped_at_max_tags() -> None:
    tags = tuple(f"t{n}" for n in range(MAX_TAGS - 1))
    req = BulkRequest(action="add_tags", tags=("a", "b"))
    changes = req.changes_for(_lead(tags=tags))
    assert changes == {"tags": (*tags, "a")}


def test_add_tags_on_full_lead_reports_no_change() -> None:
    full = tuple(f"t{n}" for n in range(MAX_TAGS))
    req = BulkRequest(action="add_tags", tags=("extra",))
    assert req.changes_for(_lead(tags=full)) is None


def test_add_tags_does_not_add_case_variants_of_each_other() -> None:
    req = parse_bulk_request({"action": "add_tags", "lead_ids": ["ld_1"],
                              "tags": ["VIP", "vip"]})
    assert req.changes_for(_lead(tags=())) == {"tags": ("VIP",)}


def test_remove_tags_case_insensitive() -> None:
    req = BulkRequest(action="remove_tags", tags=("VIP", "COLD"))
    assert req.changes_for(_lead(tags=("vip", "hot", "Cold"))) == {"tags": ("hot",)}
    assert req.changes_for(_lead(tags=("hot",))) is None
    assert req.changes_for(_lead(tags=())) is None


def test_delete_changes_nothing_field_wise() -> None:
    assert BulkRequest(action="delete", lead_ids=("ld_1",)).changes_for(_lead()) is None


# --- job round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    {"action": "set_status", "status": "completed", "filter": {"tag": "vip", "company": "x"}},
    {"action": "add_tags", "tags": ["A", "b"], "filter": {"q": "grace"}},
    {"action": "remove_tags", "tags": ["A"], "filter": {}},
    {"action": "delete", "filter": {"status": "bounced"}},
])
def test_filter_request_survives_to_job_from_job(payload: dict[str, Any]) -> None:
    req = parse_bulk_request(payload)
    job = req.to_job()
    assert BulkRequest.from_job(job) == req
    assert job["action"] == payload["action"]


def test_to_job_is_plain_json_types() -> None:
    req = parse_bulk_request({"action": "add_tags", "tags": ["A"], "filter": {"tag": "x"}})
    assert req.to_job() == {"action": "add_tags", "lead_ids": None, "filter": {"tag": "x"},
                            "status": None, "tags": ["A"]}


# --- lead lists -------------------------------------------------------------------------------


def test_list_create_defaults() -> None:
    assert parse_list_create({"name": "Leads"}) == {
        "name": "Leads", "identity": "email", "default_region": "US"}


def test_list_create_full() -> None:
    assert parse_list_create({"name": "  Big \t\n  list ", "identity": "linkedin_url",
                              "default_region": " gb "}) == {
        "name": "Big list", "identity": "linkedin_url", "default_region": "GB"}


@pytest.mark.parametrize("region", ["XX", "", "USA", "u", None, 1])
def test_list_create_rejects_bad_region(region: Any) -> None:
    assert _codes(parse_list_create, {"name": "L", "default_region": region}) == {
        "default_region": "invalid_region"}


@pytest.mark.parametrize("identity", ["Email", "name", None, "emails"])
def test_list_create_rejects_bad_identity(identity: Any) -> None:
    assert _codes(parse_list_create, {"name": "L", "identity": identity}) == {
        "identity": "invalid_identity"}


@pytest.mark.parametrize("name", [None, "", "   ", 5, ["x"]])
def test_list_create_requires_name(name: Any) -> None:
    payload = {} if name is None else {"name": name}
    assert _codes(parse_list_create, payload) == {"name": "required"}


def test_list_name_length_counted_after_collapsing_whitespace() -> None:
    assert parse_list_create({"name": "a" * MAX_LIST_NAME})["name"] == "a" * MAX_LIST_NAME
    assert parse_list_create({"name": " a  " * 100})["name"] == " ".join(["a"] * 100)
    assert _codes(parse_list_create, {"name": "a" * (MAX_LIST_NAME + 1)}) == {
        "name": "value_too_long"}


def test_list_create_unknown_fields_and_all_errors() -> None:
    assert _codes(parse_list_create, {"shards": 4, "identity": "x", "default_region": "ZZ"}) == {
        "shards": "unknown_field", "name": "required", "identity": "invalid_identity",
        "default_region": "invalid_region"}


def test_list_update() -> None:
    assert parse_list_update({"name": " New  name ", "default_region": "de"}) == {
        "name": "New name", "default_region": "DE"}
    assert parse_list_update({}) == {}


@pytest.mark.parametrize("identity", ["email", "phone"])
def test_list_update_refuses_identity(identity: str) -> None:
    assert _codes(parse_list_update, {"identity": identity, "name": "x"}) == {
        "identity": "immutable"}


def test_list_update_rejects_unknown_and_bad_fields() -> None:
    assert _codes(parse_list_update, {"shards": 8, "name": " ", "default_region": "??"}) == {
        "shards": "unknown_field", "name": "required", "default_region": "invalid_region"}


def test_parse_duplicate() -> None:
    assert parse_duplicate({"name": "  Copy  of  leads "}) == "Copy of leads"
    assert _codes(parse_duplicate, {}) == {"name": "required"}
    assert _codes(parse_duplicate, {"name": "x", "identity": "phone"}) == {
        "identity": "unknown_field"}


def test_lead_list_to_api() -> None:
    lst = LeadList(id="ls_1", workspace="w", name="L", identity="email", default_region="US",
                   shards=16, created_at="c", updated_at="u")
    api = lst.to_api(5)
    assert api == {"id": "ls_1", "name": "L", "identity": "email", "default_region": "US",
                   "lead_count": 5, "created_at": "c", "updated_at": "u",
                   "filterable_fields": []}
    copying = LeadList(**{**lst.__dict__, "copy_status": "copying"})
    assert copying.to_api(0)["copy_status"] == "copying"

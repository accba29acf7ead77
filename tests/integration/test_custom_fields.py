"""Filterable custom fields: marked on a list, indexed (existing leads in the
background), filtered exactly and by range, found by `q`, erased with the list."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.conftest import Api

FIELDS = [{"key": "Company Size", "type": "number"}, {"key": "vip", "type": "boolean"},
          {"key": "renewal", "type": "date"}, {"key": "segment", "type": "text"}]


def _people(n: int) -> list[dict[str, Any]]:
    return [{"email": f"p{i}@example.com", "custom_fields": {
        "company_size": str(i * 25) if i % 7 else "lots",  # "lots" is not a number
        "vip": ["yes", "no", True, False][i % 4],
        "renewal": f"2026-{i % 12 + 1:02d}-15",
        "segment": ["Enterprise", "SMB", "Mid-Market Édition"][i % 3]}} for i in range(40)]


def _all(api: Api, lid: str, query: str) -> list[str]:
    found: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"/lists/{lid}/leads?limit=6&{query}{cursor}")
        assert page.status_code == 200, page.json_body
        found.extend(lead["email"] for lead in page.json_body["items"])
        if not page.json_body["next_cursor"]:
            return sorted(found)
        cursor = f"&cursor={page.json_body['next_cursor']}"


def _marked(api: Api, pump: Any) -> str:
    lid = api.new_list()["id"]
    assert api.post(f"/lists/{lid}/leads/batch", {"leads": _people(40)}).json_body[
        "created"] == 40
    marked = api.patch(f"/lists/{lid}", {"filterable_fields": FIELDS})
    assert marked.status_code == 200
    # a populated list indexes its leads in the background
    assert {f["status"] for f in marked.json_body["filterable_fields"]} == {"indexing"}
    early = api.get(f"/lists/{lid}/leads?cf.vip=true")
    assert early.status_code == 400
    assert early.json_body["error"]["details"]["errors"][0]["code"] == "field_indexing"
    pump.drain()
    fields = api.get(f"/lists/{lid}").json_body["filterable_fields"]
    assert [(f["key"], f["type"], f["status"]) for f in fields] == [
        ("company_size", "number", "ready"), ("vip", "boolean", "ready"),
        ("renewal", "date", "ready"), ("segment", "text", "ready")]
    return lid


def test_exact_and_range_filters_on_indexed_custom_fields(api: Api, pump: Any) -> None:
    lid = _marked(api, pump)
    emails = [p["email"] for p in _people(40)]
    sizes = {e: i * 25 for i, e in enumerate(emails) if i % 7}
    assert _all(api, lid, "cf.company_size.gte=100&cf.company_size.lte=500") == sorted(
        e for e, n in sizes.items() if 100 <= n <= 500)
    assert _all(api, lid, "cf.company_size=75") == ["p3@example.com"]
    assert _all(api, lid, "cf.vip=true") == sorted(e for i, e in enumerate(emails)
                                                   if i % 4 in (0, 2))
    assert _all(api, lid, "cf.renewal.lte=2026-02-28") == sorted(
        e for i, e in enumerate(emails) if i % 12 in (0, 1))
    assert _all(api, lid, "cf.segment=mid-market%20edition") == sorted(
        e for i, e in enumerate(emails) if i % 3 == 2)
    # combined with another filter, and counted
    page = api.get(f"/lists/{lid}/leads?cf.vip=true&cf.segment=enterprise&count=true")
    assert page.json_body["count"] == sum(1 for i in range(40) if i % 4 in (0, 2)
                                          and i % 3 == 0)
    # q finds the words of filterable text fields
    assert _all(api, lid, "q=editi") == sorted(e for i, e in enumerate(emails) if i % 3 == 2)


def test_writes_after_marking_keep_the_index(api: Api, pump: Any) -> None:
    lid = _marked(api, pump)
    lead = api.post(f"/lists/{lid}/leads", {"email": "new@example.com", "custom_fields": {
        "company_size": 12345}}).json_body
    assert _all(api, lid, "cf.company_size.gte=10000") == ["new@example.com"]
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"custom_fields": {"company_size": 5}})
    assert _all(api, lid, "cf.company_size.gte=10000") == []
    assert "new@example.com" in _all(api, lid, "cf.company_size.lte=5")
    # unmarked and marked again: a new generation, indexed afresh
    api.patch(f"/lists/{lid}", {"filterable_fields": FIELDS[1:]})
    unmarked = api.get(f"/lists/{lid}/leads?cf.company_size=5")
    assert unmarked.json_body["error"]["details"]["errors"][0]["code"] == "field_not_filterable"
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"custom_fields": {"company_size": 7}})
    api.patch(f"/lists/{lid}", {"filterable_fields": FIELDS})
    pump.drain()
    assert "new@example.com" in _all(api, lid, "cf.company_size=7")
    assert "new@example.com" not in _all(api, lid, "cf.company_size=5")


def test_bad_filterable_fields_and_filters_are_400s(api: Api) -> None:
    lid = api.new_list()["id"]
    too_many = [{"key": f"f{i}", "type": "text"} for i in range(11)]
    for body, code in (({"filterable_fields": too_many}, "invalid_filterable_fields"),
                       ({"filterable_fields": [{"key": "x", "type": "colour"}]},
                        "invalid_filterable_field"),
                       ({"filterable_fields": [{"key": "x", "type": "text"},
                                               {"key": "X", "type": "number"}]},
                        "duplicate_filterable_field")):
        response = api.patch(f"/lists/{lid}", body)
        assert response.status_code == 400
        assert response.json_body["error"]["details"]["errors"][0]["code"] == code
    # an empty list's fields are ready at once
    ready = api.patch(f"/lists/{lid}", {"filterable_fields": FIELDS}).json_body
    assert {f["status"] for f in ready["filterable_fields"]} == {"ready"}
    for query in ("cf.segment.gte=a", "cf.company_size=many", "cf.vip=maybe",
                  "cf.renewal=soon", "cf.unknown=1", "cf..gte=1"):
        response = api.get(f"/lists/{lid}/leads?{query}")
        assert response.status_code == 400, query


def test_deleting_the_list_erases_every_custom_posting(api: Api, pump: Any) -> None:
    lid = _marked(api, pump)
    api.patch(f"/lists/{lid}", {"filterable_fields": FIELDS[:1]})  # vip etc. unmarked
    assert api.delete(f"/lists/{lid}").status_code == 204
    pump.drain()
    client = boto3.client("dynamodb", region_name="us-east-1")
    left = [i["pk"]["S"] for page in client.get_paginator("scan").paginate(
        TableName="leadpipe-test-data") for i in page["Items"] if lid in i["pk"]["S"]]
    assert left == []

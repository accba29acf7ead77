"""Many leads a request: batches and bulk actions by id within the request's time budget."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.bootstrap import services
from chalicelib.entrypoints.job_handlers import handle_job_records
from tests.integration.conftest import Api
from tests.integration.test_import_watchdog import take


def leads(n: int, domain: str = "example.com") -> list[dict[str, str]]:
    return [{"email": f"person{i}@{domain}", "first_name": f"P{i}"} for i in range(n)]


@pytest.fixture
def calls() -> Iterator[Counter[str]]:
    """DynamoDB operations made by the batch path (botocore's own event hook)."""
    counted: Counter[str] = Counter()
    client = services().lead_batches._store.client  # the adapter's boto3 client

    def count(event_name: str, **_: Any) -> None:
        counted[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-call.dynamodb", count)
    yield counted
    client.meta.events.unregister("before-call.dynamodb", count)


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the request budget of batches and bulk actions (seconds)."""

    def set_budget(seconds: float) -> None:
        monkeypatch.setattr(services().lead_batches, "_budget", seconds)
        monkeypatch.setattr(services().leads, "_budget", seconds)

    yield set_budget


def all_leads(api: Api, lid: str, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(f"/lists/{lid}/leads?limit=200{query}{cursor}").json_body
        found.extend(page["items"])
        if not page["next_cursor"]:
            return found
        cursor = f"&cursor={page['next_cursor']}"


def count_leads(api: Api, lid: str) -> int:
    return int(api.get(f"/lists/{lid}").json_body["lead_count"])


def test_a_batch_of_1000_duplicates_reads_claims_in_batches(api: Api, calls, budget):
    budget(120)
    lid = api.new_list()["id"]
    first = api.post(f"/lists/{lid}/leads/batch", {"leads": leads(1000)})
    assert first.status_code == 200 and first.json_body["created"] == 1000
    calls.clear()
    again = api.post(f"/lists/{lid}/leads/batch", {"leads": leads(1000)})
    assert again.status_code == 200
    body = again.json_body
    assert body["duplicates"] == 1000 and body["created"] == 0
    ids = {r["lead_id"] for r in first.json_body["results"]}
    assert {r["lead_id"] for r in body["results"]} == ids
    # Ten BatchGetItem calls of 100 claims, not a transaction and a read per lead
    assert calls["BatchGetItem"] == 10
    assert sum(calls.values()) == 10
    assert count_leads(api, lid) == 1000


def test_new_leads_are_written_in_transactions_of_many(api: Api, calls, budget):
    budget(120)
    lid = api.new_list()["id"]
    response = api.post(f"/lists/{lid}/leads/batch", {"leads": leads(500)})
    assert response.json_body["created"] == 500
    # claim, lead, activity and 5 search-word postings (first name, email, its
    # domain, local part, domain label) a lead: 8 items; with up to 16 shard
    # counter updates, 10 leads fit a transaction of 100 items
    assert calls["TransactWriteItems"] == 50
    assert count_leads(api, lid) == 500
    lead_id = response.json_body["results"][7]["lead_id"]
    timeline = api.get(f"/lists/{lid}/leads/{lead_id}/activity").json_body["items"]
    assert [a["type"] for a in timeline] == ["created"]


def test_repeats_within_one_batch_and_invalid_items(api: Api, budget):
    budget(120)
    lid = api.new_list()["id"]
    items = [{"email": "ada@example.com"}, {"email": "not-an-email"},
             {"email": "ADA@example.com", "first_name": "Again"}, {"email": "bob@example.com"}]
    body = api.post(f"/lists/{lid}/leads/batch", {"leads": items}).json_body
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "invalid", "duplicate", "created"]
    assert body["results"][2]["lead_id"] == body["results"][0]["lead_id"]
    assert (body["created"], body["duplicates"], body["invalid"]) == (2, 1, 1)
    assert count_leads(api, lid) == 2


def test_a_batch_past_its_budget_answers_202_and_finishes_in_the_background(
        api: Api, other_api: Api, pump, budget):
    budget(0)  # only the first group of 100 is done within the request
    lid = api.new_list()["id"]
    items = [*leads(450), {"email": "broken"}]
    response = api.post(f"/lists/{lid}/leads/batch", {"leads": items})
    assert response.status_code == 202
    body = response.json_body
    assert body["status"] == "running" and body["created"] == 100
    assert body["invalid"] == 1 and body["pending"] == 350
    promised = {r["index"]: r["lead_id"] for r in body["results"] if r["status"] == "pending"}
    assert len(promised) == 350
    batch = f"/lists/{lid}/leads/batch/{body['batch_id']}"
    assert api.get(batch).json_body["status"] == "running"
    assert other_api.get(batch).status_code == 404
    pump.drain()
    done = api.get(batch).json_body
    assert done["status"] == "completed" and done["pending"] == 0
    assert (done["created"], done["duplicates"], done["invalid"]) == (450, 0, 1)
    assert [r["index"] for r in done["results"]] == list(range(451))
    assert all(done["results"][i]["lead_id"] == lead_id for i, lead_id in promised.items())
    assert count_leads(api, lid) == 450
    some = promised[300]
    assert api.get(f"/lists/{lid}/leads/{some}").json_body["email"] == "person300@example.com"


def test_a_deferred_part_delivered_twice_is_written_once(api: Api, budget):
    budget(0)
    lid = api.new_list()["id"]
    body = api.post(f"/lists/{lid}/leads/batch", {"leads": leads(250)}).json_body
    jobs = take("jobs")
    assert [json.loads(j["body"])["type"] for j in jobs] == ["lead_batch"]
    assert handle_job_records(jobs) == {"batchItemFailures": []}
    assert handle_job_records(jobs) == {"batchItemFailures": []}
    done = api.get(f"/lists/{lid}/leads/batch/{body['batch_id']}").json_body
    assert done["status"] == "completed" and done["created"] == 250
    assert count_leads(api, lid) == 250


def test_bulk_on_1000_ids_past_its_budget_continues_in_the_background(
        api: Api, pump, budget, calls):
    budget(120)
    lid = api.new_list()["id"]
    created = api.post(f"/lists/{lid}/leads/batch", {"leads": leads(1000)}).json_body
    other = api.post(f"/lists/{lid}/leads", {"email": "other@example.com"}).json_body
    ids = [r["lead_id"] for r in created["results"]] + [other["id"]]
    budget(0)  # one group of 100 within the request, the rest in the background
    calls.clear()
    response = api.post(f"/lists/{lid}/leads/bulk", {"action": "add_tags", "tags": ["vip"],
                                                      "lead_ids": ids[:1000]})
    assert response.status_code == 202
    assert response.json_body == {"affected": 100, "complete": False}
    assert calls["BatchGetItem"] == 1  # the leads are read 100 at a time
    calls.clear()
    pump.drain()
    assert calls["BatchGetItem"] == 9  # the background part reads its 900 ids 100 at a time
    # and writes each 100 in transactions of at most 100 items: lead, activity
    # and the new "vip" posting (3 items) a lead, plus one counter update per
    # shard touched (16): 28 leads a transaction, so 4 for each 100
    assert calls["TransactWriteItems"] == 9 * 4
    assert len(all_leads(api, lid, "&tag=vip")) == 1000
    # The one lead not selected was not touched by the background part
    assert "vip" not in api.get(f"/lists/{lid}/leads/{ids[1000]}").json_body["tags"]

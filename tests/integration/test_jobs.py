"""The jobs worker: idempotent under redelivery, failures reported per message."""

from __future__ import annotations

import json

from chalicelib.adapters.dynamo_models import _Table, shard_pk
from chalicelib.domain.cursor import LeadPosition
from chalicelib.entrypoints.job_handlers import handle_job_records
from tests.integration.conftest import Api


def _record(job: dict, message_id: str = "m-1") -> dict:
    return {"messageId": message_id, "receiptHandle": "rh", "body": json.dumps(job)}


def _add_people(api: Api, list_id: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = api.post(f"/lists/{list_id}/leads", {"email": f"p{i}@example.com"})
        assert response.status_code == 201
        ids.append(response.json_body["id"])
    return ids


def test_copy_job_delivered_twice_copies_each_lead_once(api: Api):
    # GIVEN a source list and an empty copy waiting for its leads
    source = api.new_list()["id"]
    _add_people(api, source, 6)
    copy = api.new_list(name="Copy")["id"]
    from chalicelib.bootstrap import services

    ws = services().auth.authenticate(f"Bearer {api.token}")
    job = {"type": "copy_list", "workspace": ws, "source_id": source, "copy_id": copy,
           "position": LeadPosition(0).encode()}
    # WHEN the same message is delivered twice
    first = handle_job_records([_record(job)])
    second = handle_job_records([_record(job)])
    # THEN both succeed and the copy holds each lead exactly once
    assert first == second == {"batchItemFailures": []}
    assert api.get(f"/lists/{copy}").json_body["lead_count"] == 6
    items = api.get(f"/lists/{copy}/leads?limit=50").json_body["items"]
    assert sorted(x["email"] for x in items) == [f"p{i}@example.com" for i in range(6)]


def test_bulk_job_delivered_twice_changes_each_lead_once(api: Api):
    lid = api.new_list()["id"]
    ids = _add_people(api, lid, 4)
    from chalicelib.bootstrap import services

    ws = services().auth.authenticate(f"Bearer {api.token}")
    job = {"type": "bulk", "workspace": ws, "list_id": lid,
           "request": {"action": "add_tags", "filter": {}, "status": None, "tags": ["x"]},
           "position": LeadPosition(0).encode()}
    assert handle_job_records([_record(job)]) == {"batchItemFailures": []}
    assert handle_job_records([_record(job)]) == {"batchItemFailures": []}
    for lead_id in ids:
        lead = api.get(f"/lists/{lid}/leads/{lead_id}").json_body
        assert lead["tags"] == ["x"]
        kinds = [a["type"] for a in
                 api.get(f"/lists/{lid}/leads/{lead_id}/activity").json_body["items"]]
        assert kinds.count("tags_changed") == 1


def test_purge_job_delivered_twice_is_harmless(api: Api):
    lid = api.new_list()["id"]
    _add_people(api, lid, 3)
    from chalicelib.bootstrap import services

    ws = services().auth.authenticate(f"Bearer {api.token}")
    lst = services().lists.get(ws, lid)
    services().lists._repo.delete_list_record(lst)  # as DELETE /lists/{id} does after enqueueing
    job = {"type": "purge_list", "list_id": lid, "workspace": ws, "identity": "email",
           "shards": lst.shards}
    assert handle_job_records([_record(job)]) == {"batchItemFailures": []}
    assert handle_job_records([_record(job)]) == {"batchItemFailures": []}
    assert [i for s in range(lst.shards) for i in _Table.query(shard_pk(lid, s))] == []


def test_purge_of_a_list_that_still_exists_is_retried_not_run(api: Api):
    lid = api.new_list()["id"]
    _add_people(api, lid, 1)
    from chalicelib.bootstrap import services

    ws = services().auth.authenticate(f"Bearer {api.token}")
    job = {"type": "purge_list", "list_id": lid, "workspace": ws, "identity": "email",
           "shards": 16}
    result = handle_job_records([_record(job, "keep")])
    assert result == {"batchItemFailures": [{"itemIdentifier": "keep"}]}
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 1


def test_one_bad_message_does_not_fail_the_batch(api: Api):
    lid = api.new_list()["id"]
    from chalicelib.bootstrap import services

    ws = services().auth.authenticate(f"Bearer {api.token}")
    good = {"type": "bulk", "workspace": ws, "list_id": lid,
            "request": {"action": "set_status", "filter": {}, "status": "contacted",
                        "tags": []}, "position": LeadPosition(0).encode()}
    records = [_record(good, "ok"),
               {"messageId": "garbage", "receiptHandle": "rh", "body": "{not json"},
               _record({"type": "no_such_job"}, "unknown")]
    # poison messages are dropped (logged), never retried into a crash loop
    assert handle_job_records(records) == {"batchItemFailures": []}

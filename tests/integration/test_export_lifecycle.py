"""Export jobs that keep failing end `failed`; exports go with their list."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.entrypoints.job_handlers import handle_job_records
from chalicelib.services.exports import MAX_DELIVERIES
from tests.integration.conftest import Api


def _add(api: Api, list_id: str, count: int, pump: Any) -> None:
    for i in range(count):
        assert api.post(f"/lists/{list_id}/leads", {"email": f"e{i}@example.com"}).status_code \
            == 201
    pump.drain()


def _take_job() -> dict[str, Any]:
    """The next jobs-queue message, taken off the queue (the test delivers it)."""
    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("jobs"))["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return {"messageId": message["MessageId"], "receiptHandle": "rh", "body": message["Body"]}


def _items(pk: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=get_settings().region)
    return list(client.query(TableName=get_settings().table_name,
                             KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": pk}})["Items"])


def test_a_step_that_keeps_failing_fails_the_export_on_the_queues_last_delivery(
        api: Api, pump: Any, monkeypatch: pytest.MonkeyPatch):
    # GIVEN an export whose first part is written, then lost from S3 (each run:
    # one lead's part, so the conversion must read that part)
    monkeypatch.setattr(services().jobs, "_budget", 0)
    lst = api.new_list()
    _add(api, lst["id"], 1, pump)
    export_id = api.post(f"/lists/{lst['id']}/exports", {"format": "xlsx"}).json_body["id"]
    handle_job_records([_take_job()])
    [part] = services().exports._store.parts(export_id)
    services().exports._files.delete(part.key)
    last_part = _take_job()
    # WHEN SQS delivers the next message as often as the queue allows
    results = [handle_job_records([last_part]) for _ in range(MAX_DELIVERIES)]
    # THEN every delivery but the last fails (SQS retries it); the last settles it
    failures = [r["batchItemFailures"] for r in results]
    assert failures == [[{"itemIdentifier": last_part["messageId"]}]] * (MAX_DELIVERIES - 1) \
        + [[]]
    body = api.get(f"/exports/{export_id}").json_body
    assert body["status"] == "failed" and body["finished_at"]
    assert body["error"]["code"] == "export_failed"
    assert "segment1" in body["error"]["message"] and "download_url" not in body
    # ...and a later delivery of any of its messages changes nothing
    assert handle_job_records([last_part]) == {"batchItemFailures": []}
    assert api.get(f"/exports/{export_id}").json_body == body


def test_exports_are_erased_with_their_list(api: Api, pump: Any):
    # GIVEN a completed CSV export and an xlsx export still queued
    lst = api.new_list()
    _add(api, lst["id"], 3, pump)
    done = api.post(f"/lists/{lst['id']}/exports").json_body["id"]
    pump.drain()
    assert api.get(f"/exports/{done}").json_body["status"] == "completed"
    queued = api.post(f"/lists/{lst['id']}/exports", {"format": "xlsx"}).json_body["id"]
    files = services().exports._files
    assert list(files.keys(f"exports/{done}."))
    # WHEN the list is deleted
    assert api.delete(f"/lists/{lst['id']}").status_code == 204
    # THEN its exports answer 404 at once
    assert api.get(f"/exports/{done}").status_code == 404
    assert api.get(f"/exports/{queued}").status_code == 404
    # ...and once the purge job ran, nothing of them is left in S3 or DynamoDB
    pump.drain()
    for export_id in (done, queued):
        assert list(files.keys(f"exports/{export_id}")) == []
        assert _items(f"EXPORT#{export_id}") == []
    assert _items(f"EXPORTS#{lst['id']}") == []
    # ...and a redelivered purge finds nothing more to do
    workspace = services().auth.authenticate(f"Bearer {api.token}")
    purge = {"type": "purge_list", "list_id": lst["id"], "workspace": workspace,
             "identity": "email", "shards": 16}
    assert handle_job_records([{"messageId": "again", "receiptHandle": "rh",
                                "body": json.dumps(purge)}]) == {"batchItemFailures": []}

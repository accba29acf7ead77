"""Retry or drop on purpose, and the import watchdog, over in-process moto."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.entrypoints import import_handlers as handlers
from tests.integration.conftest import Api
from tests.integration.test_imports import upload

ROWS = "".join(f"p{i}@example.com,P{i}\n" for i in range(7))


def _sqs() -> Any:
    return boto3.client("sqs", region_name=get_settings().region)


def take(queue: str) -> list[dict[str, str]]:
    """Receive a queue's visible messages and delete them: they are ours to deliver (or lose)."""
    sqs = _sqs()
    url = sqs.get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
    records = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return records
        for m in messages:
            records.append({"messageId": m["MessageId"], "body": m["Body"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.bootstrap import services

    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 2)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The watchdog's clock: tests move it forward."""
    from chalicelib.bootstrap import services

    now = [datetime.now(UTC)]
    monkeypatch.setattr(services().import_watchdog, "_clock", lambda: now[0])
    return now


def split_by_hand(api: Api, lid: str) -> tuple[str, list[dict[str, str]]]:
    """An import analysed and split; its chunk messages taken off the queue."""
    job = upload(api, lid, ("email,first_name\n" + ROWS).encode(), auto_start=True)
    handlers.on_upload_records(take("uploads"))
    handlers.on_split_records(take("splits"))
    return job["id"], take("chunks")


def run_watchdog() -> dict[str, Any]:
    from app import import_watchdog

    event = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": datetime.now(UTC).isoformat(),
             "region": get_settings().region, "resources": [], "detail": {}}
    return import_watchdog(event, None)  # type: ignore[no-any-return]


def test_a_lost_chunk_message_is_resent_and_the_import_completes(
        api: Api, pump, small_chunks, clock):
    # GIVEN an import whose last chunk message was lost (a killed worker)
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    assert len(chunks) == 4
    assert handlers.on_chunk_records(chunks[:3]) == {"batchItemFailures": []}
    pump.drain()
    assert api.get(f"/imports/{import_id}").json_body["status"] == "running"
    # WHEN the watchdog runs before the chunk stage's limit: nothing happens
    assert import_id not in run_watchdog()["resumed"]
    # WHEN it runs after the limit
    clock[0] += timedelta(minutes=11)
    report = run_watchdog()
    # THEN the missing chunk is sent again and the import completes, counted once
    assert report["resumed"] == [import_id]
    pump.drain()
    done = api.get(f"/imports/{import_id}").json_body
    assert done["status"] == "completed", done
    assert done["counts"]["saved"] == 7 and done["processed_rows"] == done["total_rows"] == 7
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 7


def test_an_import_that_never_progresses_fails_stalled_with_every_row_reported(
        api: Api, pump, small_chunks, clock):
    # GIVEN an import whose chunk 1 message is lost every time it is sent
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    handlers.on_chunk_records([c for c in chunks if json.loads(c["body"])["chunk"] != 1])
    # WHEN the watchdog resumes it three times and the message is lost again each time
    for _ in range(3):
        clock[0] += timedelta(minutes=11)
        assert run_watchdog()["resumed"] == [import_id]
        lost = take("chunks")
        assert [json.loads(m["body"])["chunk"] for m in lost] == [1]
    clock[0] += timedelta(minutes=11)
    assert run_watchdog()["failed"] == [import_id]
    # THEN the import ends failed (stalled), its rows all counted, the lost ones reported
    job = api.get(f"/imports/{import_id}").json_body
    assert job["status"] == "failed" and job["error"]["code"] == "stalled"
    assert job["counts"]["saved"] == 5 and job["counts"]["invalid"] == 2
    assert sum(job["counts"].values()) == job["total_rows"] == 7
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{import_id}/errors").body.decode())))
    assert [(r["row"], r["codes"]) for r in report] == [("4", "stalled"), ("5", "stalled")]
    assert [r["email"] for r in report] == ["p2@example.com", "p3@example.com"]
    # and a late delivery of the lost chunk changes nothing
    assert handlers.on_chunk_records([chunks[1]]) == {"batchItemFailures": []}
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 5


def test_a_handler_bug_is_retried_then_settled_by_the_dlq(api: Api, pump, small_chunks):
    # GIVEN a chunk whose file is damaged (the worker raises: a bug, not bad input)
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    first = json.loads(chunks[0]["body"])
    s3 = boto3.client("s3", region_name=get_settings().region)
    s3.put_object(Bucket=get_settings().bucket_name, Key=first["key"], Body=b"{not json")
    # WHEN it is delivered
    result = handlers.on_chunk_records(chunks)
    # THEN it is reported failed (SQS redelivers it), the others are processed
    assert result == {"batchItemFailures": [{"itemIdentifier": chunks[0]["messageId"]}]}
    assert api.get(f"/imports/{import_id}").json_body["status"] == "running"
    # WHEN it keeps failing and reaches the DLQ handler
    assert handlers.on_chunk_dlq_records([chunks[0]]) == {"batchItemFailures": []}
    # THEN the import ends with its rows counted and the failure explained
    job = api.get(f"/imports/{import_id}").json_body
    assert job["status"] == "completed_with_errors"
    assert job["error"]["code"] == "chunk_failed"
    assert job["counts"]["saved"] == 5 and job["counts"]["invalid"] == 2


def test_malformed_messages_are_dropped_not_retried(api: Api):
    records = [
        {"messageId": "not-json", "body": "{"},
        {"messageId": "not-object", "body": "[1, 2]"},
        {"messageId": "no-chunk", "body": json.dumps({"type": "chunk", "import_id": "im_x"})},
        {"messageId": "bad-rows", "body": json.dumps({"type": "chunk", "import_id": "im_x",
                                                      "chunk": 0, "key": "k", "rows": "2"})},
    ]
    assert handlers.on_chunk_records(records) == {"batchItemFailures": []}
    assert handlers.on_split_records([{"messageId": "s", "body": "{}"}]) == \
        {"batchItemFailures": []}


# Deleting the list mid-import: tests/integration/test_import_erasure.py.


def test_the_watchdog_lets_a_moving_import_be(api: Api, pump, small_chunks, clock):
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    clock[0] += timedelta(minutes=9)  # under the chunk stage's 10 minutes
    assert run_watchdog()["resumed"] == []
    handlers.on_chunk_records(chunks)
    assert api.get(f"/imports/{import_id}").json_body["status"] == "completed"
    clock[0] += timedelta(hours=1)
    assert import_id not in run_watchdog()["resumed"]  # finished: not watched any more


def test_exactly_one_worker_sees_the_import_finish(api: Api, pump, small_chunks,
                                                   monkeypatch: pytest.MonkeyPatch):
    from chalicelib.bootstrap import services

    finished: list[tuple[str, str]] = []
    lifecycle = services().import_lifecycle
    monkeypatch.setattr(lifecycle, "_listeners", [])
    lifecycle.on_finished(lambda job: finished.append((job.id, job.status.value)))
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    # every chunk delivered twice, the DLQ handler and the watchdog on top
    handlers.on_chunk_records(chunks)
    handlers.on_chunk_records(chunks)
    handlers.on_chunk_dlq_records(chunks[:1])
    handlers.on_split_records([{"messageId": "again",
                                "body": json.dumps({"type": "split", "import_id": import_id})}])
    run_watchdog()
    assert finished == [(import_id, "completed")]


def test_a_stalled_import_whose_chunk_file_is_gone_still_adds_up(
        api: Api, pump, small_chunks, clock):
    # GIVEN an import whose chunk 2 message is lost and whose chunk file is gone too
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    handlers.on_chunk_records([c for c in chunks if json.loads(c["body"])["chunk"] != 2])
    s3 = boto3.client("s3", region_name=get_settings().region)
    s3.delete_object(Bucket=get_settings().bucket_name,
                     Key=json.loads(chunks[2]["body"])["key"])
    for _ in range(3):
        clock[0] += timedelta(minutes=11)
        run_watchdog()
        handlers.on_chunk_records(take("chunks"))  # fails: the file is gone (retried)
    clock[0] += timedelta(minutes=11)
    assert run_watchdog()["failed"] == [import_id]
    # THEN the import failed stalled and its counts still add up
    job = api.get(f"/imports/{import_id}").json_body
    assert job["status"] == "failed" and job["error"]["code"] == "stalled"
    assert job["counts"]["saved"] == 5 and job["counts"]["invalid"] == 2
    assert sum(job["counts"].values()) == job["total_rows"] == 7
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{import_id}/errors").body.decode())))
    assert [r["codes"] for r in report] == ["stalled"]

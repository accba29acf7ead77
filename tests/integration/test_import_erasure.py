"""Personal data does not outlive deletion: DELETE /imports/{id}, deleted lists, expiry."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.entrypoints import import_handlers as handlers
from chalicelib.services.import_erasure import object_prefixes
from tests.integration.conftest import Api
from tests.integration.test_import_watchdog import split_by_hand, take
from tests.integration.test_imports import upload, wait_status

CSV = (b"email,first_name,phone\n"
       b"victim.person@example.com,Vic,+1 415 555 0134\n"
       b"not-an-email,Bad,\n"
       b"other.person@example.com,Oth,\n")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.bootstrap import services

    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 2)


def s3_keys(import_id: str) -> list[str]:
    s3 = boto3.client("s3", region_name=get_settings().region)
    keys: list[str] = []
    for prefix in object_prefixes(import_id):
        response = s3.list_objects_v2(Bucket=get_settings().bucket_name, Prefix=prefix)
        keys.extend(o["Key"] for o in response.get("Contents", []))
    return keys


def table_items(import_id: str, list_id: str) -> list[dict[str, Any]]:
    """Every item that names the import: its own partition, its list entry, the registry."""
    db = boto3.client("dynamodb", region_name=get_settings().region)
    table = get_settings().table_name
    items = db.query(TableName=table, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": f"IMPORT#{import_id}"}})["Items"]
    for pk in (f"IMPORTS#{list_id}", "IMPORTS#ACTIVE"):
        got = db.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": f"I#{import_id}"}})
        items.extend([got["Item"]] if "Item" in got else [])
    return items


def finished_import(api: Api, pump) -> tuple[str, str]:
    lid = api.new_list()["id"]
    job = upload(api, lid, CSV, auto_start=True)
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors")
    assert done["counts"]["saved"] == 2 and done["counts"]["invalid"] == 1
    return lid, job["id"]


def test_deleting_an_import_erases_its_files_records_preview_and_report(api: Api, pump):
    lid, import_id = finished_import(api, pump)
    # GIVEN an import whose preview, report and files hold the file's people
    job = api.get(f"/imports/{import_id}").json_body
    assert any("victim.person@example.com" in str(row) for row in job["preview"])
    assert "not-an-email" in api.get(f"/imports/{import_id}/errors").body.decode()
    assert len(s3_keys(import_id)) >= 3  # analysed copy, analysis, report part
    assert table_items(import_id, lid)
    # WHEN it is deleted
    assert api.delete(f"/imports/{import_id}").status_code == 204
    # THEN nothing of it is left, in the API, S3 or DynamoDB; the leads stay
    assert api.get(f"/imports/{import_id}").status_code == 404
    assert api.get(f"/imports/{import_id}/errors").status_code == 404
    assert api.delete(f"/imports/{import_id}").status_code == 404
    assert s3_keys(import_id) == []
    assert table_items(import_id, lid) == []
    assert api.get(f"/lists/{lid}/imports").json_body["items"] == []
    assert len(api.get(f"/lists/{lid}/leads").json_body["items"]) == 2


def test_another_workspace_cannot_delete_an_import(api: Api, other_api: Api, pump):
    lid, import_id = finished_import(api, pump)
    assert other_api.delete(f"/imports/{import_id}").status_code == 404
    assert api.get(f"/imports/{import_id}").status_code == 200
    assert s3_keys(import_id) and table_items(import_id, lid)


def test_deleting_the_list_erases_its_imports_at_once_for_the_api_then_everywhere(
        api: Api, pump):
    lid, import_id = finished_import(api, pump)
    assert api.delete(f"/lists/{lid}").status_code == 204
    # At once: the API shows neither the import nor its report
    assert api.get(f"/imports/{import_id}").status_code == 404
    assert api.get(f"/imports/{import_id}/errors").status_code == 404
    # After the background purge: no file and no item is left
    pump.drain()
    assert s3_keys(import_id) == []
    assert table_items(import_id, lid) == []


def test_deleting_the_list_mid_import_fails_it_then_erases_it(
        api: Api, pump, small_chunks, monkeypatch: pytest.MonkeyPatch):
    from chalicelib.bootstrap import services

    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    assert api.delete(f"/lists/{lid}").status_code == 204
    finished: list[str] = []
    lifecycle = services().import_lifecycle
    # Our listener beside the app's own (syncs'), all put back after the test
    monkeypatch.setattr(lifecycle, "_listeners", list(lifecycle._listeners))
    lifecycle.on_finished(lambda job: finished.append(job.status.value))
    # The chunks find the list gone: the import fails, its messages are dropped
    assert handlers.on_chunk_records(chunks) == {"batchItemFailures": []}
    job = services().imports._imports.get(import_id)
    assert job is not None and job.status.value == "failed"
    assert job.error and job.error["code"] == "list_deleted"
    assert finished == ["failed"]
    # The purge job erases it; a chunk delivered again brings nothing back
    pump.drain()
    assert handlers.on_chunk_records(chunks) == {"batchItemFailures": []}
    assert s3_keys(import_id) == [] and table_items(import_id, lid) == []


def test_deleting_a_running_import_stops_it_and_late_chunks_leave_nothing(
        api: Api, pump, small_chunks):
    lid = api.new_list()["id"]
    import_id, chunks = split_by_hand(api, lid)
    # Two chunks are saved, then the import is deleted while the rest wait
    assert handlers.on_chunk_records(chunks[:2]) == {"batchItemFailures": []}
    assert api.delete(f"/imports/{import_id}").status_code == 204
    # The late chunks (and the early ones delivered again) are dropped
    assert handlers.on_chunk_records(chunks) == {"batchItemFailures": []}
    assert s3_keys(import_id) == [] and table_items(import_id, lid) == []
    assert api.get(f"/imports/{import_id}").status_code == 404
    # The leads the first chunks saved stay in the list
    assert len(api.get(f"/lists/{lid}/leads").json_body["items"]) == 4


def test_a_chunk_that_finishes_after_the_import_was_erased_takes_its_report_back(
        api: Api, pump, small_chunks, monkeypatch: pytest.MonkeyPatch):
    from chalicelib.bootstrap import services

    lid = api.new_list()["id"]
    job = upload(api, lid, CSV, auto_start=True)
    handlers.on_upload_records(take("uploads"))
    handlers.on_split_records(take("splits"))
    chunks = take("chunks")
    store = services().import_chunks._imports
    real_finish = store.finish_chunk

    def erase_then_finish(*args: Any, **kwargs: Any) -> bool:
        # The import is deleted while this chunk was between its writes
        assert api.delete(f"/imports/{job['id']}").status_code == 204
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(store, "finish_chunk", erase_then_finish)
    assert handlers.on_chunk_records(chunks[:1]) == {"batchItemFailures": []}
    assert s3_keys(job["id"]) == [] and table_items(job["id"], lid) == []


def test_import_records_expire_with_their_files(api: Api, pump, monkeypatch: pytest.MonkeyPatch):
    from chalicelib.bootstrap import services
    from chalicelib.resources import IMPORT_RETENTION_DAYS, STACK

    lid, import_id = finished_import(api, pump)
    items = table_items(import_id, lid)
    meta = next(i for i in items if i["sk"]["S"] == "META")
    expires = int(meta["expires_at"]["N"])
    assert abs(expires - (time.time() + IMPORT_RETENTION_DAYS * 86400)) < 600
    # Every item of the import expires, not only its record
    assert all("expires_at" in i for i in items if i["pk"]["S"] != "IMPORTS#ACTIVE")
    # The files it points at expire by the same period
    days = dict(STACK.bucket.lifecycle_days)
    assert days["files/"] == days["analysis/"] == days["errors/"] == IMPORT_RETENTION_DAYS
    # Until DynamoDB removes it (up to days late) an expired record reads as gone
    store = services().imports._imports
    monkeypatch.setattr(store, "now", lambda: expires + 1.0)
    assert api.get(f"/imports/{import_id}").status_code == 404

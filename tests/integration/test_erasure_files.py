"""An erasure reaches stored files: import copies, exports and later error reports.

services/erasure_files.py on moto: after the erasure no object of the bucket
holds the person (a spreadsheet is read as a spreadsheet), what did not hold
them is kept, and an import or export still moving is looked at again.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import boto3
from python_calamine import CalamineWorkbook

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.domain.job_messages import ErasePersonJob
from chalicelib.domain.people import parse_person
from tests.integration.conftest import Api
from tests.integration.test_import_modes import run_import
from tests.integration.test_imports import upload, wait_status
from tests.integration.test_webhooks import (
    _workspace,
    receiver,  # noqa: F401 (a fixture)
)

PERSON = "files.me@example.com"
RUNNING = "running.me@example.com"


def _bucket_text() -> dict[str, str]:
    """Every object of the bucket as lowercase text (a spreadsheet's cells joined)."""
    s3 = boto3.client("s3", region_name=get_settings().region)
    out: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=get_settings().bucket_name):
        for obj in page.get("Contents", []):
            data = s3.get_object(Bucket=get_settings().bucket_name, Key=obj["Key"])["Body"].read()
            if data[:2] == b"PK":  # a zipped spreadsheet
                book = CalamineWorkbook.from_filelike(io.BytesIO(data))
                data = " ".join(str(c) for name in book.sheet_names
                                for row in book.get_sheet_by_name(name).to_python()
                                for c in row).encode()
            out[obj["Key"]] = data.decode("utf-8", "replace").lower()
    return out


def _export(api: Api, list_id: str, fmt: str = "csv") -> str:
    started = api.post(f"/lists/{list_id}/exports", {"format": fmt})
    assert started.status_code == 202, started.json_body
    return str(started.json_body["id"])


def test_an_erasure_removes_the_person_from_import_copies_and_exports(api: Api, pump: Any):
    # GIVEN a finished import holding the person, with CSV and XLSX exports of its list
    held, other, waiting = api.new_list(name="Held"), api.new_list(name="Other"), \
        api.new_list(name="Waiting")
    done = run_import(api, pump, held["id"],
                      f"email,first_name\n{PERSON},Fay\nkeep@example.com,Kim\n", None)
    assert done["counts"]["saved"] == 2
    assert api.post(f"/lists/{other['id']}/leads", {"email": "stay@example.com"}).status_code \
        == 201
    exports = [_export(api, held["id"]), _export(api, held["id"], "xlsx"),
               _export(api, other["id"])]
    # AND an import analysed and waiting to be started, holding the person
    ready = upload(api, waiting["id"], f"email\n{PERSON}\nwait@example.com\n".encode())
    assert wait_status(api, pump, ready["id"], "ready")["status"] == "ready"
    pump.drain()
    before = _bucket_text()
    assert sum(PERSON in text for text in before.values()) >= 5, sorted(before)
    # WHEN the person is erased
    started = api.post("/erasures", {"email": PERSON})
    assert started.status_code == 202
    pump.drain()
    # THEN no stored object holds the person
    record = api.get(f"/erasures/{started.json_body['id']}").json_body
    assert record["status"] == "completed", record
    assert record["import_copies_removed"] == 2 and record["exports_removed"] == 2
    after = _bucket_text()
    assert [key for key, text in after.items() if PERSON in text] == []
    # AND what did not hold them is kept: the other list's export, the import's record
    # and preview rows of the others
    assert api.get(f"/exports/{exports[2]}").json_body["status"] == "completed"
    assert [api.get(f"/exports/{e}").status_code for e in exports[:2]] == [404, 404]
    imported = api.get(f"/imports/{done['id']}").json_body
    assert imported["counts"]["saved"] == 2
    assert "keep@example.com" in str(imported["preview"]).lower()
    # AND the waiting import was failed, saying why
    failed = api.get(f"/imports/{ready['id']}").json_body
    assert failed["status"] == "failed" and failed["error"]["code"] == "person_erased"
    # AND a later file holding the person has the row refused with its cells withheld
    again = run_import(api, pump, held["id"], f"email,first_name\n{PERSON},Fay\n", None)
    assert again["counts"]["invalid"] == 1
    report = api.get(f"/imports/{again['id']}/errors").body.decode().lower()
    assert "suppressed" in report and "erased" in report and PERSON not in report


def test_an_export_still_running_is_looked_at_again(api: Api, pump: Any):
    # GIVEN an export of the person's list, not yet run, and the erasure's job run by
    # hand before it
    lst = api.new_list()
    assert api.post(f"/lists/{lst['id']}/leads", {"email": RUNNING}).status_code == 201
    export_id = _export(api, lst["id"])
    started = api.post("/erasures", {"email": RUNNING}).json_body
    person = parse_person({"email": RUNNING}).hashed()
    job = ErasePersonJob(_workspace(api), started["id"], person.kind, person.hash)
    services().erasures.run(job, deadline=time.monotonic() + 60)
    # THEN the erasure waits for the export instead of completing
    assert api.get(f"/erasures/{started['id']}").json_body["status"] == "running"
    # WHEN the queues run (the export, then the erasure's own message)
    pump.drain()
    services().erasures.run(ErasePersonJob(job.workspace, job.erasure_id, job.kind, job.hash,
                                           rechecks=1))
    # THEN the export, made after the lead was deleted, is kept, and the erasure is done
    record = api.get(f"/erasures/{started['id']}").json_body
    assert record["status"] == "completed" and record["leads_deleted"] == 1
    assert api.get(f"/exports/{export_id}").json_body["status"] == "completed"
    assert [k for k, text in _bucket_text().items() if RUNNING in text] == []


def test_an_erasure_redacts_the_person_in_the_webhook_delivery_log(api: Api, pump: Any,
                                                                   receiver: Any) -> None:  # noqa: F811
    from tests.integration.test_webhooks import _hook, _received_types

    # GIVEN a webhook that was sent the person's lead.created (and another lead's)
    hook = _hook(api, receiver.url, ["lead.created"])
    lst = api.new_list()
    for email in ("logged.me@example.com", "kept.me@example.com"):
        assert api.post(f"/lists/{lst['id']}/leads", {"email": email}).status_code == 201
    pump.drain()
    assert len(_received_types(receiver)) == 2
    log = api.get(f"/webhooks/{hook['id']}/deliveries").json_body["items"]
    assert len(log) == 2
    # WHEN the person is erased
    started = api.post("/erasures", {"email": "logged.me@example.com"}).json_body
    pump.drain()
    # THEN the log keeps both deliveries, the person's event redacted in the table
    record = api.get(f"/erasures/{started['id']}").json_body
    assert record["status"] == "completed" and record["deliveries_redacted"] == 1
    assert len(api.get(f"/webhooks/{hook['id']}/deliveries").json_body["items"]) == 2
    from tests.integration.test_erasure import _items_mentioning

    assert _items_mentioning("logged.me") == []
    assert _items_mentioning("kept.me") != []
    # AND a redelivery of it sends the redacted event
    stored = {d["id"]: services().webhooks._store.delivery(_workspace(api), hook["id"], d["id"])
              for d in log}
    redacted = [i for i, found in stored.items() if found and found[1]["data"] == {"erased": True}]
    assert len(redacted) == 1
    assert api.post(f"/webhooks/{hook['id']}/deliveries/{redacted[0]}/redeliver"
                    ).status_code == 202
    pump.drain()
    assert json.loads(receiver.received[-1].body)["data"] == {"erased": True}
    assert len(receiver.received) == 3

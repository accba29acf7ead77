"""Import modes (skip, fill_empty, overwrite) through the API, over in-process moto."""

from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.domain.import_state import ImportMode
from tests.integration.conftest import Api
from tests.integration.test_imports import upload, wait_status

FINISHED = ("completed", "completed_with_errors", "failed")

FIRST = (
    "email,first_name,job_title,phone,tags,company\n"
    "ada@example.com,Ada,,+1 415 555 0134,vip,Engines\n"
    "grace@example.com,Grace,Admiral,,navy,\n"
    "alan@example.com,Alan,Cryptanalyst,+44 20 7946 0018,,Bletchley\n"
)
CHANGED = (
    "email,first_name,job_title,phone,tags,company,status\n"
    "ada@example.com,Ada,Countess,+1 415 555 0199,q1,\n"           # title filled, phone differs
    "grace@example.com,Grace,Rear Admiral,+1 212 555 0100,,Navy\n"  # title differs, phone filled
    "alan@example.com,Alan,Cryptanalyst,+44 20 7946 0018,,Bletchley\n"  # the same
    "linus@example.com,Linus,Maintainer,,,\n"                       # new person
    "ADA@example.com,Ada,Other,,,\n"                                # in-file duplicate
    "broken@@,No,,,,\n"                                             # invalid
)


def run_import(api: Api, pump: Any, lid: str, data: str, mode: str | None) -> dict[str, Any]:
    job = upload(api, lid, data.encode())
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    assert ready["status"] == "ready", ready["error"]
    body = {"mode": mode} if mode else {}
    started = api.post(f"/imports/{job['id']}/start", body)
    assert started.status_code == 202, started.json_body
    assert started.json_body["mode"] == (mode or "skip")
    return wait_status(api, pump, job["id"], *FINISHED)


def leads_by_email(api: Api, lid: str) -> dict[str, dict[str, Any]]:
    items = api.get(f"/lists/{lid}/leads?limit=100").json_body["items"]
    return {lead["email"]: lead for lead in items}


def counts(saved: int = 0, updated: int = 0, unchanged: int = 0, duplicates: int = 0,
           invalid: int = 0) -> dict[str, int]:
    return {"saved": saved, "updated": updated, "unchanged": unchanged,
            "duplicates": duplicates, "invalid": invalid}


def test_unknown_mode_is_a_400_listing_the_modes(api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, FIRST.encode())
    wait_status(api, pump, job["id"], "ready")
    response = api.post(f"/imports/{job['id']}/start", {"mode": "merge"})
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_mode"
    assert response.json_body["error"]["details"]["modes"] == [m.value for m in ImportMode]
    assert api.get(f"/imports/{job['id']}").json_body["status"] == "ready"


def test_skip_is_the_default_and_leaves_existing_leads_alone(api: Api, pump):
    lid = api.new_list()["id"]
    run_import(api, pump, lid, FIRST, None)
    done = run_import(api, pump, lid, CHANGED, None)
    assert done["counts"] == counts(saved=1, duplicates=4, invalid=1)
    assert leads_by_email(api, lid)["ada@example.com"]["job_title"] is None


def test_fill_empty_fills_what_is_missing_and_changes_nothing_held(api: Api, pump):
    lid = api.new_list()["id"]
    run_import(api, pump, lid, FIRST, "skip")
    alan_before = leads_by_email(api, lid)["alan@example.com"]
    ada_id = leads_by_email(api, lid)["ada@example.com"]["id"]
    # an edit made in the app after the first import
    api.patch(f"/lists/{lid}/leads/{ada_id}", {"status": "contacted", "company": "AE Ltd"})
    # WHEN the changed copy is imported with fill_empty
    done = run_import(api, pump, lid, CHANGED, "fill_empty")
    # THEN each row is counted once, and the sums hold
    assert done["status"] == "completed", done
    assert done["counts"] == counts(saved=1, updated=2, unchanged=1, duplicates=1, invalid=1)
    assert sum(done["counts"].values()) == done["total_rows"] == 6
    leads = leads_by_email(api, lid)
    ada, grace, alan = (leads[e] for e in ("ada@example.com", "grace@example.com",
                                           "alan@example.com"))
    assert ada["job_title"] == "Countess"            # was empty: filled
    assert ada["phone"] == "+14155550134"            # held: kept ...
    assert ada["phones"] == ["+14155550199"]         # ... the row's other phone kept beside it
    assert ada["tags"] == ["vip", "q1"]              # merged
    assert ada["company"] == "AE Ltd"                # the app's edit is kept
    assert ada["status"] == "contacted"              # the status column never applies here
    assert grace["job_title"] == "Admiral" and grace["phone"] == "+12125550100"
    assert grace["company"] == "Navy"
    assert alan == alan_before  # unchanged: not written at all
    # one activity entry names the changed fields
    activity = api.get(f"/lists/{lid}/leads/{ada_id}/activity").json_body["items"]
    entries = [a for a in activity if a["type"] == "updated_by_import"]
    assert len(entries) == 1
    assert set(entries[0]["data"]["changes"]) == {"job_title", "phones", "tags"}
    assert entries[0]["data"]["changes"]["job_title"] == {"from": None, "to": "Countess"}
    assert entries[0]["data"]["mode"] == "fill_empty"
    # the report has the duplicate and the invalid row, not the updated ones
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{done['id']}/errors").body.decode())))
    assert sorted(r["codes"] for r in report) == ["duplicate_in_file", "invalid_email"]


def test_overwrite_replaces_with_non_empty_values_and_sets_status(api: Api, pump):
    lid = api.new_list()["id"]
    run_import(api, pump, lid, FIRST, "skip")
    done = run_import(api, pump, lid, CHANGED, "overwrite")
    assert done["counts"] == counts(saved=1, updated=2, unchanged=1, duplicates=1, invalid=1)
    leads = leads_by_email(api, lid)
    ada, grace, alan = (leads[e] for e in ("ada@example.com", "grace@example.com",
                                           "alan@example.com"))
    assert ada["job_title"] == "Countess" and ada["phone"] == "+14155550199"
    assert ada["tags"] == ["q1"]                      # replaced by the row's
    assert ada["company"] == "Engines"                # empty cell: unchanged
    assert grace["job_title"] == "Rear Admiral" and grace["company"] == "Navy"
    assert alan["job_title"] == "Cryptanalyst"
    # WHEN the same file is imported again with overwrite
    again = run_import(api, pump, lid, CHANGED, "overwrite")
    # THEN nothing changes a second time
    assert again["counts"] == counts(unchanged=4, duplicates=1, invalid=1)


def test_overwrite_status_column_and_email_change_on_a_phone_list(api: Api, pump):
    lid = api.new_list(identity="phone")["id"]
    first = "phone,email,status\n+1 415 555 0134,old@example.com,new\n"
    run_import(api, pump, lid, first, None)
    changed = "phone,email,status\n(415) 555-0134,new@example.com,Replied\n"
    done = run_import(api, pump, lid, changed, "overwrite")
    assert done["counts"] == counts(updated=1)
    lead = api.get(f"/lists/{lid}/leads?limit=5").json_body["items"][0]
    assert lead["email"] == "new@example.com" and lead["status"] == "replied"
    # the changed email is verified again in the background
    pump.drain()
    lead = api.get(f"/lists/{lid}/leads/{lead['id']}").json_body
    assert lead["email_status"] != "pending"
    entry = next(a for a in api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body[
        "items"] if a["type"] == "updated_by_import")
    assert set(entry["data"]["changes"]) == {"email", "status"}


def test_a_mode_given_at_creation_applies_to_auto_start(api: Api, pump):
    lid = api.new_list()["id"]
    run_import(api, pump, lid, FIRST, None)
    job = upload(api, lid, CHANGED.encode(), auto_start=True, mode="fill_empty")
    done = wait_status(api, pump, job["id"], *FINISHED)
    assert done["mode"] == "fill_empty"
    assert done["counts"] == counts(saved=1, updated=2, unchanged=1, duplicates=1, invalid=1)
    bad = api.post(f"/lists/{lid}/imports", {"filename": "a.csv", "mode": "upsert"})
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "invalid_mode"


def test_a_lead_edited_during_the_import_is_read_again_not_overwritten(
        api: Api, pump, monkeypatch):
    # GIVEN an existing lead, and an edit in the app that lands between the
    # import reading the lead and writing it (the store below lets it in then)
    from chalicelib.adapters.dynamo_imports import DynamoImports
    from chalicelib.bootstrap import services

    lid = api.new_list()["id"]
    run_import(api, pump, lid, FIRST, None)
    ada = leads_by_email(api, lid)["ada@example.com"]
    edits: list[int] = []

    class EditedMeanwhile(DynamoImports):
        def get_leads(self, lst, lead_ids):  # type: ignore[no-untyped-def]
            found = super().get_leads(lst, lead_ids)
            if not edits:
                edits.append(1)
                response = api.patch(f"/lists/{lid}/leads/{ada['id']}",
                                     {"location": "Marylebone", "job_title": "Analyst"})
                assert response.status_code == 200
            return found

    chunks = services().import_chunks
    monkeypatch.setattr(chunks, "_imports", EditedMeanwhile())
    # WHEN the changed copy is imported with fill_empty
    done = run_import(api, pump, lid, CHANGED, "fill_empty")
    # THEN the edit is kept and the mode was applied to the edited lead
    assert done["counts"] == counts(saved=1, updated=2, unchanged=1, duplicates=1, invalid=1)
    lead = api.get(f"/lists/{lid}/leads/{ada['id']}").json_body
    assert lead["location"] == "Marylebone"
    assert lead["job_title"] == "Analyst"  # the app's value: no longer empty, so not filled
    assert lead["tags"] == ["vip", "q1"] and lead["phones"] == ["+14155550199"]
    entry = next(a for a in api.get(f"/lists/{lid}/leads/{ada['id']}/activity").json_body[
        "items"] if a["type"] == "updated_by_import")
    assert "job_title" not in entry["data"]["changes"]

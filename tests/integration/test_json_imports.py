"""JSON and JSON Lines files through the same pipeline as CSV, over in-process moto."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.test_imports import upload, wait_status
from tools.sample_data import csv_bytes

FINISHED = ("completed", "completed_with_errors", "failed")
ROWS = 10_000
# What differs between two imports of the same people: ids, times, where they came from.
NOT_COMPARED = {"id", "list_id", "created_at", "updated_at", "source", "email_status",
                "email_status_reason", "email_checked_at"}


def all_leads(api: Api, lid: str) -> dict[str, dict[str, str]]:
    """Every lead of the list by email, from one CSV export (the API's paging is per 100)."""
    response = api.get(f"/lists/{lid}/export")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.body.decode("utf-8-sig")))
    return {row["email"]: {k: v for k, v in row.items() if k not in NOT_COMPARED}
            for row in rows}


def import_file(api: Api, pump: Any, lid: str, data: bytes, filename: str) -> dict[str, Any]:
    job = upload(api, lid, data, filename=filename, auto_start=True)
    done = wait_status(api, pump, job["id"], *FINISHED)
    assert done["status"] in ("completed", "completed_with_errors"), done
    return done


# 20,000 rows through in-process moto: about 160 s alone, past 300 s on a busy
# 2-core machine. A guard against hanging, not a performance check.
@pytest.mark.timeout(1200)
def test_a_jsonl_export_of_10k_leads_imports_like_its_csv_twin(api: Api, pump):
    # GIVEN 10,000 messy rows as CSV, and the same records as JSON Lines
    data = csv_bytes(ROWS)
    reader = csv.reader(io.StringIO(data.decode("cp1252")), delimiter=";")
    header = next(reader)
    records = [{k: v for k, v in zip(header, row, strict=False) if v} for row in reader]
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    # WHEN each is imported into its own list
    csv_list, json_list = api.new_list()["id"], api.new_list()["id"]
    from_csv = import_file(api, pump, csv_list, data, "leads.csv")
    from_json = import_file(api, pump, json_list, jsonl, "leads.jsonl")
    # THEN the counts and the leads are the same, field by field
    assert from_json["file"]["kind"] == "jsonl"
    assert from_json["mapping"] == from_csv["mapping"]
    assert from_json["counts"] == from_csv["counts"]
    assert from_json["total_rows"] == from_csv["total_rows"] == ROWS
    assert from_csv["counts"]["saved"] > ROWS * 8 // 10
    assert all_leads(api, json_list) == all_leads(api, csv_list)


def test_json_array_with_nested_values_and_a_bad_record(api: Api, pump):
    records: list[Any] = [
        {"email": "ada@example.com", "name": {"first": "Ada", "last": "Lovelace"},
         "address": {"city": "London"}, "tags": ["vip", "q1"]},
        "not an object",
        {"email": "grace@example.com", "name": {"first": "Grace"}, "tags": []},
    ]
    lid = api.new_list()["id"]
    job = upload(api, lid, json.dumps(records).encode(), filename="people.json",
                 mapping={"name.first": "first_name", "name.last": "last_name",
                          "address.city": "location"}, auto_start=True)
    done = wait_status(api, pump, job["id"], *FINISHED)
    assert done["counts"]["saved"] == 2 and done["counts"]["invalid"] == 1, done
    ada = api.get(f"/lists/{lid}/leads?q=ada").json_body["items"][0]
    assert (ada["first_name"], ada["last_name"], ada["location"]) == ("Ada", "Lovelace", "London")
    assert ada["tags"] == ["vip", "q1"]
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{job['id']}/errors").body.decode())))
    assert [(r["row"], r["codes"]) for r in report] == [("2", "not_an_object")]

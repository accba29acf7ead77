"""`leadpipe people backfill`: leads stored before the people index are put into it.

Leads written before the index carry no `px_` attributes: the test makes such
leads by removing the attributes from stored items, then runs the command
(typer's CliRunner, in-process moto) and the jobs it queues.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from typer.testing import CliRunner

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.domain.job_messages import IndexPeopleJob
from tests.integration.conftest import Api
from tests.integration.test_webhooks import _workspace
from tools.cli import app as cli

runner = CliRunner()


def _unindex(list_id: str) -> int:
    """Take the people-index attributes off the list's lead items (as before the index)."""
    client = boto3.client("dynamodb", region_name=get_settings().region)
    removed = 0
    for page in client.get_paginator("scan").paginate(TableName=get_settings().table_name):
        for item in page["Items"]:
            if item["pk"]["S"].startswith(f"LEAD#{list_id}#") and "px_email" in item:
                client.update_item(TableName=get_settings().table_name,
                                   Key={"pk": item["pk"], "sk": item["sk"]},
                                   UpdateExpression="REMOVE px_email, px_phone, px_linkedin")
                removed += 1
    return removed


def test_the_backfill_puts_older_leads_into_the_people_index(api: Api, pump: Any):
    # GIVEN leads of two lists stored as before the people index existed
    lists = [api.new_list(name=f"Old {n}")["id"] for n in range(2)]
    for lid in lists:
        for i in range(3):
            assert api.post(f"/lists/{lid}/leads", {
                "email": f"old{i}@example.com", "phone": f"+1415555010{i}"}).status_code == 201
    assert sum(_unindex(lid) for lid in lists) == 6
    assert api.get("/people?email=old1@example.com").json_body["items"] == []
    # WHEN the operator runs the backfill and the jobs run
    done = runner.invoke(cli, ["people", "backfill", "--workspace", _workspace(api),
                               "--stage", "test"])
    assert done.exit_code == 0, done.output
    assert "list(s) queued" in done.output
    pump.drain()
    # THEN each person is found in both lists, by email and by phone
    for query in ("email=old1@example.com", "phone=%2B14155550101"):
        found = api.get(f"/people?{query}").json_body["items"]
        assert sorted(f["list_id"] for f in found) == sorted(lists), query


def test_a_backfill_out_of_time_goes_on_and_a_second_run_changes_nothing(api: Api, pump: Any):
    lid = api.new_list()["id"]
    rows = [{"email": f"many{i}@example.com"} for i in range(250)]
    assert api.post(f"/lists/{lid}/leads/batch", {"leads": rows}).status_code in (200, 202)
    pump.drain()
    assert _unindex(lid) == 250
    job = IndexPeopleJob(_workspace(api), lid)
    # out of time after the first hundred: the rest is handed on
    assert services().people_backfill.run(job, deadline=time.monotonic() - 1) == 100
    pump.drain()
    assert api.get("/people?email=many249@example.com").json_body["items"] != []
    assert api.get("/people?email=many0@example.com").json_body["items"] != []
    # run again: the same values, found once each
    services().people_backfill.run(job, deadline=time.monotonic() + 60)
    assert len(api.get("/people?email=many7@example.com").json_body["items"]) == 1

"""Two overlapping imports into one list at once, with API adds of the same people.

Runs in a fresh process against the embedded AWS server (as the local stack
does): the event pump works both imports with concurrent pollers while a
thread adds people through the lead service. Afterwards: no duplicate lead,
no lead overwritten, and the imports' counts plus the API's answers add up
exactly to the leads in the list.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any

import pytest

from tools.embedded_aws import EmbeddedAws

FILE_A = range(0, 600)
FILE_B = range(300, 900)
API_ADDS = [*range(250, 350), *range(850, 950)]


def _csv(people: range, upper: bool) -> bytes:
    lines = ["email,first_name"]
    for i in people:
        email = f"person{i}@example.com"
        lines.append(f"{email.upper() if upper else email},P{i}")
    return ("\n".join(lines) + "\n").encode()


def _scenario(endpoint: str) -> dict[str, Any]:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    import boto3
    import requests

    from app import app
    from chalicelib.bootstrap import services
    from chalicelib.config import get_settings
    from chalicelib.domain.errors import DuplicateLead
    from tools.event_pump import EventPump
    from tools.provision import provision

    settings = get_settings()
    provision(settings, dynamodb_client=boto3.client("dynamodb"),
              s3_client=boto3.client("s3"), sqs_client=boto3.client("sqs"))
    svc = services()
    lst = svc.lists.create("race", {"name": "Overlap"})
    # small chunks so the two imports interleave at many points
    svc.import_splitter._chunk_rows = 50
    jobs = []
    for name, people, upper in (("a.csv", FILE_A, False), ("b.csv", FILE_B, True)):
        job, form = svc.imports.create("race", lst.id, {"filename": name, "auto_start": True})
        requests.post(form["url"], data=form["fields"],
                      files={"file": (name, _csv(people, upper))}, timeout=60).raise_for_status()
        jobs.append(job.id)

    stop = threading.Event()
    pump = threading.Thread(target=EventPump(app, boto3.client("sqs"), wait_seconds=1)
                            .run_forever, args=(stop, 2), daemon=True)
    pump.start()
    api = {"created": 0, "duplicates": 0, "ids": []}

    def add_people() -> None:
        for i in API_ADDS:
            try:
                lead = svc.leads.create("race", lst.id, {"email": f" Person{i}@Example.com ",
                                                         "status": "contacted"})
                api["created"] += 1
                api["ids"].append(lead.id)
            except DuplicateLead:
                api["duplicates"] += 1
            time.sleep(0.005)

    adder = threading.Thread(target=add_people)
    adder.start()
    deadline = time.monotonic() + 240
    finished = []
    while time.monotonic() < deadline:
        finished = [svc.imports.get("race", j) for j in jobs]
        if all(j.status in ("completed", "completed_with_errors", "failed") for j in finished):
            break
        time.sleep(0.5)
    adder.join()
    stop.set()
    pump.join(timeout=10)
    leads = [lead for lead, _ in svc.leads._repo.walk_leads(lst)]
    api_leads = {i: svc.leads.get("race", lst.id, i) for i in api["ids"]}
    return {
        "imports": [{"status": j.status, **j.counts.as_dict(), "rows": j.total_rows}
                    for j in finished],
        "api": {"created": api["created"], "duplicates": api["duplicates"]},
        "emails": [lead.email for lead in leads],
        "lead_count": svc.lists.to_api(lst)["lead_count"],
        "api_leads_intact": all(lead.status == "contacted" and lead.source is None
                                for lead in api_leads.values()),
    }


@pytest.fixture(scope="module")
def server():
    embedded = EmbeddedAws().start()
    yield embedded.url
    embedded.stop()


def test_overlapping_imports_and_api_adds_add_up_exactly(server):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply(_scenario, (server,))
    a, b = result["imports"]
    people = set(FILE_A) | set(FILE_B) | set(API_ADDS)
    # both imports finished, every row accounted for
    assert a["status"] == b["status"] == "completed"
    assert a["saved"] + a["duplicates"] + a["invalid"] == a["rows"] == len(FILE_A)
    assert b["saved"] + b["duplicates"] + b["invalid"] == b["rows"] == len(FILE_B)
    # no duplicate lead: one lead per person, whatever the spelling
    assert sorted(result["emails"]) == sorted(f"person{i}@example.com" for i in people)
    assert result["lead_count"] == len(people)
    # the counts add up exactly to the leads in the list
    assert a["saved"] + b["saved"] + result["api"]["created"] == len(people)
    attempts = len(FILE_A) + len(FILE_B) + len(API_ADDS)
    assert a["duplicates"] + b["duplicates"] + result["api"]["duplicates"] \
        == attempts - len(people)
    # no lead overwritten: what the API created is as the API left it
    assert result["api_leads_intact"]

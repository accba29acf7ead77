"""Many writers, one list, the same people: DynamoDB's conditions keep one lead each.

Writers are separate processes (as concurrent Lambdas are) talking to moto's
real server over HTTP, each adding the same people in its own order.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from typing import Any

import boto3
import pytest

from tools.embedded_aws import EmbeddedAws

PEOPLE = [f"Person{i}@Example.com" for i in range(40)]
WRITERS = 4


def _writer(endpoint: str, workspace: str, list_id: str, seed: int) -> dict[str, Any]:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from chalicelib.bootstrap import services
    from chalicelib.domain.errors import DuplicateLead

    leads = services().leads
    order = PEOPLE[:]
    random.Random(seed).shuffle(order)
    created: list[str] = []
    duplicates = 0
    for email in order:
        # each writer spells the address its own way: case and spacing differ
        spelled = f"  {email.upper() if seed % 2 else email.lower()} "
        try:
            created.append(leads.create(workspace, list_id, {"email": spelled}).id)
        except DuplicateLead:
            duplicates += 1
    return {"created": created, "duplicates": duplicates}


def _create_list(endpoint: str, workspace: str) -> tuple[str, int]:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from chalicelib.bootstrap import services

    lst = services().lists.create(workspace, {"name": "Race"})
    return lst.id, lst.shards


def _lead_count(endpoint: str, workspace: str, list_id: str) -> int:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from chalicelib.bootstrap import services

    lists = services().lists
    return int(lists.to_api(lists.get(workspace, list_id))["lead_count"])


@pytest.fixture(scope="module")
def moto_server():
    # The embedded AWS of the local stack: moto's server with DynamoDB calls
    # serialised (see tools/embedded_aws.py for why plain moto.server races).
    server = EmbeddedAws().start()
    yield server.url
    server.stop()


def test_concurrent_writers_create_each_person_once(moto_server, monkeypatch):
    # GIVEN the stack's resources on moto's server and one list. pynamodb keeps
    # one connection per model for the life of a process, and this process's
    # were made for in-process moto: everything pynamodb does runs in fresh
    # processes pointed at the server, as Lambdas would be.
    from chalicelib.config import get_settings
    from tools.provision import provision

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    region = get_settings().region
    provision(get_settings(),
              dynamodb_client=boto3.client("dynamodb", region_name=region),
              s3_client=boto3.client("s3", region_name=region),
              sqs_client=boto3.client("sqs", region_name=region))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        list_id, shards = pool.apply(_create_list, (moto_server, "concurrency"))

        # WHEN 4 processes add the same 40 people at once, in different orders
        results = pool.starmap(_writer, [(moto_server, "concurrency", list_id, seed)
                                         for seed in range(WRITERS)])
        lead_count = pool.apply(_lead_count, (moto_server, "concurrency", list_id))

    # THEN each person was created exactly once, and every other attempt was a duplicate
    created = [lead_id for r in results for lead_id in r["created"]]
    assert len(created) == len(PEOPLE)
    assert sum(r["duplicates"] for r in results) == len(PEOPLE) * (WRITERS - 1)
    # and the list holds exactly those leads, with an exact count
    client = boto3.client("dynamodb", region_name=region)
    emails = []
    for shard in range(shards):
        pages = client.get_paginator("query").paginate(
            TableName=get_settings().table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :l)",
            ExpressionAttributeValues={":pk": {"S": f"LEAD#{list_id}#{shard:03d}"},
                                       ":l": {"S": "L#"}})
        emails.extend(item["email"]["S"] for page in pages for item in page["Items"])
    assert sorted(emails) == sorted(e.lower() for e in PEOPLE)
    assert lead_count == len(PEOPLE)

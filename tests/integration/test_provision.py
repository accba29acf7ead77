"""tools.provision against in-process moto: the resources match STACK, twice."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.config import Settings, get_settings
from chalicelib.resources import STACK, dlq_name, resource_name
from tools.provision import provision, queue_url


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "LEADPIPE_TABLE", "LEADPIPE_BUCKET",
                 "LEADPIPE_JOBS_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LEADPIPE_STAGE", "provtest")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def clients(settings: Settings) -> Iterator[dict[str, object]]:
    with mock_aws():
        yield {
            "dynamodb_client": boto3.client("dynamodb"),
            "s3_client": boto3.client("s3"),
            "sqs_client": boto3.client("sqs"),
        }


def test_provision_twice_creates_resources_as_defined(settings, clients):
    # GIVEN an empty (mocked) AWS account
    dynamodb, s3, sqs = clients["dynamodb_client"], clients["s3_client"], clients["sqs_client"]

    # WHEN provisioning runs twice
    provision(settings, **clients)
    provision(settings, **clients)

    # THEN the table has string pk/sk keys, on-demand billing and TTL
    table = dynamodb.describe_table(TableName=settings.table_name)["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        (STACK.table.partition_key, "HASH"),
        (STACK.table.sort_key, "RANGE"),
    }
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        (STACK.table.partition_key, "S"),
        (STACK.table.sort_key, "S"),
        *((index.partition_key, "S") for index in STACK.table.indexes),
    }
    # and the sparse, keys-only indexes the lead filters query
    assert sorted((i["IndexName"], i["Projection"]["ProjectionType"],
                   tuple(k["AttributeName"] for k in i["KeySchema"]))
                  for i in table["GlobalSecondaryIndexes"]) == sorted(
        (index.name, "KEYS_ONLY", (index.partition_key, STACK.table.sort_key))
        for index in STACK.table.indexes)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=settings.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": STACK.table.ttl_attribute}
    # AND the bucket exists
    s3.head_bucket(Bucket=settings.bucket_name)
    # AND every queue has its visibility timeout and a redrive policy to its DLQ
    assert STACK.queues
    for queue in STACK.queues:
        dlq_arn = sqs.get_queue_attributes(
            QueueUrl=queue_url(sqs, dlq_name(settings.stage, queue)), AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url(sqs, resource_name(settings.stage, queue.logical_name)),
            AttributeNames=["All"],
        )["Attributes"]
        assert int(attributes["VisibilityTimeout"]) == queue.visibility_timeout_seconds
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_arn
        assert int(redrive["maxReceiveCount"]) == queue.max_receive_count
    # AND the jobs queue is the one the app reads from settings
    queue_url(sqs, settings.jobs_queue_name)
    # AND nothing was created twice
    assert len(sqs.list_queues()["QueueUrls"]) == 2 * len(STACK.queues)
    assert dynamodb.list_tables()["TableNames"] == [settings.table_name]


def test_provision_restores_a_drifted_queue(settings, clients):
    # GIVEN provisioned resources whose queue was changed by hand
    sqs = clients["sqs_client"]
    provision(settings, **clients)
    queue = STACK.queues[0]
    url = queue_url(sqs, resource_name(settings.stage, queue.logical_name))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})

    # WHEN provisioning runs again
    provision(settings, **clients)

    # THEN the queue is back to its definition (CreateQueue alone would have failed)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert int(attributes["Attributes"]["VisibilityTimeout"]) == queue.visibility_timeout_seconds

"""The embedded AWS keeps DynamoDB's transaction semantics with item-level rollback."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.embedded_aws import EmbeddedAws


@pytest.fixture(scope="module")
def dynamodb():
    server = EmbeddedAws().start()
    client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id="t", aws_secret_access_key="t")
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    yield client
    server.stop()


def _get(client, pk):
    return client.get_item(TableName="t", Key={"pk": {"S": pk}}).get("Item")


def test_cancelled_transaction_leaves_no_trace(dynamodb):
    # GIVEN an existing item
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "old"}, "v": {"N": "1"}})
    # WHEN a transaction puts a new item, updates the old one, then fails a condition
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "old"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "2"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "old2"}},
                     "ConditionExpression": "attribute_exists(pk)"}},
        ])
    # THEN nothing of it stays, and the old item is as it was
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in error.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert _get(dynamodb, "new") is None
    assert _get(dynamodb, "old") == {"pk": {"S": "old"}, "v": {"N": "1"}}
    assert _get(dynamodb, "old2") is None


def test_successful_transaction_applies_every_item(dynamodb):
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}},
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    assert _get(dynamodb, "a") and _get(dynamodb, "b")


def test_query_reads_its_partition_in_order_with_pagination():
    # GIVEN a range-key table with items in two partitions
    server = EmbeddedAws().start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="t", aws_secret_access_key="t")
        client.create_table(
            TableName="r", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        for pk in ("a", "b"):
            for n in (3, 1, 2, 5, 4):
                client.put_item(TableName="r", Item={"pk": {"S": pk}, "sk": {"S": f"L#{n}"}})
        client.put_item(TableName="r", Item={"pk": {"S": "a"}, "sk": {"S": "X#9"}})
        # WHEN a partition is queried page by page, in both directions
        seen, start = [], None
        while True:
            kwargs = {"ExclusiveStartKey": start} if start else {}
            page = client.query(TableName="r", Limit=2, KeyConditionExpression=
                                "pk = :p AND begins_with(sk, :l)",
                                ExpressionAttributeValues={":p": {"S": "a"}, ":l": {"S": "L#"}},
                                **kwargs)
            seen += [i["sk"]["S"] for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        backwards = client.query(TableName="r", ScanIndexForward=False,
                                 KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": "b"}})
        # THEN only that partition comes back, sorted, each item once
        assert seen == [f"L#{n}" for n in range(1, 6)]
        assert [i["sk"]["S"] for i in backwards["Items"]] == [f"L#{n}" for n in range(5, 0, -1)]
    finally:
        server.stop()

"""The embedded AWS: DynamoDB's transaction semantics with item-level rollback, S3's POST policy.

And its speed and scale patches answering as moto would: cached expressions honour their
values, item sizes, rollbacks, streams, sorted base-table partitions and GSI partition maps
checked against brute-force answers (Scan) after every kind of write.
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest
import requests
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


# --- speed patches (tools/moto_speed.py, item_level_rollback): same answers -------

def test_a_cached_condition_still_honours_its_values_and_names(dynamodb):
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "c1"}, "v": {"N": "1"}, "w": {"N": "2"}})
    for value, names, holds in (("1", {"#a": "v"}, True), ("2", {"#a": "v"}, False),
                                ("2", {"#a": "w"}, True), ("1", {"#a": "v"}, True)):
        put = dict(TableName="t", Item={"pk": {"S": "c1"}, "v": {"N": "1"}, "w": {"N": "2"}},
                   ConditionExpression="#a = :v", ExpressionAttributeNames=names,
                   ExpressionAttributeValues={":v": {"N": value}})
        if holds:
            dynamodb.put_item(**put)
        else:
            with pytest.raises(ClientError) as error:
                dynamodb.put_item(**put)
            assert error.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_cached_update_gives_each_item_its_own_values(dynamodb):
    # GIVEN two items updated with the same SET expression and values (a cache hit)
    for pk in ("u1", "u2"):
        dynamodb.update_item(TableName="t", Key={"pk": {"S": pk}},
                             UpdateExpression="SET tags = :t, n = :n",
                             ExpressionAttributeValues={":t": {"SS": ["a"]}, ":n": {"N": "1"}})
    # WHEN one of them is changed in place (ADD to its set) and the other set anew
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "u1"}}, UpdateExpression="ADD tags :m",
                         ExpressionAttributeValues={":m": {"SS": ["b"]}})
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "u2"}},
                         UpdateExpression="SET tags = :t, n = :n",
                         ExpressionAttributeValues={":t": {"SS": ["a"]}, ":n": {"N": "7"}})
    # THEN neither sees the other's change, and new values are honoured
    assert _get(dynamodb, "u1")["tags"] == {"SS": ["a", "b"]}
    assert _get(dynamodb, "u2") == {"pk": {"S": "u2"}, "tags": {"SS": ["a"]}, "n": {"N": "7"}}
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "u3"}},
                         UpdateExpression="SET tags = :t, n = :n",
                         ExpressionAttributeValues={":t": {"SS": ["a"]}, ":n": {"N": "1"}})
    assert _get(dynamodb, "u3")["tags"] == {"SS": ["a"]}


def test_cached_add_updates_add_each_call_s_own_values(dynamodb):
    # GIVEN counters and a set updated by the same ADD expression (cache hits after the first)
    for pk, n, tag in (("a1", "1", "x"), ("a2", "5", "y"), ("a1", "2", "z"), ("a2", "5", "y")):
        dynamodb.update_item(TableName="t", Key={"pk": {"S": pk}},
                             UpdateExpression="ADD n :n, tags :t SET seen = :at",
                             ExpressionAttributeValues={":n": {"N": n}, ":t": {"SS": [tag]},
                                                        ":at": {"S": pk}})
    # THEN each item holds its own sums and members, nothing shared between them
    assert _get(dynamodb, "a1") == {"pk": {"S": "a1"}, "n": {"N": "3"},
                                    "tags": {"SS": ["x", "z"]}, "seen": {"S": "a1"}}
    assert _get(dynamodb, "a2") == {"pk": {"S": "a2"}, "n": {"N": "10"},
                                    "tags": {"SS": ["y"]}, "seen": {"S": "a2"}}


def test_invalid_updates_are_refused_every_time(dynamodb):
    for _ in range(2):  # a refused validation is never served from a cache
        with pytest.raises(ClientError) as error:
            dynamodb.update_item(TableName="t", Key={"pk": {"S": "k1"}},
                                 UpdateExpression="SET pk = :x",
                                 ExpressionAttributeValues={":x": {"S": "other"}})
        assert error.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(ClientError):
            dynamodb.update_item(TableName="t", Key={"pk": {"S": "k1"}},
                                 UpdateExpression="SET a = :missing",
                                 ExpressionAttributeValues={":x": {"S": "x"}})
    assert _get(dynamodb, "k1") is None


def test_the_item_size_limit_is_where_it_was(dynamodb):
    # moto's limit: 405,000 bytes of names and values
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "big"}, "b": {"S": "x" * 404_000}})
    with pytest.raises(ClientError) as error:
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "big2"}, "b": {"S": "x" * 406_000}})
    assert error.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):  # an update that pushes it over
        dynamodb.update_item(TableName="t", Key={"pk": {"S": "big"}},
                             UpdateExpression="SET c = :c",
                             ExpressionAttributeValues={":c": {"S": "y" * 2_000}})
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "big"}}, UpdateExpression="SET c = :c",
                         ExpressionAttributeValues={":c": {"S": "y" * 100}})
    assert _get(dynamodb, "big")["c"] == {"S": "y" * 100}
    assert _get(dynamodb, "big2") is None


def test_a_cancelled_transaction_restores_overwritten_and_deleted_items(dynamodb):
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "r1"}, "v": {"N": "1"}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "r2"}, "v": {"N": "2"}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "r3"}, "v": {"N": "3"}, "l": {"L": []}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "r1"}, "v": {"N": "10"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "r2"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "r3"}},
                        "UpdateExpression": "SET v = :v, l = list_append(l, :x)",
                        "ExpressionAttributeValues": {":v": {"N": "30"},
                                                      ":x": {"L": [{"S": "z"}]}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "nope"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
    assert _get(dynamodb, "r1") == {"pk": {"S": "r1"}, "v": {"N": "1"}}
    assert _get(dynamodb, "r2") == {"pk": {"S": "r2"}, "v": {"N": "2"}}
    assert _get(dynamodb, "r3") == {"pk": {"S": "r3"}, "v": {"N": "3"}, "l": {"L": []}}
    # and the restored items take further writes as any other
    dynamodb.update_item(TableName="t", Key={"pk": {"S": "r3"}}, UpdateExpression="SET v = :v",
                         ConditionExpression="v = :old",
                         ExpressionAttributeValues={":v": {"N": "4"}, ":old": {"N": "3"}})
    assert _get(dynamodb, "r3")["v"] == {"N": "4"}


def test_a_stream_still_gets_the_old_image_of_an_update():
    # update_item skips its copy of the old item only on tables without a stream
    server = EmbeddedAws().start()
    try:
        kw = dict(endpoint_url=server.url, region_name="us-east-1",
                  aws_access_key_id="t", aws_secret_access_key="t")
        client = boto3.client("dynamodb", **kw)
        table = client.create_table(
            TableName="s", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        client.put_item(TableName="s", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        client.update_item(TableName="s", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": {"N": "2"}})
        streams = boto3.client("dynamodbstreams", **kw)
        arn = table["TableDescription"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        modify = [r["dynamodb"] for r in records if r["eventName"] == "MODIFY"]
        assert modify[0]["OldImage"]["v"] == {"N": "1"}
        assert modify[0]["NewImage"]["v"] == {"N": "2"}
    finally:
        server.stop()


def test_base_table_queries_answer_as_a_full_walk_would():
    # GIVEN a partition with numeric and string range keys, written, deleted and
    # rolled back in between queries (the sorted keys are kept incrementally)
    server = EmbeddedAws().start()
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="t", aws_secret_access_key="t")
        for name, kind in (("qs", "S"), ("qn", "N")):
            client.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": kind}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}])

        def sk(name, n):
            return ({"S": ("A#" if n % 3 == 0 else "L#") + f"{n:03d}"} if name == "qs"
                    else {"N": str(n - 20)})

        def expected(name, cond, forward):
            items = client.scan(TableName=name, FilterExpression="pk = :p",
                                ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
            keys = sorted((i["sk"] for i in items),
                          key=lambda k: k.get("S") or float(k.get("N", 0)))
            keys = [k for k in keys if cond(k.get("S") or float(k.get("N", 0)))]
            return keys if forward else keys[::-1]

        def paged(name, expression, values, forward, limit):
            got, start = [], None
            while True:
                kwargs = {"ExclusiveStartKey": start} if start else {}
                page = client.query(TableName=name, KeyConditionExpression=expression,
                                    ExpressionAttributeValues={":p": {"S": "p"}, **values},
                                    ScanIndexForward=forward, Limit=limit, **kwargs)
                got += [i["sk"] for i in page["Items"]]
                start = page.get("LastEvaluatedKey")
                if not start:
                    return got

        cases = {
            "qs": [("pk = :p", {}, lambda k: True),
                   ("pk = :p AND begins_with(sk, :x)", {":x": {"S": "L#"}},
                    lambda k: k.startswith("L#")),
                   ("pk = :p AND sk BETWEEN :a AND :b",
                    {":a": {"S": "A#010"}, ":b": {"S": "L#020"}},
                    lambda k: "A#010" <= k <= "L#020"),
                   ("pk = :p AND sk > :a", {":a": {"S": "L#030"}}, lambda k: k > "L#030"),
                   ("pk = :p AND sk <= :a", {":a": {"S": "A#012"}}, lambda k: k <= "A#012"),
                   ("pk = :p AND sk = :a", {":a": {"S": "L#004"}}, lambda k: k == "L#004")],
            "qn": [("pk = :p AND sk >= :a", {":a": {"N": "-3"}}, lambda k: k >= -3),
                   ("pk = :p AND sk < :a", {":a": {"N": "5"}}, lambda k: k < 5)],
        }
        rounds = [range(0, 40, 2), range(1, 40, 4), range(0, 40, 6)]
        for n_round, numbers in enumerate(rounds):
            for name in cases:
                if n_round < 2:
                    for n in numbers:
                        client.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": sk(name, n)})
                else:
                    for n in numbers:
                        client.delete_item(TableName=name,
                                           Key={"pk": {"S": "p"}, "sk": sk(name, n)})
                with pytest.raises(ClientError):  # a cancelled put and delete leave no trace
                    client.transact_write_items(TransactItems=[
                        {"Put": {"TableName": name,
                                 "Item": {"pk": {"S": "p"}, "sk": sk(name, 99)}}},
                        {"Delete": {"TableName": name,
                                    "Key": {"pk": {"S": "p"}, "sk": sk(name, 1)}}},
                        {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "none"},
                                                                        "sk": sk(name, 0)},
                                            "ConditionExpression": "attribute_exists(pk)"}}])
                # WHEN queried with every kind of key condition, both ways, page by page
                for expression, values, cond in cases[name]:
                    for forward in (True, False):
                        for limit in (1, 3, 50):
                            # THEN each answer is the brute-force one
                            assert (paged(name, expression, values, forward, limit)
                                    == expected(name, cond, forward)), (name, expression, forward)
    finally:
        server.stop()


def _walked(operation, body):
    """moto's model walker on a DynamoDB request body (what the JSON fast path replaces)."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model(operation)
    parser = PROTOCOL_PARSERS["json"](model, map_type=dict)
    return parser.parse({"method": "POST", "values": {}, "headers": {}, "body": body,
                         "url_path": "/", "url_params": {}})


ITEM = {"pk": {"S": "a"}, "n": {"N": "1.50"}, "t": {"BOOL": False}, "z": {"NULL": True},
        "l": {"L": [{"S": "x"}, {"M": {"k": {"NS": ["1", "2"]}}}]}, "ss": {"SS": ["p", "q"]},
        "text": {"S": 'a "B": lookalike \\u00e9'}}
REQUESTS = {
    "PutItem": {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValues": "NONE"},
    "GetItem": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "ConsistentRead": True,
                "ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": "n"}},
    "UpdateItem": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :n",
                   "ExpressionAttributeValues": {":n": {"N": "2"}}, "ReturnValues": "ALL_NEW"},
    "DeleteItem": {"TableName": "t", "Key": {"pk": {"S": "a"}}},
    "BatchWriteItem": {"RequestItems": {"t": [{"PutRequest": {"Item": ITEM}},
                                              {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]}},
    "BatchGetItem": {"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}], "ConsistentRead": True}}},
    "TransactWriteItems": {"TransactItems": [
        {"Put": {"TableName": "t", "Item": ITEM}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "c"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "d"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]},
    "TransactGetItems": {"TransactItems": [{"Get": {"TableName": "t", "Key": {"pk": {"S": "a"}}}}]},
    "Query": {"TableName": "t", "KeyConditionExpression": "pk = :p", "Limit": 5,
              "ScanIndexForward": False, "ExclusiveStartKey": {"pk": {"S": "a"}},
              "ExpressionAttributeValues": {":p": {"S": "a"}}},
    "Scan": {"TableName": "t", "Segment": 0, "TotalSegments": 2, "FilterExpression": "n > :z",
             "ExpressionAttributeValues": {":z": {"N": "0"}}},
}


@pytest.mark.parametrize("operation", sorted(REQUESTS))
def test_item_requests_read_as_plain_json_equal_moto_s_reading(operation):
    from tools.moto_speed import _BINARY

    body = json.dumps(REQUESTS[operation]).encode()
    assert not _BINARY.search(body)  # the fast path takes it
    assert json.loads(body) == _walked(operation, body)


def test_a_binary_value_still_goes_through_moto_s_reading(dynamodb):
    # B values are base64 on the wire and bytes in moto: the walker decodes them
    body = json.dumps(REQUESTS["PutItem"] | {"Item": {"pk": {"S": "bin"},
                                                      "b": {"B": "AAE="}}}).encode()
    from tools.moto_speed import _BINARY

    assert _BINARY.search(body)
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "bin"}, "b": {"B": b"\x00\x01"}})
    assert _get(dynamodb, "bin")["b"] == {"B": b"\x00\x01"}


# --- GSI queries read their own index partition ---------------------------------

GSI_TABLE = "g"
GSIS = {"by_status": "KEYS_ONLY", "by_status_all": "ALL"}


@pytest.fixture(scope="module")
def gsi_client():
    server = EmbeddedAws().start()
    client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id="t", aws_secret_access_key="t")
    client.create_table(
        TableName=GSI_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                              for a in ("pk", "sk", "ix_status", "ix_tag")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_status", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "ix_status", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}]},
            {"IndexName": "by_status_all", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "ix_status", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}]},
            {"IndexName": "by_tag", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "ix_tag", "KeyType": "HASH"}]}])
    yield client
    server.stop()


def _lead(n, status=None, tag=None, **extra):
    item = {"pk": {"S": f"LEAD#L1#{n % 2}"}, "sk": {"S": f"L#{n:03d}"}, "name": {"S": f"n{n}"}}
    if status:
        item["ix_status"] = {"S": f"L1#{n % 2}#{status}"}
    if tag:
        item["ix_tag"] = {"S": tag}
    return {**item, **extra}


def _key(n):
    return {"pk": {"S": f"LEAD#L1#{n % 2}"}, "sk": {"S": f"L#{n:03d}"}}


def _gsi_query(client, index, attr, value, forward=True):
    """Every item of one index partition, page by page (3 a page)."""
    items, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = client.query(TableName=GSI_TABLE, IndexName=index, Limit=3,
                            ScanIndexForward=forward, KeyConditionExpression="#h = :v",
                            ExpressionAttributeNames={"#h": attr},
                            ExpressionAttributeValues={":v": {"S": value}}, **kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _expected(client, index, attr, value, forward=True):
    """What a GSI query must return, from a full Scan: brute force, no index involved."""
    scanned = client.scan(TableName=GSI_TABLE, FilterExpression="#h = :v",
                          ExpressionAttributeNames={"#h": attr},
                          ExpressionAttributeValues={":v": {"S": value}})["Items"]
    scanned.sort(key=lambda i: (i["sk"]["S"], i["pk"]["S"]), reverse=not forward)
    if index == "by_status_all":
        return scanned
    return [{k: v for k, v in i.items() if k in ("pk", "sk", attr)} for i in scanned]


def _partition_sizes(attr):
    """Candidates the patched query looks at per partition (proves it reads one partition)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    from tools.moto_gsi import gsi_partition_candidates

    table = dynamodb_backends["123456789012"]["us-east-1"].tables[GSI_TABLE]
    index = "by_status" if attr == "ix_status" else "by_tag"
    return lambda value: len(gsi_partition_candidates(
        table, index, [(attr, DynamoType({"S": value}))]) or [])


STATUS_VALUES = [f"L1#{s}#{v}" for s in (0, 1) for v in ("new", "won", "lost")]


def _check_every_partition(client):
    size = _partition_sizes("ix_status")
    for value in STATUS_VALUES:
        for index in ("by_status", "by_status_all"):
            for forward in (True, False):
                assert (_gsi_query(client, index, "ix_status", value, forward)
                        == _expected(client, index, "ix_status", value, forward)), (index, value)
        assert size(value) == len(_expected(client, "by_status", "ix_status", value))
    for tag in ("vip", "cold"):
        assert (_gsi_query(client, "by_tag", "ix_tag", tag)
                == _expected(client, "by_tag", "ix_tag", tag))


def test_gsi_queries_follow_every_write_path(gsi_client):
    client = gsi_client
    # GIVEN leads in a sparse index: some with a status key, some without
    for n in range(12):
        client.put_item(TableName=GSI_TABLE, Item=_lead(
            n, status="new" if n % 3 else None, tag="vip" if n % 4 == 0 else None))
    _check_every_partition(client)
    assert _partition_sizes("ix_status")("L1#0#new") == 4  # one partition, not the table

    # WHEN an update changes the index key, the item moves between partitions
    client.update_item(TableName=GSI_TABLE, Key=_key(1), UpdateExpression="SET ix_status = :s",
                       ExpressionAttributeValues={":s": {"S": "L1#1#won"}})
    # ... an update gives an unindexed item a key, another removes one (leaves the index)
    client.update_item(TableName=GSI_TABLE, Key=_key(3), UpdateExpression="SET ix_status = :s",
                       ExpressionAttributeValues={":s": {"S": "L1#1#lost"}})
    client.update_item(TableName=GSI_TABLE, Key=_key(2), UpdateExpression="REMOVE ix_status")
    # ... an update creating a new item, and a failed conditional update change nothing else
    client.update_item(TableName=GSI_TABLE, Key=_key(20), UpdateExpression="SET ix_status = :s",
                       ExpressionAttributeValues={":s": {"S": "L1#0#won"}})
    with pytest.raises(ClientError):
        client.update_item(TableName=GSI_TABLE, Key=_key(4), UpdateExpression="SET ix_status = :s",
                           ConditionExpression="attribute_not_exists(pk)",
                           ExpressionAttributeValues={":s": {"S": "L1#0#lost"}})
    _check_every_partition(client)

    # WHEN items are deleted, or overwritten by a put without the index key
    client.delete_item(TableName=GSI_TABLE, Key=_key(5))
    client.put_item(TableName=GSI_TABLE, Item=_lead(7))
    client.put_item(TableName=GSI_TABLE, Item=_lead(8, status="lost", tag="cold"))
    _check_every_partition(client)

    # WHEN a transaction moves two items and adds one, then is cancelled
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": GSI_TABLE, "Item": _lead(30, status="won")}},
            {"Update": {"TableName": GSI_TABLE, "Key": _key(10),
                        "UpdateExpression": "SET ix_status = :s",
                        "ExpressionAttributeValues": {":s": {"S": "L1#0#lost"}}}},
            {"Delete": {"TableName": GSI_TABLE, "Key": _key(11)}},
            {"Put": {"TableName": GSI_TABLE, "Item": _lead(9, status="won"),
                     "ConditionExpression": "attribute_not_exists(pk)"}}])
    # THEN the index is as before it (rolled back with the items)
    _check_every_partition(client)
    assert _partition_sizes("ix_status")("L1#0#won") == 1  # lead 20 only

    # WHEN the same transaction, without the failing item, succeeds
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": GSI_TABLE, "Item": _lead(30, status="won")}},
        {"Update": {"TableName": GSI_TABLE, "Key": _key(10),
                    "UpdateExpression": "SET ix_status = :s",
                    "ExpressionAttributeValues": {":s": {"S": "L1#0#lost"}}}},
        {"Delete": {"TableName": GSI_TABLE, "Key": _key(11)}}])
    _check_every_partition(client)

    # WHEN batch writes overwrite, add and delete
    client.batch_write_item(RequestItems={GSI_TABLE: [
        {"PutRequest": {"Item": _lead(4, status="won", tag="cold")}},
        {"PutRequest": {"Item": _lead(6)}},
        {"PutRequest": {"Item": _lead(40, status="new", tag="vip")}},
        {"DeleteRequest": {"Key": _key(10)}}]})
    # THEN every partition of every index still equals the brute-force answer
    _check_every_partition(client)


def test_a_cached_set_still_checks_index_key_types_and_emptiness(gsi_client):
    # GIVEN the same SET on an index key attribute validated (and cached) once
    key = {"pk": {"S": "LEAD#L9#0"}, "sk": {"S": "L#900"}}
    for value in ("L9#0#new", "L9#0#won"):
        gsi_client.update_item(TableName=GSI_TABLE, Key=key, UpdateExpression="SET ix_status = :s",
                               ExpressionAttributeValues={":s": {"S": value}})
    # WHEN the value has the wrong type, or is an empty string, THEN it is refused as before
    for bad in ({"N": "1"}, {"S": ""}):
        with pytest.raises(ClientError) as error:
            gsi_client.update_item(TableName=GSI_TABLE, Key=key,
                                   UpdateExpression="SET ix_status = :s",
                                   ExpressionAttributeValues={":s": bad})
        assert error.value.response["Error"]["Code"] == "ValidationException"
    item = gsi_client.get_item(TableName=GSI_TABLE, Key=key)["Item"]
    assert item["ix_status"] == {"S": "L9#0#won"}


def test_gsi_added_later_is_indexed_from_existing_items(gsi_client):
    # GIVEN items written before a GSI exists on their table
    client = gsi_client
    client.create_table(
        TableName="late", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    for n in range(6):
        client.put_item(TableName="late", Item={"pk": {"S": f"p{n}"}, "c": {"S": f"c{n % 2}"}})
    # WHEN the index is added and queried
    client.update_table(
        TableName="late",
        AttributeDefinitions=[{"AttributeName": "c", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_c", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}]}}])
    found = client.query(TableName="late", IndexName="by_c", KeyConditionExpression="c = :c",
                         ExpressionAttributeValues={":c": {"S": "c1"}})["Items"]
    # THEN it holds the items written before it, and the ones written after
    assert sorted(i["pk"]["S"] for i in found) == ["p1", "p3", "p5"]
    client.put_item(TableName="late", Item={"pk": {"S": "p7"}, "c": {"S": "c1"}})
    client.delete_item(TableName="late", Key={"pk": {"S": "p1"}})
    found = client.query(TableName="late", IndexName="by_c", KeyConditionExpression="c = :c",
                         ExpressionAttributeValues={":c": {"S": "c1"}})["Items"]
    assert sorted(i["pk"]["S"] for i in found) == ["p3", "p5", "p7"]
    # WHEN the table is dropped and made again under the same name, nothing old shows
    client.delete_table(TableName="late")
    client.create_table(
        TableName="late", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_c", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}]}])
    assert client.query(TableName="late", IndexName="by_c", KeyConditionExpression="c = :c",
                        ExpressionAttributeValues={":c": {"S": "c1"}})["Items"] == []


# --- S3 POST uploads: the policy is enforced as on AWS ---------------------------

BUCKET = "uploads-test"
KEY = "uploads/im_a/leads.csv"


@pytest.fixture(scope="module")
def s3_url():
    server = EmbeddedAws().start()
    boto3.client("s3", endpoint_url=server.url, region_name="us-east-1") \
        .create_bucket(Bucket=BUCKET)
    yield server.url
    server.stop()


@pytest.fixture
def files(s3_url, monkeypatch):
    """The app's own S3 adapter, presigning against the embedded AWS."""
    from chalicelib.adapters.s3_files import S3Files

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_url)
    return S3Files(BUCKET, "us-east-1")


def _post(form, data, **fields):
    return requests.post(form["url"], data={**form["fields"], **fields},
                         files={"file": ("leads.csv", data)}, timeout=10)


def _stored(files, key=KEY):
    return files.get_bytes(key)


def test_a_valid_presigned_upload_is_stored(files):
    # GIVEN a form for exactly KEY, 1 to 100 bytes
    form = files.presigned_post(KEY, max_bytes=100, expires=60)
    # WHEN a file of exactly the limit is posted with it
    response = _post(form, b"x" * 100)
    # THEN S3 stores it
    assert response.status_code == 204, response.text
    assert _stored(files) == b"x" * 100
    files.delete(KEY)


def _tampered(form):
    """The form's policy with a size limit of 1 GB, under the old signature."""
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [["content-length-range", 1, 10**9] if isinstance(c, list) else c
                            for c in policy["conditions"]]
    return base64.b64encode(json.dumps(policy).encode()).decode()


@pytest.mark.parametrize(("case", "status", "code", "message"), [
    ("another key", 403, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["eq", "$key", '
     '"uploads/im_a/leads.csv"]'),
    ("too large", 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
    ("empty", 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed"),
    ("expired", 403, "AccessDenied", "Invalid according to Policy: Policy expired."),
    ("tampered policy", 403, "SignatureDoesNotMatch",
     "The request signature we calculated does not match the signature you provided"),
    ("unknown access key", 403, "InvalidAccessKeyId",
     "The AWS Access Key Id you provided does not exist in our records."),
    ("extra field", 403, "AccessDenied",
     "Invalid according to Policy: Extra input fields: x-amz-meta-owner"),
    ("no policy", 403, "AccessDenied", "Access Denied"),
])
def test_a_post_upload_aws_would_refuse_is_refused(files, monkeypatch, case, status, code,
                                                   message):
    # GIVEN a form for KEY, 1 to 100 bytes, valid for a minute
    form = files.presigned_post(KEY, max_bytes=100, expires=60)
    data, fields = b"email\nada@example.com\n", {}
    # WHEN it is misused in one way
    if case == "another key":
        fields = {"key": "uploads/im_b/leads.csv"}
    elif case == "too large":
        data = b"x" * 101
    elif case == "empty":
        data = b""
    elif case == "expired":
        form = files.presigned_post(KEY, max_bytes=100, expires=-1)
    elif case == "tampered policy":
        fields, data = {"policy": _tampered(form)}, b"x" * 1000
    elif case == "unknown access key":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASOMEONEELSE")
        form = type(files)(BUCKET, "us-east-1").presigned_post(KEY, max_bytes=100, expires=60)
    elif case == "extra field":
        fields = {"x-amz-meta-owner": "mallory"}
    elif case == "no policy":
        form = {"url": form["url"], "fields": {"key": KEY}}
    response = _post(form, data, **fields)
    # THEN S3 refuses it as AWS does, and stores nothing
    assert response.status_code == status, response.text
    assert f"<Code>{code}</Code>" in response.text
    assert message in response.text
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # read the stored objects as the test identity
    assert _stored(files) is None and _stored(files, "uploads/im_b/leads.csv") is None


def test_delete_objects_is_still_a_post_that_works(files):
    files.put_bytes(KEY, b"a")
    files.client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": KEY}]})
    assert _stored(files) is None


def test_sqs_delays_and_visibility_hold_with_the_fast_clock():
    """tools/moto_sqs.py: a delayed message waits its delay; a received one stays
    invisible for its visibility timeout, then comes back."""
    import time

    server = EmbeddedAws().start()
    try:
        sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="t", aws_secret_access_key="t")
        url = sqs.create_queue(QueueName="fast-clock")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
        sqs.send_message(QueueUrl=url, MessageBody="now")
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1)
        assert [m["Body"] for m in first["Messages"]] == ["now"]
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        time.sleep(1.2)
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        assert sorted(m["Body"] for m in again["Messages"]) == ["later", "now"]
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    finally:
        server.stop()

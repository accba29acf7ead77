"""The embedded AWS: DynamoDB's transaction semantics with item-level rollback, S3's POST policy."""

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

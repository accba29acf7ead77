"""Create leadpipe's table, bucket and queues from `chalicelib.resources.STACK`.

Used by the local stack (against moto) and by tests. Production resources come
from `infra/` (CDK), which reads the same STACK, so both describe one shape.

Every step checks what exists first, so running it again is harmless and also
brings a drifted queue (e.g. an edited visibility timeout) back to the
definition.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.config import Settings
from chalicelib.resources import STACK, IndexDef, QueueDef, dlq_name, key_alias, resource_name

log = logging.getLogger(__name__)

# boto3 clients are generated at runtime and the project ships no stubs for them.
AwsClient = Any

# SQS's maximum. A DLQ exists so that someone can look at what failed; the
# 4-day default could expire messages before anyone does.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


def provision(
    settings: Settings,
    *,
    dynamodb_client: AwsClient,
    s3_client: AwsClient,
    sqs_client: AwsClient,
    kms_client: AwsClient | None = None,
) -> None:
    """Create (or confirm) every resource of STACK for `settings.stage`."""
    _ensure_table(dynamodb_client, settings.table_name)
    _ensure_bucket(s3_client, settings.bucket_name)
    for queue in STACK.queues:
        _ensure_queue_with_dlq(sqs_client, settings.stage, queue)
    _ensure_upload_notification(s3_client, sqs_client, settings)
    if kms_client is not None:
        _ensure_key(kms_client, key_alias(settings.stage))


def _ensure_key(kms_client: AwsClient, alias: str) -> None:
    """The symmetric key behind `alias` that encrypts connections' credentials."""
    aliases = kms_client.list_aliases().get("Aliases", [])
    if any(a.get("AliasName") == alias and a.get("TargetKeyId") for a in aliases):
        return
    key_id = kms_client.create_key(Description="leadpipe connection secrets",
                                   KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    kms_client.create_alias(AliasName=alias, TargetKeyId=key_id)
    log.info("created KMS key %s", alias)


def _ensure_upload_notification(s3_client: AwsClient, sqs_client: AwsClient,
                                settings: Settings) -> None:
    """Uploads (ObjectCreated under the upload prefix) go to the uploads queue."""
    bucket = STACK.bucket
    url = queue_url(sqs_client, resource_name(settings.stage, bucket.notify_queue))
    s3_client.put_bucket_notification_configuration(
        Bucket=settings.bucket_name,
        NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": queue_arn(sqs_client, url),
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [
                {"Name": "prefix", "Value": bucket.upload_prefix}]}},
        }]},
    )
    log.info("bucket %s notifies %s of uploads", settings.bucket_name, bucket.notify_queue)


def queue_url(sqs_client: AwsClient, name: str) -> str:
    """URL of an existing queue (SQS APIs take URLs, humans use names)."""
    return str(sqs_client.get_queue_url(QueueName=name)["QueueUrl"])


def queue_arn(sqs_client: AwsClient, url: str) -> str:
    attributes = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _ensure_indexes(client: AwsClient, name: str) -> None:
    """Add the indexes a table made by an older version lacks (one per UpdateTable)."""
    present = {i["IndexName"] for i in client.describe_table(TableName=name)["Table"]
               .get("GlobalSecondaryIndexes", [])}
    for index in STACK.table.indexes:
        if index.name not in present:
            client.update_table(TableName=name, AttributeDefinitions=_attribute_definitions(),
                                GlobalSecondaryIndexUpdates=[{"Create": _index_spec(index)}])
            log.info("added index %s to %s", index.name, name)


def _index_spec(index: IndexDef) -> dict[str, Any]:
    return {"IndexName": index.name,
            "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                          {"AttributeName": STACK.table.sort_key, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}


def _attribute_definitions() -> list[dict[str, str]]:
    table = STACK.table
    names = [table.partition_key, table.sort_key, *(i.partition_key for i in table.indexes)]
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def _ensure_table(client: AwsClient, name: str) -> None:
    table = STACK.table
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=_attribute_definitions(),
            KeySchema=[
                {"AttributeName": table.partition_key, "KeyType": "HASH"},
                {"AttributeName": table.sort_key, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[_index_spec(i) for i in table.indexes],
            BillingMode="PAY_PER_REQUEST",
        )
        log.info("created table %s", name)
    except ClientError as exc:
        if _error_code(exc) != "ResourceInUseException":
            raise
        log.info("table %s already exists", name)
        _ensure_indexes(client, name)
    # TTL can only be set on an ACTIVE table. moto creates tables ACTIVE, so
    # the first describe already succeeds; the short delay is for real AWS.
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    ttl = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    already = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and (
        ttl.get("AttributeName") == table.ttl_attribute
    )
    if not already:
        # DynamoDB rejects enabling TTL twice, hence the check above.
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
        log.info("enabled TTL on %s.%s", name, table.ttl_attribute)


def _ensure_bucket(client: AwsClient, name: str) -> None:
    region = client.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": name}
    # us-east-1 is the one region that rejects an explicit LocationConstraint.
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
        log.info("created bucket %s", name)
    except ClientError as exc:
        if _error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
        log.info("bucket %s already exists", name)


def _ensure_queue_with_dlq(client: AwsClient, stage: str, queue: QueueDef) -> None:
    # The DLQ first: the main queue's RedrivePolicy must name an existing ARN.
    dlq_url = _ensure_queue(
        client, dlq_name(stage, queue), {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
    )
    redrive = {
        "deadLetterTargetArn": queue_arn(client, dlq_url),
        "maxReceiveCount": queue.max_receive_count,
    }
    _ensure_queue(
        client,
        resource_name(stage, queue.logical_name),
        {
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )


def _ensure_queue(client: AwsClient, name: str, attributes: dict[str, str]) -> str:
    """Create the queue, or set its attributes if it exists.

    CreateQueue on an existing queue with different attributes fails with
    QueueAlreadyExists, so an existing queue is updated instead: that keeps a
    second run harmless after a definition changed.
    """
    try:
        url = queue_url(client, name)
    except ClientError as exc:
        if _error_code(exc) not in (
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ):
            raise
        url = str(client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        log.info("created queue %s", name)
        return url
    client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    log.info("queue %s already exists; attributes set", name)
    return url


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))

"""Table, bucket, queues and the secrets key, each built from chalicelib/resources.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.resources import STACK, BucketDef, QueueDef, dlq_name, key_alias, resource_name
from infra.app_model import dlq_handler_timeout
from infra.stage import StageParams

# A message keeps its first enqueue time when it moves to the DLQ: the DLQ must
# keep messages longer than the queue, or a dead message expires on arrival.
QUEUE_RETENTION = Duration.days(4)
DLQ_RETENTION = Duration.days(14)  # SQS's maximum: time to inspect and redrive


class StackDefinitionError(ValueError):
    """resources.py describes something this stack cannot build safely."""


def lifecycle_days(bucket: BucketDef = STACK.bucket) -> Mapping[str, int]:
    days: Mapping[str, int] = dict(bucket.lifecycle_days)
    prefixes = (bucket.upload_prefix, *bucket.work_prefixes)
    missing = [p for p in prefixes if p not in days]
    if missing:
        # A new work prefix without an expiry would keep its files forever.
        raise StackDefinitionError(f"no lifecycle expiry for bucket prefixes {missing}")
    return days


def bucket_name(stage: str) -> str:
    # Bucket names are global across all AWS accounts: `leadpipe-dev-files`
    # alone may belong to someone else. The account id makes it ours; the
    # functions get the name through LEADPIPE_BUCKET (chalicelib/config.py).
    return f"{resource_name(stage, STACK.bucket.logical_name)}-{Aws.ACCOUNT_ID}"


@dataclass
class DataStores:
    table: dynamodb.Table
    bucket: s3.Bucket
    bucket_name: str
    # Keyed by QueueDef.logical_name, DLQs as "<logical>-dlq".
    queues: dict[str, sqs.Queue]
    dlqs: dict[str, sqs.Queue]
    # Encrypts connections' credentials, OAuth states and import tokens
    # (adapters/kms_secrets.py); the functions get its ARN as LEADPIPE_KMS_KEY_ID.
    key: kms.Key

    def queue(self, key: str) -> sqs.Queue:
        if key not in self.queues:
            raise StackDefinitionError(f"queue {key!r} is not in resources.py STACK.queues")
        return self.queues[key]


def build_data_stores(scope: Construct, params: StageParams,
                      consumed_dlqs: Mapping[str, int]) -> DataStores:
    """consumed_dlqs: QueueDef.logical_name -> timeout of the function consuming its DLQ."""
    table = _table(scope, params)
    queues: dict[str, sqs.Queue] = {}
    dlqs: dict[str, sqs.Queue] = {}
    for queue_def in STACK.queues:
        dlq = _dlq(scope, params, queue_def, consumed_dlqs.get(queue_def.logical_name))
        queue = sqs.Queue(
            scope, f"Queue{_camel(queue_def.logical_name)}",
            queue_name=resource_name(params.stage, queue_def.logical_name),
            # AWS: at least 6x the consumer's timeout, or a slow batch is
            # delivered twice while the first attempt is still running.
            visibility_timeout=Duration.seconds(queue_def.visibility_timeout_seconds),
            retention_period=QUEUE_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=queue_def.max_receive_count, queue=dlq),
        )
        queues[queue_def.logical_name] = queue
        queues[f"{queue_def.logical_name}-dlq"] = dlq
        dlqs[queue_def.logical_name] = dlq
    name = bucket_name(params.stage)
    bucket = _bucket(scope, params, name, queues)
    return DataStores(table=table, bucket=bucket, bucket_name=name, queues=queues, dlqs=dlqs,
                      key=_secrets_key(scope, params))


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))


def _table(scope: Construct, params: StageParams) -> dynamodb.Table:
    spec = STACK.table
    table = dynamodb.Table(
        scope, "Table",
        table_name=resource_name(params.stage, spec.logical_name),
        partition_key=dynamodb.Attribute(name=spec.partition_key,
                                         type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
        # Imports are bursty (2,680 WCU per 1,000 rows, then nothing): on-demand.
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        time_to_live_attribute=spec.ttl_attribute,
        deletion_protection=params.protect_data,
        removal_policy=params.removal_policy,
    )
    for index in spec.indexes:
        # Sparse, keys only: a lead filter reads keys here, then the leads.
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.partition_key,
                                             type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
    return table


def _secrets_key(scope: Construct, params: StageParams) -> kms.Key:
    """The customer-managed key sealing secrets, under alias/leadpipe-<stage>-secrets.

    Symmetric (KMS's default spec), rotated yearly by KMS. Its key policy is
    CDK's default, the account's root: IAM policies then decide, and each
    function's role allows only the actions and encryption-context purposes
    of its `Secrets` grants (policies.py). Retained in prod like the table: a
    deleted key makes every sealed credential unreadable.
    """
    return kms.Key(
        scope, "SecretsKey",
        alias=key_alias(params.stage),
        description=f"leadpipe {params.stage}: seals connections' credentials, OAuth states "
                    "and import tokens (encryption context: workspace, purpose)",
        enable_key_rotation=True,
        removal_policy=params.removal_policy,
    )


def _dlq(scope: Construct, params: StageParams, queue_def: QueueDef,
         consumer_timeout: int | None) -> sqs.Queue:
    # A DLQ consumed by an on_*_dead handler needs the same 6x rule; Lambda
    # refuses an event source whose queue hides messages for less than the
    # function's timeout.
    timeout = consumer_timeout or dlq_handler_timeout(queue_def)
    return sqs.Queue(
        scope, f"Queue{_camel(queue_def.logical_name)}Dlq",
        queue_name=dlq_name(params.stage, queue_def),
        retention_period=DLQ_RETENTION,
        visibility_timeout=Duration.seconds(timeout * 6),
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )


def _bucket(scope: Construct, params: StageParams, name: str,
            queues: Mapping[str, sqs.Queue]) -> s3.Bucket:
    spec = STACK.bucket
    rules = [s3.LifecycleRule(id=f"expire-{prefix.strip('/')}", prefix=prefix,
                              expiration=Duration.days(days))
             for prefix, days in lifecycle_days().items()]
    # A browser that abandons a large upload leaves parts behind: clean them.
    rules.append(s3.LifecycleRule(id="abort-incomplete-uploads",
                                  abort_incomplete_multipart_upload_after=Duration.days(1)))
    bucket = s3.Bucket(
        scope, "Files",
        bucket_name=name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        # From a browser (the web app) come only the presigned POST of an upload
        # and the fetch of a presigned error-report link (GET, after the API's
        # 303); everything else is server-side. Origins: stage parameter `cors_origins`.
        cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                          allowed_origins=list(params.cors_origins),
                          allowed_headers=["*"], max_age=3000)],
        lifecycle_rules=rules,
        removal_policy=params.removal_policy,
    )
    _notify_uploads(bucket, name, queues[spec.notify_queue], spec.upload_prefix)
    return bucket


def _notify_uploads(bucket: s3.Bucket, name: str, queue: sqs.Queue, prefix: str) -> None:
    """ObjectCreated under the upload prefix -> the notify queue (S3 -> SQS).

    Set on the CloudFormation bucket itself rather than with
    bucket.add_event_notification, which deploys a custom-resource Lambda whose
    role holds s3:PutBucketNotification on Resource "*".
    """
    # The queue policy names the bucket by its ARN string, not a reference, so
    # bucket -> queue policy -> bucket is no cycle. S3 checks it may send
    # when the notification is set: the bucket waits for the policy.
    source_arn = f"arn:{Aws.PARTITION}:s3:::{name}"
    queue.add_to_resource_policy(iam.PolicyStatement(
        sid="S3UploadNotifications",
        principals=[iam.ServicePrincipal("s3.amazonaws.com")],
        actions=["sqs:SendMessage"],
        resources=[queue.queue_arn],
        conditions={"ArnEquals": {"aws:SourceArn": source_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
    ))
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
        queue_configurations=[s3.CfnBucket.QueueConfigurationProperty(
            event="s3:ObjectCreated:*",
            queue=queue.queue_arn,
            filter=s3.CfnBucket.NotificationFilterProperty(
                s3_key=s3.CfnBucket.S3KeyFilterProperty(
                    rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=prefix)])),
        )])
    # The queue's one policy (TLS-only + the statement above), made by the Queue.
    queue_policy = queue.node.find_child("Policy")
    assert isinstance(queue_policy, sqs.QueuePolicy)
    cfn_policy = queue_policy.node.default_child
    assert isinstance(cfn_policy, sqs.CfnQueuePolicy)
    cfn_bucket.add_resource_dependency(cfn_policy)

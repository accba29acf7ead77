"""The one definition of leadpipe's AWS resources.

Both `infra/` (CDK) and the local stack (`tools/localstack.py`) build the
table, bucket and queues from these descriptions, so the two cannot drift.
Pure data: no boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How long an import's record and files (analysed copy, analysis with its
# preview, error report) are kept: S3 lifecycle rules and the DynamoDB TTL of
# the import's items both use it, so neither outlives the other by much.
IMPORT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class IndexDef:
    """A sparse global secondary index: string hash key, the table's `sk` as range key.

    KEYS_ONLY: a filter reads the matching keys from the index, then the
    leads themselves (strongly consistent), so nothing is projected twice.
    """

    name: str
    partition_key: str


@dataclass(frozen=True)
class TableDef:
    """A DynamoDB table with string `pk`/`sk` keys (single-table design)."""

    logical_name: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    ttl_attribute: str = "expires_at"
    # Lead filters answered by DynamoDB itself (docs/data-model.md, "Indexes").
    indexes: tuple[IndexDef, ...] = (
        IndexDef("status-index", "ix_status"),
        IndexDef("email-status-index", "ix_email"),
        IndexDef("source-index", "ix_source"),
        # A lead's list from its id alone (`POST /events` with {"lead": {"id"}}).
        IndexDef("lead-id-index", "ix_lead"),
        # A person's leads across the workspace's lists (docs/suppression.md).
        IndexDef("person-email-index", "px_email"),
        IndexDef("person-phone-index", "px_phone"),
        IndexDef("person-linkedin-index", "px_linkedin"),
    )


@dataclass(frozen=True)
class QueueDef:
    """An SQS queue consumed by one `on_sqs_message` handler, with its DLQ."""

    logical_name: str
    handler_timeout_seconds: int
    batch_size: int = 10
    max_receive_count: int = 5
    # The `on_<queue>_dead` handler's timeout (its DLQ's visibility is 6x this).
    dlq_handler_timeout_seconds: int = 60

    @property
    def visibility_timeout_seconds(self) -> int:
        # AWS advice for Lambda event sources: at least 6x the function timeout.
        return self.handler_timeout_seconds * 6


@dataclass(frozen=True)
class BucketDef:
    logical_name: str
    upload_prefix: str = "uploads/"
    # ObjectCreated under upload_prefix is sent to this queue (S3 → SQS, not
    # on_s3_event: `chalice package`/CDK cannot express the latter).
    notify_queue: str = "uploads"
    # Working files (chunks, error reports) expire by lifecycle rule.
    work_prefixes: tuple[str, ...] = ("files/", "analysis/", "chunks/", "errors/",
                                      "exports/")
    # Days after which objects under each prefix expire (infra's lifecycle rules).
    lifecycle_days: tuple[tuple[str, int], ...] = (
        ("uploads/", 1),    # a presigned form lives 15 min; analysis copies the file away
        ("files/", IMPORT_RETENTION_DAYS),     # the analysed copy, read by the splitter
        ("analysis/", IMPORT_RETENTION_DAYS),  # columns, mapping, preview (GET /imports/{id})
        ("chunks/", 7),     # rows in flight between splitter and chunk workers
        ("errors/", IMPORT_RETENTION_DAYS),    # the report behind GET /imports/{id}/errors
        ("exports/", 1),    # a background export's parts and file (its record lives a day)
    )


@dataclass(frozen=True)
class StackDef:
    table: TableDef
    bucket: BucketDef
    queues: tuple[QueueDef, ...] = field(default_factory=tuple)
    # KMS key (alias `alias/leadpipe-<stage>-<name>`) encrypting connections'
    # credentials: AWS KMS in a stage, moto's KMS in `make run` and tests.
    secrets_key: str = "secrets"


STACK = StackDef(
    table=TableDef(logical_name="data"),
    bucket=BucketDef(logical_name="files"),
    queues=(
        # Long-running list maintenance: purge of a deleted list, copy of a
        # duplicated list, bulk actions too large for one request.
        QueueDef(logical_name="jobs", handler_timeout_seconds=60, batch_size=1),
        # S3 ObjectCreated events for uploads: analyse the file, build the preview.
        QueueDef(logical_name="uploads", handler_timeout_seconds=120, batch_size=1),
        # One message per started import: stream the file into chunks.
        QueueDef(logical_name="splits", handler_timeout_seconds=900, batch_size=1,
                 max_receive_count=3),
        # One message per chunk of rows: validate, dedupe, save.
        QueueDef(logical_name="chunks", handler_timeout_seconds=120, batch_size=5),
        # Email verification: batches of leads (DNS per domain, then the leads'
        # verdicts) and list re-verification walks.
        QueueDef(logical_name="verify", handler_timeout_seconds=120, batch_size=1),
        # Webhook deliveries: one message per (endpoint, event) and attempt; a
        # batch's ten POSTs go out side by side, 10 s each at most.
        QueueDef(logical_name="webhooks", handler_timeout_seconds=60, batch_size=10),
    ),
)


def resource_name(stage: str, logical_name: str) -> str:
    """Physical name of a resource for a stage: `leadpipe-<stage>-<logical>`."""
    return f"leadpipe-{stage}-{logical_name}"


def key_alias(stage: str) -> str:
    return f"alias/{resource_name(stage, STACK.secrets_key)}"


def dlq_name(stage: str, queue: QueueDef) -> str:
    return resource_name(stage, f"{queue.logical_name}-dlq")

"""Environment → one frozen Settings, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.resources import STACK, key_alias, resource_name


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    bucket_name: str
    jobs_queue_name: str
    region: str
    lead_shards: int
    max_body_bytes: int
    max_batch_leads: int
    request_budget_seconds: float
    # Before indexing a list's leads for newly filterable fields, wait until
    # every writer that read the list before the change has finished (an API
    # request, an import chunk: 120 s at most), so none writes without them.
    index_settle_seconds: int
    max_upload_bytes: int
    upload_url_seconds: int
    chunk_rows: int
    # Email verification (docs/verification.md)
    dns_nameservers: str
    dns_timeout_seconds: float
    dns_retries: int
    dns_concurrency: int
    dns_min_ttl: int
    dns_max_ttl: int
    dns_unknown_ttl: int
    verify_retry_delays: tuple[int, ...]
    # Import watchdog: seconds without progress per stage, and resumes before
    # an import fails as stalled (services/import_watchdog.py).
    stall_seconds: tuple[float, float, float] = (900.0, 1800.0, 600.0)
    stall_resumes: int = 3
    # A handler holds its SQS messages this long, renewed while it runs
    # (adapters/sqs_heartbeat.py): a killed worker's messages return this soon.
    message_lease_seconds: int = 60
    # KMS key id or alias encrypting connections' credentials.
    kms_key_id: str = ""
    # Requests a workspace may make per minute (services/rate_limit.py); 0: no limit.
    rate_limit_per_minute: int = 600
    # A large error report's presigned download link lives this long: enough
    # to follow the 303, short because it names the report's personal data.
    report_url_seconds: int = 300
    # botocore checks every request against the API's shapes before sending it
    # (~15% of an import worker's CPU). The local stack turns it off for the
    # low-level DynamoDB client (LEADPIPE_BOTO_PARAM_VALIDATION=0, set by
    # tools/localstack.py): the embedded AWS refuses a malformed request anyway,
    # only with a different error. Deployed stages and in-process tests keep it.
    boto_parameter_validation: bool = True

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def queue_name(self, logical_name: str) -> str:
        return resource_name(self.stage, logical_name)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("LEADPIPE_STAGE", "local")
    return Settings(
        stage=stage,
        table_name=os.environ.get("LEADPIPE_TABLE")
        or resource_name(stage, STACK.table.logical_name),
        bucket_name=os.environ.get("LEADPIPE_BUCKET")
        or resource_name(stage, STACK.bucket.logical_name),
        jobs_queue_name=os.environ.get("LEADPIPE_JOBS_QUEUE") or resource_name(stage, "jobs"),
        region=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        # Leads of one list are spread over this many partition keys. Stored on
        # each list at creation, so changing it never strands existing leads.
        lead_shards=_int("LEADPIPE_LEAD_SHARDS", 16),
        max_body_bytes=_int("LEADPIPE_MAX_BODY_BYTES", 6 * 1024 * 1024),
        max_batch_leads=_int("LEADPIPE_MAX_BATCH_LEADS", 1000),
        # Long operations (copy, purge, bulk by filter) work this long inside a
        # request, then hand the rest to the jobs queue.
        request_budget_seconds=float(os.environ.get("LEADPIPE_REQUEST_BUDGET_SECONDS", "5")),
        index_settle_seconds=_int("LEADPIPE_INDEX_SETTLE_SECONDS", 150),
        # The seed products cap files at 10 MB; we stream, so this is a setting.
        max_upload_bytes=_int("LEADPIPE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        upload_url_seconds=_int("LEADPIPE_UPLOAD_URL_SECONDS", 900),
        # Rows per chunk message: big enough to batch DynamoDB calls, small
        # enough that a chunk finishes well inside its function's timeout.
        chunk_rows=_int("LEADPIPE_CHUNK_ROWS", 1000),
        # `host:port,...`; empty or "system": the resolvers of /etc/resolv.conf.
        dns_nameservers=os.environ.get("LEADPIPE_DNS_NAMESERVERS", ""),
        dns_timeout_seconds=float(os.environ.get("LEADPIPE_DNS_TIMEOUT_SECONDS", "2")),
        dns_retries=_int("LEADPIPE_DNS_RETRIES", 2),
        # Look-ups in flight per worker: past ~16 a Python worker is CPU-bound
        # on DNS messages, not waiting on the network (see the bench).
        dns_concurrency=_int("LEADPIPE_DNS_CONCURRENCY", 16),
        dns_min_ttl=_int("LEADPIPE_DNS_MIN_TTL", 3600),
        dns_max_ttl=_int("LEADPIPE_DNS_MAX_TTL", 86400),
        dns_unknown_ttl=_int("LEADPIPE_DNS_UNKNOWN_TTL", 60),
        # Delays before re-checking an unknown verdict; one try per entry
        # (SQS delays a message at most 900 s).
        verify_retry_delays=tuple(
            int(x) for x in os.environ.get("LEADPIPE_VERIFY_RETRY_DELAYS", "120,900,900").split(",")
            if x.strip()),
        stall_seconds=_stall_seconds(os.environ.get("LEADPIPE_STALL_SECONDS", "900,1800,600")),
        stall_resumes=_int("LEADPIPE_STALL_RESUMES", 3),
        message_lease_seconds=max(3, _int("LEADPIPE_MESSAGE_LEASE_SECONDS", 60)),
        kms_key_id=os.environ.get("LEADPIPE_KMS_KEY_ID") or key_alias(stage),
        rate_limit_per_minute=_int("LEADPIPE_RATE_LIMIT_PER_MINUTE", 600),
        report_url_seconds=_int("LEADPIPE_REPORT_URL_SECONDS", 300),
        boto_parameter_validation=os.environ.get("LEADPIPE_BOTO_PARAM_VALIDATION", "1") != "0",
    )


def _stall_seconds(raw: str) -> tuple[float, float, float]:
    """`analysing,splitting,chunks` seconds."""
    parts = [float(x) for x in raw.split(",")]
    if len(parts) != 3:
        raise ValueError("LEADPIPE_STALL_SECONDS is analysing,splitting,chunks seconds")
    return parts[0], parts[1], parts[2]

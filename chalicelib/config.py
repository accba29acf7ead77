"""Environment → one frozen Settings, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.resources import STACK, resource_name


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

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


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
    )

"""SQS handler for the jobs queue: one job per message, failures reported per item."""

from __future__ import annotations

from typing import Any

from chalicelib.bootstrap import services
from chalicelib.entrypoints.sqs_records import each_record


def handle_job_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    return each_record(records, services().jobs.run)

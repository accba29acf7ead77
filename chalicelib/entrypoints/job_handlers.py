"""SQS handler for the jobs queue: one job per message, failures reported per item."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.bootstrap import services
from chalicelib.domain.errors import LeadpipeError

logger = logging.getLogger("leadpipe.jobs")


def handle_job_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Run each job; return the ids that failed so only they are redelivered."""
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = record["messageId"]
        try:
            job = json.loads(record["body"])
            services().jobs.run(job)
        except (ValueError, KeyError, TypeError, LeadpipeError):
            # A job that can never succeed (bad body, list gone) is dropped,
            # not retried into the DLQ: log it without any lead data.
            logger.exception("dropping job message %s", message_id)
        except Exception:
            logger.exception("job message %s failed; it will be retried", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}

"""leadpipe's Chalice app: registers routes and event handlers, nothing else."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, SQSEvent

from chalicelib.config import get_settings
from chalicelib.entrypoints.api_routes import api
from chalicelib.entrypoints.http_support import rewrite_chalice_errors
from chalicelib.entrypoints.job_handlers import handle_job_records
from chalicelib.resources import STACK

app = Chalice(app_name="leadpipe")
app.register_blueprint(api)
app.register_middleware(rewrite_chalice_errors, "http")

_JOBS = next(q for q in STACK.queues if q.logical_name == "jobs")


@app.on_sqs_message(queue=get_settings().jobs_queue_name, batch_size=_JOBS.batch_size)
def on_job(event: SQSEvent) -> dict[str, Any]:
    return handle_job_records([record.to_dict() for record in event])

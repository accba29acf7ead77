"""leadpipe's Chalice app: registers routes and event handlers, nothing else."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CloudWatchEvent, Rate, SQSEvent

from chalicelib.config import get_settings
from chalicelib.domain.web_assets import BINARY_TYPES
from chalicelib.entrypoints import import_handlers as imports
from chalicelib.entrypoints.api_routes import api
from chalicelib.entrypoints.connection_routes import connections_api
from chalicelib.entrypoints.export_routes import exports_api
from chalicelib.entrypoints.http_support import rewrite_chalice_errors
from chalicelib.entrypoints.import_routes import imports_api
from chalicelib.entrypoints.job_handlers import handle_job_records
from chalicelib.entrypoints.outreach_routes import outreach_api
from chalicelib.entrypoints.people_routes import people_api
from chalicelib.entrypoints.schedule_handlers import (
    run_follow_ups_due,
    run_import_watchdog,
    run_sync_dispatcher,
)
from chalicelib.entrypoints.sync_routes import syncs_api
from chalicelib.entrypoints.token_routes import tokens_api
from chalicelib.entrypoints.verify_handlers import on_verify_dlq_records, on_verify_records
from chalicelib.entrypoints.web_routes import web_app
from chalicelib.entrypoints.webhook_handlers import on_webhook_dlq_records, on_webhook_records
from chalicelib.entrypoints.webhook_routes import webhooks_api
from chalicelib.resources import STACK, dlq_name

app = Chalice(app_name="leadpipe")
app.register_blueprint(api)
app.register_blueprint(imports_api)
app.register_blueprint(tokens_api)
app.register_blueprint(connections_api)
app.register_blueprint(syncs_api)
app.register_blueprint(exports_api)
app.register_blueprint(outreach_api)
app.register_blueprint(webhooks_api)
app.register_blueprint(people_api)
app.register_blueprint(web_app)
# The web app's files go out gzip-compressed: API Gateway must pass them as binary.
app.api.binary_types.extend(t for t in BINARY_TYPES if t not in app.api.binary_types)
app.register_middleware(rewrite_chalice_errors, "http")

_settings = get_settings()
_QUEUES = {q.logical_name: q for q in STACK.queues}


def _records(event: SQSEvent) -> list[dict[str, Any]]:
    return [record.to_dict() for record in event]


@app.on_sqs_message(queue=_settings.queue_name("jobs"), batch_size=_QUEUES["jobs"].batch_size)
def on_job(event: SQSEvent) -> dict[str, Any]:
    return handle_job_records(_records(event))


@app.on_sqs_message(queue=_settings.queue_name("uploads"),
                    batch_size=_QUEUES["uploads"].batch_size)
def on_upload(event: SQSEvent) -> dict[str, Any]:
    return imports.on_upload_records(_records(event))


@app.on_sqs_message(queue=_settings.queue_name("splits"), batch_size=_QUEUES["splits"].batch_size)
def on_split(event: SQSEvent) -> dict[str, Any]:
    return imports.on_split_records(_records(event))


@app.on_sqs_message(queue=_settings.queue_name("chunks"), batch_size=_QUEUES["chunks"].batch_size)
def on_chunk(event: SQSEvent) -> dict[str, Any]:
    return imports.on_chunk_records(_records(event))


@app.on_sqs_message(queue=_settings.queue_name("verify"), batch_size=_QUEUES["verify"].batch_size)
def on_verify(event: SQSEvent) -> dict[str, Any]:
    return on_verify_records(_records(event))


@app.on_sqs_message(queue=dlq_name(_settings.stage, _QUEUES["verify"]), batch_size=1)
def on_verify_dead(event: SQSEvent) -> dict[str, Any]:
    return on_verify_dlq_records(_records(event))


@app.on_sqs_message(queue=dlq_name(_settings.stage, _QUEUES["chunks"]), batch_size=1)
def on_chunk_dead(event: SQSEvent) -> dict[str, Any]:
    return imports.on_chunk_dlq_records(_records(event))


@app.on_sqs_message(queue=dlq_name(_settings.stage, _QUEUES["splits"]), batch_size=1)
def on_split_dead(event: SQSEvent) -> dict[str, Any]:
    return imports.on_split_dlq_records(_records(event))


@app.on_sqs_message(queue=dlq_name(_settings.stage, _QUEUES["uploads"]), batch_size=1)
def on_upload_dead(event: SQSEvent) -> dict[str, Any]:
    return imports.on_upload_dlq_records(_records(event))


@app.on_sqs_message(queue=_settings.queue_name("webhooks"),
                    batch_size=_QUEUES["webhooks"].batch_size)
def on_webhook(event: SQSEvent) -> dict[str, Any]:
    return on_webhook_records(_records(event))


@app.on_sqs_message(queue=dlq_name(_settings.stage, _QUEUES["webhooks"]), batch_size=1)
def on_webhook_dead(event: SQSEvent) -> dict[str, Any]:
    return on_webhook_dlq_records(_records(event))


# Every few minutes: imports whose progress stalled are resumed or failed
# (services/import_watchdog.py). EventBridge on AWS, the event pump locally.
@app.schedule(Rate(5, unit=Rate.MINUTES), name="import_watchdog")
def import_watchdog(event: CloudWatchEvent) -> dict[str, Any]:
    return run_import_watchdog()


# Every minute: syncs whose next run is due start one (services/syncs.py).
@app.schedule(Rate(1, unit=Rate.MINUTES), name="sync_dispatcher")
def sync_dispatcher(event: CloudWatchEvent) -> dict[str, Any]:
    return run_sync_dispatcher()


# Every minute: follow-ups whose time has come are marked due, once each
# (services/follow_ups.py).
@app.schedule(Rate(1, unit=Rate.MINUTES), name="follow_ups_due")
def follow_ups_due(event: CloudWatchEvent) -> dict[str, Any]:
    return run_follow_ups_due()

"""What the Chalice app deploys: its functions and the queue or schedule each one runs on.

Read from the app object itself (`app.event_sources`), so a handler added to
app.py flows into the stack, its IAM role and its alarms without an edit here.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from chalice.app import ScheduledEventConfig, ScheduleExpression, SQSEventConfig
from chalice.utils import to_cfn_resource_name

from chalicelib.resources import STACK, QueueDef, dlq_name, resource_name
from infra.stage import REPO_ROOT, chalice_stages

API_HANDLER = "api_handler"  # Chalice's name for the function behind all routes
# Timeout of a `<queue>-dlq` consumer (on_*_dead): it records a failure, nothing long.
DEFAULT_MEMORY_MB = 512
# Lambda's CPU share grows with memory. The splitter streams (peak RSS ~110 MB on
# a 213 MB CSV, README bench) but reads spreadsheets from /tmp with their
# libraries; analysis and chunk validation are row-bound: they get 1 GB.
MEMORY_MB = {"on_upload": 1024, "on_split": 1024, "on_chunk": 1024}
# Timeout of every @app.schedule handler (they consume no queue, so resources.py
# has none for them). The import watchdog pages through active imports and
# re-sends a few messages: well under its 5-minute period, so runs never overlap.
SCHEDULE_TIMEOUT_SECONDS = 120


class AppModelError(RuntimeError):
    """The Chalice app and chalicelib/resources.py disagree."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str                 # Chalice function name: "api_handler", "on_job"
    logical_id: str           # logical id in Chalice's SAM template: "APIHandler", "OnJob"
    queue: QueueDef | None    # the QueueDef whose queue (or DLQ) this function consumes
    consumes_dlq: bool        # True for on_*_dead: it consumes `queue`'s DLQ
    batch_size: int
    timeout_seconds: int
    memory_mb: int
    schedule: str | None = None  # @app.schedule: "rate(5 minutes)", "cron(...)"; queue None

    @property
    def consumed_queue_key(self) -> str | None:
        """Key of the consumed queue in the stack's queue map: "jobs" or "jobs-dlq"."""
        if self.queue is None:
            return None
        return f"{self.queue.logical_name}-dlq" if self.consumes_dlq else self.queue.logical_name


def dlq_handler_timeout(queue: QueueDef) -> int:
    return queue.dlq_handler_timeout_seconds


def load_chalice_app(stage: str) -> Any:
    """Import the project's app.py with LEADPIPE_STAGE=stage, as `chalice package` will.

    Chalice's construct imports `app` again (importlib.import_module("app")) and
    gets this module from sys.modules, so the queue names seen here and the ones
    in the packaged template are the same. One stage per process: settings are
    read once (chalicelib.config.get_settings is cached).
    """
    os.environ["LEADPIPE_STAGE"] = stage
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module("app")
    if os.path.realpath(module.__file__ or "") != os.path.realpath(REPO_ROOT / "app.py"):
        raise AppModelError(f"`import app` found {module.__file__}, not the project's app.py")
    from chalicelib.config import get_settings  # noqa: PLC0415 - after LEADPIPE_STAGE is set

    if get_settings().stage != stage:
        raise AppModelError(f"app was imported for stage {get_settings().stage!r}, not "
                            f"{stage!r}: synthesise one stage per process")
    return module.app


def function_specs(chalice_app: Any, stage: str) -> list[FunctionSpec]:
    """Every Lambda function the app deploys, with the queue or schedule it runs on."""
    by_queue_name: dict[str, tuple[QueueDef, bool]] = {}
    for queue in STACK.queues:
        by_queue_name[resource_name(stage, queue.logical_name)] = (queue, False)
        by_queue_name[dlq_name(stage, queue)] = (queue, True)
    specs: list[FunctionSpec] = []
    if chalice_app.routes:
        specs.append(FunctionSpec(API_HANDLER, "APIHandler", None, False, 0,
                                  _api_timeout(stage),
                                  MEMORY_MB.get(API_HANDLER, DEFAULT_MEMORY_MB)))
    for source in chalice_app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            specs.append(_schedule_spec(source))
            continue
        if not isinstance(source, SQSEventConfig):
            raise AppModelError(
                f"{source.name}: {type(source).__name__} is not deployed by infra/: only "
                "SQS event sources (on_sqs_message) and schedules (@app.schedule) are "
                "(S3 events reach a queue: see resources.BucketDef)")
        if source.queue not in by_queue_name:
            raise AppModelError(f"{source.name} consumes {source.queue!r}, which is not a "
                                "queue or DLQ of chalicelib/resources.py STACK.queues")
        queue, is_dlq = by_queue_name[source.queue]
        timeout = dlq_handler_timeout(queue) if is_dlq else queue.handler_timeout_seconds
        specs.append(FunctionSpec(source.name, to_cfn_resource_name(source.name), queue,
                                  is_dlq, source.batch_size, timeout,
                                  MEMORY_MB.get(source.name, DEFAULT_MEMORY_MB)))
    return specs


def _schedule_spec(source: ScheduledEventConfig) -> FunctionSpec:
    expression = source.schedule_expression
    if isinstance(expression, ScheduleExpression):
        expression = expression.to_string()
    return FunctionSpec(source.name, to_cfn_resource_name(source.name), None, False, 0,
                        SCHEDULE_TIMEOUT_SECONDS,
                        MEMORY_MB.get(source.name, DEFAULT_MEMORY_MB), schedule=expression)


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedule_period_seconds(expression: str) -> int | None:
    """Seconds between runs of a rate() schedule; None for cron()."""
    match = _RATE.match(expression)
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


API_GATEWAY_TIMEOUT = 29  # REST API integration timeout: the client has its 504 by then


def _api_timeout(stage: str) -> int:
    # The stage's lambda_timeout (.chalice/config.json), but never past the
    # gateway's 29 s: a function still running after that only costs money.
    configured = int(chalice_stages().get(stage, {}).get("lambda_timeout", API_GATEWAY_TIMEOUT))
    return min(configured, API_GATEWAY_TIMEOUT)

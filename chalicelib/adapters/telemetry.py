"""Structured logs and metrics with aws-lambda-powertools.

Logs are JSON (one object a line, CloudWatch Logs Insights reads them as
fields) and pass through `mask_pii` as a whole, message, extra keys and
tracebacks alike: an exception message quoting a cell cannot leak an email.
Metrics go out as CloudWatch embedded metric format (EMF) in the same log
stream: no PutMetricData calls, no extra IAM. POWERTOOLS_METRICS_DISABLED=true
(the local stack's default) keeps them out of a terminal.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.config import get_settings
from chalicelib.domain.pii import mask_pii

SERVICE = "leadpipe"


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: LogRecord) -> str:
        return mask_pii(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=MaskingFormatter())


class EmfMetrics:
    """Counts per invocation, flushed by the handler when its batch is done."""

    def __init__(self) -> None:
        self._metrics = Metrics(namespace=SERVICE, service=SERVICE)
        self._metrics.set_default_dimensions(stage=get_settings().stage)
        self._added = False
        # Disabled, powertools still collects (and never flushes): a long local
        # run would only grow. Then nothing is collected at all.
        self._disabled = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true"

    def add(self, name: str, value: float) -> None:
        if value and not self._disabled:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
            self._added = True

    def flush(self) -> None:
        if self._added:  # an empty flush only warns (most invocations count nothing)
            self._added = False
            self._metrics.flush_metrics()

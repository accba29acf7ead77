"""@app.schedule handlers: an EventBridge rule each, with a retry policy and a DLQ.

`chalice package` writes a schedule as a SAM event on the function
(`Events: {ImportWatchdogEvent: {Type: Schedule, Properties: {Schedule:
rate(5 minutes)}}}`); SAM would turn it into a rule whose target has
EventBridge's defaults (185 retries over 24 hours) and no dead-letter queue, so
an event it cannot deliver (function missing, permission gone, throttled) is
dropped without a trace. That event is removed here, and the rule is built in
CDK: same schedule, the function as target, bounded retries, an encrypted DLQ
that only this rule may send to, and the Lambda permission for this rule only.
EventBridge invokes the function with Lambda's resource policy, so the rule
needs no role; the function runs with its own (functions.py, policies.GRANTS).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sam as sam
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.resources import resource_name
from infra.app_model import FunctionSpec, schedule_period_seconds
from infra.data_stores import DLQ_RETENTION
from infra.functions import function_name
from infra.stage import StageParams

# Attempts to deliver one scheduled event after the first fails; EventBridge
# spaces them with back-off within the event's maximum age (below).
DELIVERY_RETRIES = 3
# A scheduled event is stale once the next one is due: the next run does the
# same work. cron() schedules (no fixed period) and long rates: one hour.
MAX_EVENT_AGE_SECONDS = 3600
MIN_EVENT_AGE_SECONDS = 60  # EventBridge's and Lambda's lower bound


def max_event_age_seconds(spec: FunctionSpec) -> int:
    period = schedule_period_seconds(spec.schedule or "") or MAX_EVENT_AGE_SECONDS
    return max(MIN_EVENT_AGE_SECONDS, min(period, MAX_EVENT_AGE_SECONDS))


def dlq_queue_name(stage: str, spec: FunctionSpec) -> str:
    return resource_name(stage, f"{spec.name}-dlq")  # leadpipe-dev-import_watchdog-dlq


def rule_name(stage: str, spec: FunctionSpec) -> str:
    # What `chalice deploy` would call it: leadpipe-dev-import_watchdog-event.
    return f"{function_name(stage, spec)}-event"


def build_schedules(scope: Construct, chalice: Chalice, specs: Sequence[FunctionSpec],
                    params: StageParams) -> dict[str, sqs.Queue]:
    """A rule per scheduled function; returns its DLQ by function name (for alarms)."""
    dlqs: dict[str, sqs.Queue] = {}
    for spec in specs:
        if spec.schedule is None:
            continue
        function = chalice.get_resource(spec.logical_id)
        assert isinstance(function, sam.CfnFunction)
        # Chalice gives a function one event source, so `Events` holds only the
        # SAM Schedule event replaced by the rule below.
        function.add_property_deletion_override("Events")
        max_age = max_event_age_seconds(spec)
        # EventBridge invokes asynchronously. Lambda would retry a failed run
        # twice, minutes later, possibly alongside the next scheduled run: no
        # retries (the next run is the retry; the Errors alarm reports the failure),
        # and an event queued behind throttling is dropped once the next is due.
        lambda_.CfnEventInvokeConfig(
            scope, f"{spec.logical_id}InvokeConfig", function_name=function.ref,
            qualifier="$LATEST", maximum_retry_attempts=0,
            maximum_event_age_in_seconds=max_age)
        dlq = sqs.Queue(
            scope, f"{spec.logical_id}Dlq", queue_name=dlq_queue_name(params.stage, spec),
            retention_period=DLQ_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
        # The SAM function by its ARN; same_environment lets the target add the
        # lambda:InvokeFunction permission (events.amazonaws.com, this rule only).
        target_function = lambda_.Function.from_function_attributes(
            scope, f"{spec.logical_id}Target",
            function_arn=function.get_att("Arn").to_string(), same_environment=True)
        events.Rule(
            scope, f"{spec.logical_id}Schedule",
            rule_name=rule_name(params.stage, spec),
            description=f"Runs {function_name(params.stage, spec)} on {spec.schedule}",
            schedule=events.Schedule.expression(spec.schedule),
            # The target also gives the DLQ a policy: events.amazonaws.com may
            # send to it only from this rule (aws:SourceArn).
            targets=[targets.LambdaFunction(
                target_function, retry_attempts=DELIVERY_RETRIES,
                max_event_age=Duration.seconds(max_age), dead_letter_queue=dlq)],
        )
        dlqs[spec.name] = dlq
    return dlqs

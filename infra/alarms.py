"""Alarms: a message in any DLQ (queues' and schedules'), errors or throttles of any function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.app_model import FunctionSpec
from infra.data_stores import _camel
from infra.functions import function_name
from infra.stage import StageParams


def build_alarms(scope: Construct, params: StageParams, dlqs: Mapping[str, sqs.Queue],
                 specs: Sequence[FunctionSpec],
                 schedule_dlqs: Mapping[str, sqs.Queue]) -> sns.Topic:
    """dlqs: by QueueDef.logical_name; schedule_dlqs: by scheduled function name."""
    topic = sns.Topic(scope, "AlarmTopic", display_name=f"leadpipe {params.stage} alarms",
                      enforce_ssl=True)
    if params.alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(params.alarm_email))
    notify = actions.SnsAction(topic)
    alarms: list[cloudwatch.Alarm] = []
    # Anything in a DLQ is work that failed max_receive_count times: a person
    # should look, even when an on_*_dead handler records it. In a schedule's
    # DLQ: a run EventBridge could not start, retries exhausted.
    described = [(f"Dlq{_camel(logical)}Alarm",
                  f"Messages in the {logical} dead-letter queue", dlq)
                 for logical, dlq in dlqs.items()]
    described += [(f"ScheduleDlq{_camel(name)}Alarm",
                   f"Scheduled runs of {name} that EventBridge could not deliver", dlq)
                  for name, dlq in schedule_dlqs.items()]
    for alarm_id, description, dlq in described:
        alarms.append(dlq.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum",
        ).create_alarm(
            scope, alarm_id,
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ))
    for spec in specs:
        name = function_name(params.stage, spec)
        for metric in ("Errors", "Throttles"):
            alarms.append(cloudwatch.Metric(
                namespace="AWS/Lambda", metric_name=metric,
                dimensions_map={"FunctionName": name},
                period=Duration.minutes(5), statistic="Sum",
            ).create_alarm(
                scope, f"{spec.logical_id}{metric}Alarm",
                alarm_description=f"{metric} of {name}",
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator
                .GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ))
    for alarm in alarms:
        alarm.add_alarm_action(notify)
    return topic

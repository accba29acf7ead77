"""The Chalice app's Lambda functions: one role, one log group and settings each.

Chalice's construct runs `chalice package` and includes its SAM template.
Chalice reads per-function settings (`lambda_functions`) only from
.chalice/config.json, not from the construct's `stage_config`, so timeouts,
memory, roles and the event source details are set here as overrides on the
included SAM resources, from the same FunctionSpec the policies come from.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sam as sam
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.resources import STACK, resource_name
from infra.app_model import FunctionSpec
from infra.data_stores import DataStores
from infra.policies import Grant, ListBucket, Objects, Secrets, Send, Table, grants_for
from infra.stage import StageParams

# Lambda's poller receives and deletes with the function's own role.
CONSUME_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                   "sqs:ChangeMessageVisibility")
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueUrl")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def function_name(stage: str, spec: FunctionSpec) -> str:
    # What `chalice deploy` would call it: leadpipe-dev-on_job.
    return resource_name(stage, spec.name)


def statements(spec: FunctionSpec, stores: DataStores,
               log_group: logs.ILogGroup) -> list[iam.PolicyStatement]:
    """The role's whole policy: the declared grants, its queue, its logs."""
    result = [_statement(grant, stores) for grant in grants_for(spec.name)]
    if spec.consumed_queue_key is not None:
        result.append(iam.PolicyStatement(
            actions=list(CONSUME_ACTIONS),
            resources=[stores.queue(spec.consumed_queue_key).queue_arn]))
    # The group exists before the function (CDK creates it with a retention):
    # no logs:CreateLogGroup, and no other function's group.
    result.append(iam.PolicyStatement(actions=list(LOG_ACTIONS),
                                      resources=[log_group.log_group_arn]))
    return result


def _statement(grant: Grant, stores: DataStores) -> iam.PolicyStatement:
    if isinstance(grant, Table):
        resources = [stores.table.table_arn]
        if "dynamodb:Query" in grant.actions:
            # Lead filters query the table's sparse indexes (resources.IndexDef).
            resources += [f"{stores.table.table_arn}/index/{index.name}"
                          for index in STACK.table.indexes]
        return iam.PolicyStatement(actions=list(grant.actions), resources=resources)
    if isinstance(grant, Objects):
        return iam.PolicyStatement(
            actions=list(grant.actions),
            resources=[stores.bucket.arn_for_objects(f"{p}*") for p in grant.prefixes])
    if isinstance(grant, ListBucket):
        return iam.PolicyStatement(actions=["s3:ListBucket"],
                                   resources=[stores.bucket.bucket_arn])
    if isinstance(grant, Send):
        return iam.PolicyStatement(actions=list(SEND_ACTIONS),
                                   resources=[stores.queue(q).queue_arn for q in grant.queues])
    if isinstance(grant, Secrets):
        # The key's ARN (what LEADPIPE_KMS_KEY_ID holds), and only with an
        # encryption context whose purpose is one the grant names.
        return iam.PolicyStatement(
            actions=list(grant.actions), resources=[stores.key.key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:purpose": list(grant.purposes)}})
    raise TypeError(f"unknown grant {grant!r}")


def configure_functions(scope: Construct, chalice: Chalice, specs: Sequence[FunctionSpec],
                        stores: DataStores, params: StageParams) -> None:
    for spec in specs:
        name = function_name(params.stage, spec)
        log_group = logs.LogGroup(
            scope, f"{spec.logical_id}Logs", log_group_name=f"/aws/lambda/{name}",
            retention=params.log_retention, removal_policy=params.removal_policy)
        role = iam.Role(
            scope, f"{spec.logical_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"leadpipe {params.stage} {spec.name}: its own grants only",
            # Inline, not a separate AWS::IAM::Policy: the function (and the
            # event source mapping SAM makes from it) then cannot be created
            # before its role may read the queue.
            inline_policies={"leadpipe": iam.PolicyDocument(
                statements=statements(spec, stores, log_group))},
        )
        function = chalice.get_resource(spec.logical_id)
        assert isinstance(function, sam.CfnFunction)
        function.add_property_override("FunctionName", name)
        function.add_property_override("Role", role.role_arn)
        function.add_property_override("Timeout", spec.timeout_seconds)
        function.add_property_override("MemorySize", spec.memory_mb)
        function.add_property_override("Environment.Variables.LEADPIPE_BUCKET",
                                       stores.bucket_name)
        # The ARN, not the alias: the roles' KMS statements name the key's ARN.
        function.add_property_override("Environment.Variables.LEADPIPE_KMS_KEY_ID",
                                       stores.key.key_arn)
        for variable, value in params.provider_env:
            function.add_property_override(f"Environment.Variables.{variable}", value)
        function.add_resource_dependency(log_group.node.default_child)  # type: ignore[arg-type]
        if spec.consumed_queue_key is not None:
            _configure_event_source(function, spec, stores)


def sqs_event_id(spec: FunctionSpec) -> str:
    # Chalice names a function's SQS event "<function>-sqs-event-source" and
    # writes it CamelCased (OnChunkSqsEventSource). Read from the name, since
    # jsii cannot hand SAM's union-typed Events back to Python; the tests check
    # each function ends up with exactly one, complete, SQS event.
    return to_cfn_resource_name(f"{spec.name}-sqs-event-source")


def _configure_event_source(function: sam.CfnFunction, spec: FunctionSpec,
                            stores: DataStores) -> None:
    prefix = f"Events.{sqs_event_id(spec)}.Properties"
    # The queue by reference, not the ARN string Chalice writes: CloudFormation
    # then creates the queue before the event source mapping.
    function.add_property_override(f"{prefix}.Queue",
                                   stores.queue(spec.consumed_queue_key or "").queue_arn)
    # Handlers return {"batchItemFailures": [...]}; without this Lambda ignores
    # it and retries (or dead-letters) the whole batch. Chalice never sets it.
    function.add_property_override(f"{prefix}.FunctionResponseTypes",
                                   ["ReportBatchItemFailures"])

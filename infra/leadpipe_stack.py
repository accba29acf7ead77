"""The leadpipe stack of one stage: data stores, the Chalice app, roles, schedules, alarms."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Stack
from chalice.cdk import Chalice
from constructs import Construct

from infra.alarms import build_alarms
from infra.app_model import FunctionSpec
from infra.data_stores import build_data_stores
from infra.functions import configure_functions
from infra.policies import grants_for
from infra.schedules import build_schedules
from infra.stage import REPO_ROOT, StageParams


class LeadpipeStack(Stack):
    def __init__(self, scope: Construct, params: StageParams,
                 specs: Sequence[FunctionSpec]) -> None:
        # The construct id is the stage: Chalice's construct takes its stage
        # name from its scope, and reads that stage of .chalice/config.json
        # (environment variables, API Gateway stage name).
        super().__init__(scope, params.stage, stack_name=f"leadpipe-{params.stage}",
                         description=f"leadpipe ({params.stage}): API, import pipeline, data")
        for spec in specs:  # fail before building anything for an undeclared function
            grants_for(spec.name)
        consumed_dlqs = {s.queue.logical_name: s.timeout_seconds
                         for s in specs if s.consumes_dlq and s.queue is not None}
        stores = build_data_stores(self, params, consumed_dlqs)
        chalice = Chalice(
            self, "Api", source_dir=str(REPO_ROOT),
            stage_config={
                # One role per function, made here (infra/policies.py); Chalice
                # neither creates a role nor generates a policy from the code.
                "manage_iam_role": False,
                "autogen_policy": False,
                # Required with manage_iam_role false; every function's Role
                # is then replaced by its own (functions.configure_functions).
                "iam_role_arn": "arn:aws:iam::000000000000:role/replaced-per-function",
                "automatic_layer": False,
            },
        )
        configure_functions(self, chalice, specs, stores, params)
        schedule_dlqs = build_schedules(self, chalice, specs, params)
        build_alarms(self, params, stores.dlqs, specs, schedule_dlqs)
        api_url = chalice.sam_template.get_output("EndpointURL").value
        CfnOutput(self, "ApiUrl", value=api_url, description="Base URL of the HTTP API")
        CfnOutput(self, "BucketName", value=stores.bucket.bucket_name)
        CfnOutput(self, "TableName", value=stores.table.table_name)

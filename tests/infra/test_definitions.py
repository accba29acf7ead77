"""The infra's own rules, checked without a synth: grants, stage parameters, lifecycle."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from chalicelib.resources import STACK, BucketDef, QueueDef
from infra.app_model import FunctionSpec
from infra.data_stores import StackDefinitionError, lifecycle_days
from infra.leadpipe_stack import LeadpipeStack
from infra.policies import GRANTS, MissingGrants, Send, grants_for
from infra.stage import StageError, stage_params


def test_a_function_without_grants_fails_the_synth() -> None:
    with pytest.raises(MissingGrants, match="on_mystery"):
        grants_for("on_mystery")
    spec = FunctionSpec("on_mystery", "OnMystery", STACK.queues[0], False, 1, 60, 512)
    # Fails before anything is built (and before Chalice packages the app).
    with pytest.raises(MissingGrants, match="on_mystery"):
        LeadpipeStack(cdk.App(), stage_params({"stage": "dev"}), [spec])


def test_grants_send_only_to_queues_of_resources() -> None:
    known = {q.logical_name for q in STACK.queues}
    targets = {q for grants in GRANTS.values() for g in grants if isinstance(g, Send)
               for q in g.queues}
    assert targets <= known
    for name, grants in GRANTS.items():
        assert grants, name
        assert all(g.why.strip() for g in grants), f"{name}: every grant says why"


def test_stage_parameters() -> None:
    dev, prod = stage_params({"stage": "dev"}), stage_params({"stage": "prod"})
    assert (dev.protect_data, prod.protect_data) == (False, True)
    assert dev.removal_policy == cdk.RemovalPolicy.DESTROY
    assert prod.removal_policy == cdk.RemovalPolicy.RETAIN
    assert dev.cors_origins == ("*",) and dev.alarm_email is None
    custom = stage_params({"stage": "prod", "cors_origins": "https://a.example, https://b.example",
                           "alarm_email": "ops@example.com"})
    assert custom.cors_origins == ("https://a.example", "https://b.example")
    assert custom.alarm_email == "ops@example.com"
    for bad in ("local", "staging", "Prod", "x" * 17):
        with pytest.raises(StageError):
            stage_params({"stage": bad})


def test_every_bucket_prefix_expires() -> None:
    days = lifecycle_days()
    assert set(days) >= {STACK.bucket.upload_prefix, *STACK.bucket.work_prefixes}
    assert days["uploads/"] == 1
    with pytest.raises(StackDefinitionError, match="exports/"):
        lifecycle_days(BucketDef(logical_name="files",
                                 work_prefixes=(*STACK.bucket.work_prefixes, "exports/")))


def test_queue_visibility_rule_holds_in_resources() -> None:
    for queue in STACK.queues:
        assert queue.visibility_timeout_seconds >= 6 * queue.handler_timeout_seconds
    assert QueueDef("x", handler_timeout_seconds=10).visibility_timeout_seconds == 60

"""The infra's own rules, checked without a synth: grants, stage parameters, lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from chalice.app import Chalice, Cron, Rate

import chalicelib.provider_settings as provider_settings
from chalicelib.resources import STACK, BucketDef, QueueDef
from chalicelib.services.connections import SECRET_PURPOSE, STATE_PURPOSE
from chalicelib.services.sheet_rows import TOKEN_PURPOSE
from chalicelib.services.webhooks import SECRET_PURPOSE as WEBHOOK_SECRET_PURPOSE
from infra.app_model import (
    SCHEDULE_TIMEOUT_SECONDS,
    AppModelError,
    FunctionSpec,
    function_specs,
    schedule_period_seconds,
)
from infra.data_stores import StackDefinitionError, lifecycle_days
from infra.leadpipe_stack import LeadpipeStack
from infra.policies import (
    GRANTS,
    KMS_ACTIONS,
    PURPOSES,
    MissingGrants,
    Secrets,
    Send,
    grants_for,
)
from infra.schedules import max_event_age_seconds
from infra.stage import (
    CONTEXT_KEYS,
    PROVIDER_CLIENT_IDS,
    PROVIDER_CLIENT_SECRETS,
    PROVIDER_URLS,
    StageError,
    stage_params,
)


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
    assert days["exports/"] == 1
    with pytest.raises(StackDefinitionError, match="scratch/"):
        lifecycle_days(BucketDef(logical_name="files",
                                 work_prefixes=(*STACK.bucket.work_prefixes, "scratch/")))


def test_queue_visibility_rule_holds_in_resources() -> None:
    for queue in STACK.queues:
        assert queue.visibility_timeout_seconds >= 6 * queue.handler_timeout_seconds
    assert QueueDef("x", handler_timeout_seconds=10).visibility_timeout_seconds == 60


def _handler(event: Any) -> None:
    return None


def test_schedules_become_functions_without_a_queue() -> None:
    app = Chalice("t")
    app.schedule(Rate(5, unit=Rate.MINUTES), name="every_five")(_handler)
    app.schedule(Cron(0, 3, "*", "*", "?", "*"), name="nightly")(_handler)
    app.on_sqs_message(queue="leadpipe-dev-jobs", batch_size=1, name="on_job")(_handler)
    specs = {s.name: s for s in function_specs(app, "dev")}
    five, nightly = specs["every_five"], specs["nightly"]
    assert (five.schedule, five.queue, five.consumed_queue_key) == ("rate(5 minutes)", None, None)
    assert five.logical_id == "EveryFive"
    assert five.timeout_seconds == SCHEDULE_TIMEOUT_SECONDS and five.memory_mb == 512
    assert nightly.schedule == "cron(0 3 * * ? *)"
    assert specs["on_job"].schedule is None
    # Retries of a scheduled event stop once the next run is due (cron: an hour).
    assert max_event_age_seconds(five) == 300
    assert max_event_age_seconds(nightly) == 3600


def test_schedule_period() -> None:
    assert schedule_period_seconds("rate(1 minute)") == 60
    assert schedule_period_seconds("rate(5 minutes)") == 300
    assert schedule_period_seconds("rate(2 hours)") == 7200
    assert schedule_period_seconds("rate(1 day)") == 86400
    assert schedule_period_seconds("cron(0 3 * * ? *)") is None


@pytest.mark.parametrize("register", [
    lambda app: app.on_sns_message(topic="t", name="on_sns")(_handler),
    lambda app: app.on_s3_event(bucket="b", name="on_s3")(_handler),
    lambda app: app.on_cw_event({"source": ["aws.ec2"]}, name="on_cw")(_handler),
])
def test_other_event_sources_are_refused(register: Any) -> None:
    app = Chalice("t")
    register(app)
    with pytest.raises(AppModelError, match=r"only SQS event sources .* and schedules"):
        function_specs(app, "dev")


def test_import_watchdog_grants() -> None:
    grants = grants_for("import_watchdog")
    sends = {q for g in grants if isinstance(g, Send) for q in g.queues}
    # uploads: an import stalled in analysis gets its upload event again.
    assert sends == {"chunks", "splits", "uploads", "verify", "webhooks"}


def test_kms_purposes_are_the_codes_own() -> None:
    assert set(PURPOSES) == {SECRET_PURPOSE, STATE_PURPOSE, TOKEN_PURPOSE,
                             WEBHOOK_SECRET_PURPOSE}
    for name, grants in GRANTS.items():
        for grant in grants:
            if isinstance(grant, Secrets):
                assert grant.actions and set(grant.actions) <= set(KMS_ACTIONS), name
                assert grant.purposes and set(grant.purposes) <= set(PURPOSES), name


def test_kms_grants_by_function() -> None:
    held = {name: {(a, p) for g in grants if isinstance(g, Secrets)
                   for a in g.actions for p in g.purposes}
            for name, grants in GRANTS.items()}
    assert {name for name, pairs in held.items() if pairs} == {"api_handler", "on_upload",
                                                               "on_split", "on_job",
                                                               "on_webhook"}
    # The delivery worker only opens webhook secrets, to sign.
    assert held["on_webhook"] == {("kms:Decrypt", "webhook_secret")}
    # The API seals all three; it opens only the OAuth state (the callback).
    assert held["api_handler"] == {("kms:Encrypt", p) for p in PURPOSES} | {
        ("kms:Decrypt", "oauth_state")}
    assert held["on_upload"] == {("kms:Decrypt", "connection"),
                                 ("kms:Decrypt", "import_token"),
                                 ("kms:Encrypt", "connection")}
    # A sync run's pages are read by the splitter with the connection's credentials.
    assert held["on_split"] == {("kms:Decrypt", "connection"), ("kms:Encrypt", "connection")}
    # Status write-back jobs call the CRM with the sync's connection.
    assert held["on_job"] == {("kms:Decrypt", "connection"), ("kms:Encrypt", "connection")}
    api_sends = {q for g in GRANTS["api_handler"] if isinstance(g, Send) for q in g.queues}
    assert "uploads" in api_sends  # a Google Sheets import starts its own analysis


def test_provider_stage_parameters() -> None:
    assert stage_params({"stage": "dev"}).provider_env == ()
    params = stage_params({"stage": "prod", "google_client_id": " 1-a.apps.example ",
                           "salesforce_login_url": "https://test.salesforce.com",
                           "hubspot_client_id": ""})
    assert dict(params.provider_env) == {
        "LEADPIPE_GOOGLE_CLIENT_ID": "1-a.apps.example",
        "LEADPIPE_SALESFORCE_LOGIN_URL": "https://test.salesforce.com"}
    # Every variable is one chalicelib/provider_settings.py reads.
    source = Path(provider_settings.__file__).read_text()
    for variable in (*PROVIDER_CLIENT_IDS.values(), *PROVIDER_URLS.values()):
        assert f'"{variable}"' in source, variable
    assert set(CONTEXT_KEYS) >= {*PROVIDER_CLIENT_IDS, *PROVIDER_URLS, *PROVIDER_CLIENT_SECRETS}
    for bad in ({"google_token_url": "http://oauth2.googleapis.com/token"},
                {"hubspot_api_url": "api.hubapi.com"},
                {"google_client_id": "two words"}):
        with pytest.raises(StageError):
            stage_params({"stage": "dev", **bad})
    # A client secret in context would sit in plain text in the template.
    for key in PROVIDER_CLIENT_SECRETS:
        with pytest.raises(StageError, match="client secret"):
            stage_params({"stage": "dev", key: "s3cr3t"})

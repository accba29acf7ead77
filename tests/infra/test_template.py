"""Assertions on the synthesised template of each stage: each property the issue names.

Chalice's construct contributes SAM resources (AWS::Serverless::Function with
an SQS event each, none for a scheduled one, AWS::Serverless::Api); the rest,
schedules' EventBridge rules included, are plain CloudFormation.
The checks read the template as synthesised, which is what CloudFormation gets.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from chalicelib.resources import STACK, dlq_name, key_alias, resource_name
from infra.app_model import SCHEDULE_TIMEOUT_SECONDS
from infra.functions import CONSUME_ACTIONS, LOG_ACTIONS, SEND_ACTIONS
from infra.policies import GRANTS, KMS_ACTIONS, ListBucket, Objects, Secrets, Send, Table
from tests.infra.conftest import Synth, run_synth

pytestmark = pytest.mark.timeout(1800)  # the first synth may build Chalice's package

DATA_PREFIXES = ("dynamodb:", "s3:", "sqs:", "kms:")
PURPOSE_KEY = "kms:EncryptionContext:purpose"
# app.py's @app.schedule handlers
SCHEDULED = {"import_watchdog": "rate(5 minutes)", "sync_dispatcher": "rate(1 minute)",
             "follow_ups_due": "rate(1 minute)"}
# A scheduled event is stale once the next is due: its maximum age is the period.
EVENT_AGE = {"import_watchdog": 300, "sync_dispatcher": 60, "follow_ups_due": 60}
EXPECTED_FUNCTIONS = {"api_handler", "on_job", "on_upload", "on_split", "on_chunk",
                      "on_chunk_dead", "on_split_dead", "on_upload_dead", "on_verify",
                      "on_verify_dead", "on_webhook", "on_webhook_dead", *SCHEDULED}


def _ref_id(value: Any) -> str | None:
    """Logical id behind {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _queues_by_name(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {props["Properties"]["QueueName"]: (logical, props["Properties"])
            for logical, props in synth.resources("AWS::SQS::Queue").items()}


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    """Chalice function name (from FunctionName leadpipe-<stage>-<name>) -> properties."""
    prefix = resource_name(synth.stage, "")
    return {f["Properties"]["FunctionName"].removeprefix(prefix): f["Properties"]
            for f in synth.resources("AWS::Serverless::Function").values()}


def _sqs_event(props: dict[str, Any]) -> dict[str, Any] | None:
    events = props.get("Events") or {}
    assert len(events) <= 1, f"more than one event: {events}"
    for event in events.values():
        assert event["Type"] == "SQS"
        return dict(event["Properties"])
    return None


def _statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    """(owner logical id, statement) of every IAM policy in the template."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical, res in synth.template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                found += [(logical, s) for s in policy["PolicyDocument"]["Statement"]]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(logical, s) for s in props["PolicyDocument"]["Statement"]]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    role = synth.template["Resources"][role_id]["Properties"]
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def _actions_on(statements: list[dict[str, Any]], resource_fragment: str) -> set[str]:
    """Actions allowed on resources whose JSON mentions resource_fragment."""
    import json

    return {a for s in statements for a in _as_list(s["Action"])
            if resource_fragment in json.dumps(s["Resource"])}


# --- the stack as a whole -------------------------------------------------------------

def test_every_app_function_is_deployed_with_name_role_and_stage(stage_synth: Synth) -> None:
    functions = _functions(stage_synth)
    assert set(functions) == EXPECTED_FUNCTIONS
    roles = [_ref_id(p["Role"]) for p in functions.values()]
    assert all(r in stage_synth.resources("AWS::IAM::Role") for r in roles)
    assert len(set(roles)) == len(roles), "each function has a role of its own"
    for props in functions.values():
        assert props["Environment"]["Variables"]["LEADPIPE_STAGE"] == stage_synth.stage
        assert "LEADPIPE_BUCKET" in props["Environment"]["Variables"]
        assert props["Runtime"] == "python3.11"


def test_outputs_api_url_bucket_and_table(stage_synth: Synth) -> None:
    outputs = stage_synth.template["Outputs"]
    assert {"ApiUrl", "BucketName", "TableName"} <= set(outputs)
    assert "execute-api" in str(outputs["ApiUrl"]["Value"])
    assert _ref_id(outputs["TableName"]["Value"]) in stage_synth.resources(
        "AWS::DynamoDB::Table")
    assert _ref_id(outputs["BucketName"]["Value"]) in stage_synth.resources("AWS::S3::Bucket")


# --- bucket ------------------------------------------------------------------------------

def test_bucket_is_private_encrypted_and_tls_only(stage_synth: Synth) -> None:
    template = Template.from_json(stage_synth.template)
    template.resource_count_is("AWS::S3::Bucket", 1)
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    })
    template.has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Action": "s3:*", "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_bucket_cors_allows_only_the_presigned_post_and_get(stage_synth: Synth) -> None:
    (bucket,) = stage_synth.resources("AWS::S3::Bucket").values()
    rules = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert [r["AllowedMethods"] for r in rules] == [["POST", "GET"]]
    assert rules[0]["AllowedOrigins"] == ["*"]  # the default of stage parameter cors_origins


def test_bucket_lifecycle_expires_uploads_and_work_files(stage_synth: Synth) -> None:
    (bucket,) = stage_synth.resources("AWS::S3::Bucket").values()
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    expiry = {r["Prefix"]: r["ExpirationInDays"] for r in rules if "Prefix" in r}
    assert expiry == {"uploads/": 1, "files/": 30, "analysis/": 30, "chunks/": 7,
                      "errors/": 30, "exports/": 1}
    assert set(expiry) >= {STACK.bucket.upload_prefix, *STACK.bucket.work_prefixes}
    assert all(r["Status"] == "Enabled" for r in rules)
    assert any(r.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 1}
               for r in rules)


def test_uploads_notify_the_queue_through_s3_to_sqs(stage_synth: Synth) -> None:
    (bucket_id, bucket), = stage_synth.resources("AWS::S3::Bucket").items()
    config = bucket["Properties"]["NotificationConfiguration"]
    (queue_config,) = config["QueueConfigurations"]
    assert queue_config["Event"] == "s3:ObjectCreated:*"
    assert queue_config["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": STACK.bucket.upload_prefix}]
    queues = _queues_by_name(stage_synth)
    notify_id, _ = queues[resource_name(stage_synth.stage, STACK.bucket.notify_queue)]
    assert _ref_id(queue_config["Queue"]) == notify_id
    # S3 may send to that queue, only from this bucket; and the bucket waits for it.
    policies = [p for p_id, p in stage_synth.resources("AWS::SQS::QueuePolicy").items()
                if [_ref_id(q) for q in p["Properties"]["Queues"]] == [notify_id]
                and p_id in _as_list(bucket.get("DependsOn", []))]
    assert len(policies) == 1
    (allow,) = [s for s in policies[0]["Properties"]["PolicyDocument"]["Statement"]
                if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert "aws:SourceArn" in allow["Condition"]["ArnEquals"]
    assert "aws:SourceAccount" in allow["Condition"]["StringEquals"]
    # No custom-resource Lambda (its role would hold s3:PutBucketNotification on "*").
    assert not stage_synth.resources("Custom::S3BucketNotifications")
    assert bucket_id


# --- queues ------------------------------------------------------------------------------

def test_every_queue_has_a_dlq_encryption_and_its_visibility(stage_synth: Synth) -> None:
    queues = _queues_by_name(stage_synth)
    # Each queue of resources.py with its DLQ, and a DLQ per schedule (its rule's).
    assert len(queues) == 2 * len(STACK.queues) + len(SCHEDULED)
    for spec in STACK.queues:
        _, props = queues[resource_name(stage_synth.stage, spec.logical_name)]
        dlq_id, dlq = queues[dlq_name(stage_synth.stage, spec)]
        assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
        assert _ref_id(props["RedrivePolicy"]["deadLetterTargetArn"]) == dlq_id
        assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
        assert props["SqsManagedSseEnabled"] is True
        assert dlq["SqsManagedSseEnabled"] is True
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert props["MessageRetentionPeriod"] == 4 * 24 * 3600  # shorter than the DLQ's
        assert "RedrivePolicy" not in dlq


def test_queues_refuse_plain_http(stage_synth: Synth) -> None:
    queues = {logical for logical, _ in _queues_by_name(stage_synth).values()}
    covered: set[str] = set()
    for policy in stage_synth.resources("AWS::SQS::QueuePolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(s["Effect"] == "Deny" and s["Condition"] == {
                "Bool": {"aws:SecureTransport": "false"}} for s in statements):
            covered |= {_ref_id(q) or "" for q in policy["Properties"]["Queues"]}
    assert covered == queues


def test_sqs_functions_report_batch_item_failures_and_fit_their_queue(
        stage_synth: Synth) -> None:
    queues = _queues_by_name(stage_synth)
    by_id = {logical: props for logical, props in queues.values()}
    consumers = 0
    for name, props in _functions(stage_synth).items():
        event = _sqs_event(props)
        if event is None:
            assert name == "api_handler" or name in SCHEDULED, name
            continue
        consumers += 1
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        queue = by_id[_ref_id(event["Queue"]) or ""]  # by reference: created first
        assert queue["VisibilityTimeout"] >= 6 * props["Timeout"], name
        assert isinstance(event["BatchSize"], int)
    assert consumers == len(_functions(stage_synth)) - 1 - len(SCHEDULED)


def test_function_timeouts_come_from_resources(stage_synth: Synth) -> None:
    functions = _functions(stage_synth)
    queues = {q.logical_name: q for q in STACK.queues}
    assert functions["on_job"]["Timeout"] == queues["jobs"].handler_timeout_seconds
    assert functions["on_upload"]["Timeout"] == queues["uploads"].handler_timeout_seconds
    assert functions["on_split"]["Timeout"] == queues["splits"].handler_timeout_seconds == 900
    assert functions["on_chunk"]["Timeout"] == queues["chunks"].handler_timeout_seconds
    assert _sqs_event(functions["on_chunk"])["BatchSize"] == queues["chunks"].batch_size
    assert functions["api_handler"]["Timeout"] <= 29  # API Gateway's integration limit
    for name in SCHEDULED:
        assert functions[name]["Timeout"] == SCHEDULE_TIMEOUT_SECONDS == 120
        assert functions[name]["MemorySize"] == 512


# --- IAM ---------------------------------------------------------------------------------

def test_no_wildcard_actions_and_no_star_resource_on_data(stage_synth: Synth) -> None:
    statements = [(owner, s) for owner, s in _statements(stage_synth) if s["Effect"] == "Allow"]
    assert statements
    for owner, statement in statements:
        actions = _as_list(statement["Action"])
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (owner, action)
            assert "*" not in action, (owner, action)
        if any(a.startswith(DATA_PREFIXES) for a in actions):
            assert "*" not in _as_list(statement["Resource"]), (owner, statement)


def test_consumers_read_only_their_own_queue(stage_synth: Synth) -> None:
    queues = _queues_by_name(stage_synth)
    by_id = {logical: name for name, (logical, _) in queues.items()}
    for name, props in _functions(stage_synth).items():
        statements = _role_statements(stage_synth, _ref_id(props["Role"]) or "")
        receive = [s for s in statements if "sqs:ReceiveMessage" in _as_list(s["Action"])]
        event = _sqs_event(props)
        if event is None:
            assert receive == [], name
            continue
        (statement,) = receive
        assert [_ref_id(r) for r in _as_list(statement["Resource"])] == [_ref_id(event["Queue"])]
        assert by_id[_ref_id(event["Queue"]) or ""].startswith(f"leadpipe-{stage_synth.stage}-")


def test_grants_are_scoped_to_prefixes_and_queues(stage_synth: Synth) -> None:
    functions = _functions(stage_synth)

    def statements_of(name: str) -> list[dict[str, Any]]:
        return _role_statements(stage_synth, _ref_id(functions[name]["Role"]) or "")

    api = statements_of("api_handler")
    # The presigned POST is signed with the API's role: PutObject on uploads/*.
    assert _actions_on(api, "/uploads/*") == {"s3:PutObject", "s3:DeleteObject"}
    # DELETE /imports/{id} erases an import's files: DeleteObject on its prefixes only.
    assert _actions_on(api, "/files/*") == {"s3:DeleteObject"}
    assert _actions_on(api, "/chunks/*") == {"s3:DeleteObject"}
    # GET /imports/{id}/errors reads the parts and assembles a large report
    # (multipart: PutObject and AbortMultipartUpload); DELETE erases them.
    assert _actions_on(api, "/errors/*") == {"s3:GetObject", "s3:PutObject",
                                             "s3:AbortMultipartUpload", "s3:DeleteObject"}
    # GET /exports/{id} signs the download link with the API's role: GetObject only.
    assert _actions_on(api, "/exports/*") == {"s3:GetObject"}
    # Export jobs write parts, assemble them (multipart) and drop a redelivery's part.
    assert _actions_on(statements_of("on_job"), "/exports/*") == {
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    chunk = statements_of("on_chunk")
    assert _actions_on(chunk, "/uploads/*") == set()
    # ...and DeleteObject: a chunk of an erased import removes its file and report part.
    assert _actions_on(chunk, "/errors/*") == {"s3:PutObject", "s3:DeleteObject"}
    assert _actions_on(chunk, "/chunks/*") == {"s3:GetObject", "s3:DeleteObject"}
    # The DLQ handlers touch no file but the salvage report and (to settle a
    # failed sync run) the analysis, and no queue but their DLQ.
    split_dead = statements_of("on_split_dead")
    assert {a for s in split_dead for a in _as_list(s["Action"])
            if a.startswith("s3:")} == {"s3:GetObject"}
    assert _actions_on(split_dead, "/analysis/*") == {"s3:GetObject"}
    send = {a for s in statements_of("on_upload_dead") for a in _as_list(s["Action"])
            if a == "sqs:SendMessage"}
    assert send == set()
    # Every role writes only its own log group.
    for name, props in functions.items():
        logs = [s for s in statements_of(name) if "logs:PutLogEvents" in _as_list(s["Action"])]
        (statement,) = logs
        log_group = _ref_id(statement["Resource"]) or ""
        group = stage_synth.template["Resources"][log_group]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert group["RetentionInDays"] in (14, 90)


def _resource_key(synth: Synth, resource: Any) -> str:
    """A role's resource as "table", "bucket", "objects:<prefix>", "queue:<logical>"..."""
    resources = synth.template["Resources"]
    if isinstance(resource, dict) and "Fn::Join" in resource:
        base, suffix = resource["Fn::Join"][1]
        if resources[_ref_id(base) or ""]["Type"] == "AWS::DynamoDB::Table":
            # A lead filter's index: "<table arn>/index/<name>", only the declared ones.
            name = str(suffix).removeprefix("/index/")
            assert name in {index.name for index in STACK.table.indexes}, suffix
            return "table"
        assert resources[_ref_id(base) or ""]["Type"] == "AWS::S3::Bucket"
        return "objects:" + str(suffix).removeprefix("/").removesuffix("*")
    res = resources[_ref_id(resource) or ""]
    kind = res["Type"]
    if kind == "AWS::DynamoDB::Table":
        return "table"
    if kind == "AWS::S3::Bucket":
        return "bucket"
    if kind == "AWS::SQS::Queue":
        return "queue:" + str(res["Properties"]["QueueName"]).removeprefix(
            resource_name(synth.stage, ""))
    if kind == "AWS::Logs::LogGroup":
        return "logs:" + str(res["Properties"]["LogGroupName"])
    if kind == "AWS::KMS::Key":
        return "key"
    raise AssertionError(f"unexpected resource {resource}")


def _scoped_keys(synth: Synth, statement: dict[str, Any]) -> list[str]:
    """The statement's resource keys; the key's as "key:<purpose>", one per allowed purpose."""
    keys: list[str] = []
    for resource in _as_list(statement["Resource"]):
        key = _resource_key(synth, resource)
        condition = statement.get("Condition") or {}
        if key == "key" and list(condition) == ["StringEquals"] \
                and list(condition["StringEquals"]) == [PURPOSE_KEY]:
            keys += [f"key:{p}" for p in _as_list(condition["StringEquals"][PURPOSE_KEY])]
        elif key == "key":
            keys.append("key:<any purpose>")  # no purpose condition: nothing declares that
        else:
            keys.append(key)
    return keys


def _held(synth: Synth, role_id: str) -> set[tuple[str, str]]:
    """(action, resource key) pairs the role allows."""
    return {(action, key)
            for s in _role_statements(synth, role_id) if s["Effect"] == "Allow"
            for action in _as_list(s["Action"]) for key in _scoped_keys(synth, s)}


def _declared(name: str) -> set[tuple[str, str]]:
    """(action, resource key) pairs of policies.GRANTS[name]."""
    pairs: set[tuple[str, str]] = set()
    for grant in GRANTS[name]:
        if isinstance(grant, Table):
            pairs |= {(a, "table") for a in grant.actions}
        elif isinstance(grant, Objects):
            pairs |= {(a, f"objects:{p}") for a in grant.actions for p in grant.prefixes}
        elif isinstance(grant, ListBucket):
            pairs.add(("s3:ListBucket", "bucket"))
        elif isinstance(grant, Send):
            pairs |= {(a, f"queue:{q}") for a in SEND_ACTIONS for q in grant.queues}
        elif isinstance(grant, Secrets):
            pairs |= {(a, f"key:{p}") for a in grant.actions for p in grant.purposes}
    return pairs


def test_every_role_holds_exactly_its_declared_grants(stage_synth: Synth) -> None:
    # Declared grants, the consumed queue (SQS functions only), its own log group:
    # nothing more, nothing less.
    queue_names = {logical: name.removeprefix(resource_name(stage_synth.stage, ""))
                   for name, (logical, _) in _queues_by_name(stage_synth).items()}
    for name, props in _functions(stage_synth).items():
        expected = _declared(name)
        expected |= {(a, f"logs:/aws/lambda/{props['FunctionName']}") for a in LOG_ACTIONS}
        event = _sqs_event(props)
        if event is not None:
            queue = queue_names[_ref_id(event["Queue"]) or ""]
            expected |= {(a, f"queue:{queue}") for a in CONSUME_ACTIONS}
        assert _held(stage_synth, _ref_id(props["Role"]) or "") == expected, name


def test_no_dynamodb_action_that_does_not_exist(stage_synth: Synth) -> None:
    # Transactions are authorised per item: TransactWriteItems is no IAM action.
    actions = {a for _, s in _statements(stage_synth) for a in _as_list(s["Action"])}
    assert "dynamodb:TransactWriteItems" not in actions
    assert "dynamodb:ConditionCheckItem" in actions


# --- the secrets key (connections' credentials, OAuth states, import tokens) ------------

def _key_id(synth: Synth) -> str:
    (key_id,) = synth.resources("AWS::KMS::Key")
    return key_id


def test_secrets_key_is_symmetric_rotated_and_aliased(stage_synth: Synth) -> None:
    (key,) = stage_synth.resources("AWS::KMS::Key").values()
    props = key["Properties"]
    assert props["EnableKeyRotation"] is True
    assert props.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    assert props.get("KeyUsage", "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT"
    assert props["Description"].startswith(f"leadpipe {stage_synth.stage}: ")
    # The key policy leaves it to IAM: only the account's root, no other principal.
    (statement,) = props["KeyPolicy"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert ":root" in str(statement["Principal"]["AWS"])
    (alias,) = stage_synth.resources("AWS::KMS::Alias").values()
    assert alias["Properties"]["AliasName"] == key_alias(stage_synth.stage) == \
        f"alias/leadpipe-{stage_synth.stage}-secrets"
    assert _ref_id(alias["Properties"]["TargetKeyId"]) == _key_id(stage_synth)


def test_functions_get_the_key_arn(stage_synth: Synth) -> None:
    for name, props in _functions(stage_synth).items():
        assert props["Environment"]["Variables"]["LEADPIPE_KMS_KEY_ID"] == {
            "Fn::GetAtt": [_key_id(stage_synth), "Arn"]}, name


def test_only_connection_functions_use_the_key_for_their_purposes(stage_synth: Synth) -> None:
    key_arn = {"Fn::GetAtt": [_key_id(stage_synth), "Arn"]}
    used: dict[str, set[tuple[str, str]]] = {}
    for name, props in _functions(stage_synth).items():
        for statement in _role_statements(stage_synth, _ref_id(props["Role"]) or ""):
            actions = [a for a in _as_list(statement["Action"]) if a.startswith("kms:")]
            if not actions:
                continue
            # Only Encrypt/Decrypt, only on the key, only for named purposes.
            assert set(actions) <= set(KMS_ACTIONS), (name, statement)
            assert statement["Resource"] == key_arn, (name, statement)
            purposes = statement["Condition"]["StringEquals"][PURPOSE_KEY]
            assert statement["Condition"] == {"StringEquals": {PURPOSE_KEY: purposes}}
            assert purposes, name
            used.setdefault(name, set()).update(
                (a, p) for a in actions for p in _as_list(purposes))
    assert used == {
        # Seals credentials, states and given tokens; opens only its OAuth states.
        "api_handler": {("kms:Encrypt", "connection"), ("kms:Encrypt", "oauth_state"),
                        ("kms:Encrypt", "import_token"), ("kms:Decrypt", "oauth_state"),
                        ("kms:Encrypt", "webhook_secret")},
        # Opens a webhook endpoint's secret to sign a delivery, nothing else.
        "on_webhook": {("kms:Decrypt", "webhook_secret")},
        # Reads a sheet with a connection (re-sealed after a refresh) or a given token.
        "on_upload": {("kms:Decrypt", "connection"), ("kms:Decrypt", "import_token"),
                      ("kms:Encrypt", "connection")},
        # A sync run reads the CRM while splitting (re-sealed after a refresh).
        "on_split": {("kms:Decrypt", "connection"), ("kms:Encrypt", "connection")},
        # Status write-back jobs call the CRM with the sync's connection.
        "on_job": {("kms:Decrypt", "connection"), ("kms:Encrypt", "connection")},
    }
    # No statement anywhere else (a key policy aside) names the key.
    for owner, statement in _statements(stage_synth):
        if _key_id(stage_synth) in str(statement["Resource"]):
            assert owner in {_ref_id(_functions(stage_synth)[n]["Role"]) for n in used}


def test_google_sheets_imports_start_their_analysis_from_the_api(stage_synth: Synth) -> None:
    functions = _functions(stage_synth)
    api = _held(stage_synth, _ref_id(functions["api_handler"]["Role"]) or "")
    assert {("sqs:SendMessage", "queue:uploads"), ("sqs:GetQueueUrl", "queue:uploads")} <= api
    # The analyser pins a sheet as files/<id> itself (PutObject), and reads its head.
    upload = _held(stage_synth, _ref_id(functions["on_upload"]["Role"]) or "")
    assert {("s3:PutObject", "objects:files/"), ("s3:GetObject", "objects:files/")} <= upload


def test_provider_settings_only_as_given_and_never_a_client_secret(stage_synth: Synth) -> None:
    for props in _functions(stage_synth).values():
        variables = props["Environment"]["Variables"]
        assert not [v for v in variables if "SECRET" in v]
        # Nothing given in context: the app's public defaults, OAuth not configured.
        assert not [v for v in variables if v.startswith(
            ("LEADPIPE_HUBSPOT_", "LEADPIPE_SALESFORCE_", "LEADPIPE_GOOGLE_"))]


def test_provider_client_ids_and_urls_from_context(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    synth = run_synth("dev", tmp_path_factory.mktemp("synth-providers"), {
        "google_client_id": "123-abc.apps.googleusercontent.com",
        "hubspot_client_id": "hub-id",
        "salesforce_login_url": "https://test.salesforce.com"})
    expected = {"LEADPIPE_GOOGLE_CLIENT_ID": "123-abc.apps.googleusercontent.com",
                "LEADPIPE_HUBSPOT_CLIENT_ID": "hub-id",
                "LEADPIPE_SALESFORCE_LOGIN_URL": "https://test.salesforce.com"}
    for name, props in _functions(synth).items():
        variables = props["Environment"]["Variables"]
        assert {k: v for k, v in variables.items() if k in expected} == expected, name
        assert not [v for v in variables if "SECRET" in v], name


# --- table -------------------------------------------------------------------------------

def test_table_on_demand_pitr_ttl(stage_synth: Synth) -> None:
    template = Template.from_json(stage_synth.template)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": resource_name(stage_synth.stage, STACK.table.logical_name),
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"},
                                 *({"AttributeName": index.partition_key, "AttributeType": "S"}
                                   for index in STACK.table.indexes)],
        # The sparse, keys-only indexes the lead filters query (resources.IndexDef)
        "GlobalSecondaryIndexes": [
            {"IndexName": index.name,
             "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}} for index in STACK.table.indexes],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": STACK.table.ttl_attribute,
                                    "Enabled": True},
    })


def test_prod_protects_its_data_and_dev_does_not(stage_synth: Synth) -> None:
    prod = stage_synth.stage == "prod"
    (table,) = stage_synth.resources("AWS::DynamoDB::Table").values()
    (bucket,) = stage_synth.resources("AWS::S3::Bucket").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is prod
    policy = "Retain" if prod else "Delete"
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == policy
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == policy
    (key,) = stage_synth.resources("AWS::KMS::Key").values()
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == policy


# --- alarms ------------------------------------------------------------------------------

def test_alarm_for_every_dlq(stage_synth: Synth) -> None:
    queues = _queues_by_name(stage_synth)
    dlq_ids = {queues[dlq_name(stage_synth.stage, q)][0] for q in STACK.queues}
    alarmed = set()
    for alarm in stage_synth.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            assert props["Threshold"] == 0
            assert props["ComparisonOperator"] == "GreaterThanThreshold"
            assert props["AlarmActions"]
            (dimension,) = props["Dimensions"]
            alarmed.add(_ref_id(dimension["Value"]) if isinstance(dimension["Value"], dict)
                        else None)
    assert dlq_ids <= alarmed


def test_errors_and_throttles_alarm_for_every_function(stage_synth: Synth) -> None:
    names = {p["FunctionName"] for p in _functions(stage_synth).values()}
    alarmed: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for alarm in stage_synth.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/Lambda":
            (dimension,) = props["Dimensions"]
            alarmed[props["MetricName"]].add(dimension["Value"])
            assert props["AlarmActions"]
    assert alarmed == {"Errors": names, "Throttles": names}


# --- schedules -----------------------------------------------------------------------------

def test_schedule_rule_invokes_its_function_with_retries_and_a_dlq(stage_synth: Synth) -> None:
    resources = stage_synth.template["Resources"]
    functions = {f["Properties"]["FunctionName"]: logical
                 for logical, f in stage_synth.resources("AWS::Serverless::Function").items()}
    queues = _queues_by_name(stage_synth)
    rules = stage_synth.resources("AWS::Events::Rule")
    assert len(rules) == len(SCHEDULED)
    for name, expression in SCHEDULED.items():
        function_id = functions[resource_name(stage_synth.stage, name)]
        # Chalice's SAM Schedule event is gone: SAM makes no second, unguarded rule.
        assert "Events" not in resources[function_id]["Properties"]
        (rule_id, rule), = [(r_id, r) for r_id, r in rules.items()
                            if r["Properties"]["Name"] == resource_name(
                                stage_synth.stage, f"{name}-event")]
        props = rule["Properties"]
        assert props["ScheduleExpression"] == expression
        assert props["State"] == "ENABLED"
        assert "RoleArn" not in props  # Lambda's resource policy lets the rule invoke
        (target,) = props["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3,
                                         "MaximumEventAgeInSeconds": EVENT_AGE[name]}
        dlq_id, dlq = queues[resource_name(stage_synth.stage, f"{name}-dlq")]
        assert _ref_id(target["DeadLetterConfig"]["Arn"]) == dlq_id
        assert dlq["SqsManagedSseEnabled"] is True
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
        # Only EventBridge, only from this rule, may send to the DLQ.
        (policy,) = [p["Properties"] for p in stage_synth.resources(
            "AWS::SQS::QueuePolicy").values()
            if [_ref_id(q) for q in p["Properties"]["Queues"]] == [dlq_id]]
        (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
        assert allow["Principal"] == {"Service": "events.amazonaws.com"}
        assert allow["Action"] == "sqs:SendMessage"
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {
            "Fn::GetAtt": [rule_id, "Arn"]}}}
        # The function may be invoked by this rule only.
        (permission,) = [p["Properties"] for p in stage_synth.resources(
            "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "events.amazonaws.com"
            and _ref_id(p["Properties"]["FunctionName"]) == function_id]
        assert permission["Action"] == "lambda:InvokeFunction"
        assert _ref_id(permission["FunctionName"]) == function_id
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
        # Lambda's own async retries are off: the next run is the retry.
        (invoke,) = [c["Properties"] for c in stage_synth.resources(
            "AWS::Lambda::EventInvokeConfig").values()
            if _ref_id(c["Properties"]["FunctionName"]) == function_id]
        assert invoke["MaximumRetryAttempts"] == 0
        assert invoke["MaximumEventAgeInSeconds"] == EVENT_AGE[name]
        assert invoke["Qualifier"] == "$LATEST"


def test_scheduled_function_role_has_its_grants_and_no_queue_to_consume(
        stage_synth: Synth) -> None:
    functions = _functions(stage_synth)
    for name in SCHEDULED:
        held = _held(stage_synth, _ref_id(functions[name]["Role"]) or "")
        actions = {a for a, _ in held}
        assert not actions & set(CONSUME_ACTIONS)
        assert all("*" not in a for a in actions)
        if name == "follow_ups_due":  # the table, and announcing follow_up.due
            assert not {a for a in actions if a.startswith(("s3:", "kms:"))}, actions
            assert {q for a, q in held if a.startswith("sqs:")} == {"queue:webhooks"}
            assert "dynamodb:ConditionCheckItem" in actions
            continue
        assert ("s3:ListBucket", "bucket") in held
        assert ("s3:DeleteObject" not in actions), name
        sends = {q for a, q in held if a == "sqs:SendMessage"}
        gets = {r for a, r in held if a == "s3:GetObject"}
        puts = {r for a, r in held if a == "s3:PutObject"}
        if name == "import_watchdog":
            assert sends == {"queue:chunks", "queue:splits", "queue:uploads", "queue:verify",
                             "queue:webhooks"}
            assert gets == {"objects:chunks/", "objects:analysis/", "objects:files/"}
            assert puts == {"objects:errors/"}
            assert "dynamodb:BatchWriteItem" not in actions
        else:  # sync_dispatcher: starts runs like POST /imports/{id}/start
            assert sends == {"queue:splits"}
            assert gets == puts == {"objects:analysis/"}


def test_schedule_dlq_alarm(stage_synth: Synth) -> None:
    queues = _queues_by_name(stage_synth)
    for name in SCHEDULED:
        dlq_id, _ = queues[resource_name(stage_synth.stage, f"{name}-dlq")]
        alarms = [a["Properties"] for a in stage_synth.resources(
            "AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and _ref_id(a["Properties"]["Dimensions"][0]["Value"]) == dlq_id]
        (alarm,) = alarms
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"]

"""Stage parameters: what differs between `cdk deploy -c stage=dev` and `-c stage=prod`.

Everything comes from CDK context (`-c key=value` or the `context` block of
cdk.json), so one template shape serves every stage and the differences are
listed here and nowhere else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = REPO_ROOT / ".chalice" / "config.json"

# Stages that keep their data when the stack is deleted or a resource is
# replaced: deletion protection on the table, RETAIN on table and bucket.
PROTECTED_STAGES = frozenset({"prod"})

_STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,15}$")

# Connected sources (chalicelib/provider_settings.py): context key -> the
# function environment variable it sets. Each is optional; unset, the app uses
# the provider's public endpoint, and OAuth in a browser answers
# `provider_not_configured` without a client id.
PROVIDER_CLIENT_IDS = {
    "hubspot_client_id": "LEADPIPE_HUBSPOT_CLIENT_ID",
    "salesforce_client_id": "LEADPIPE_SALESFORCE_CLIENT_ID",
    "google_client_id": "LEADPIPE_GOOGLE_CLIENT_ID",
}
PROVIDER_URLS = {
    "hubspot_api_url": "LEADPIPE_HUBSPOT_API_URL",
    "hubspot_authorize_url": "LEADPIPE_HUBSPOT_AUTHORIZE_URL",
    "salesforce_login_url": "LEADPIPE_SALESFORCE_LOGIN_URL",
    "google_sheets_api_url": "LEADPIPE_GOOGLE_SHEETS_API_URL",
    "google_token_url": "LEADPIPE_GOOGLE_TOKEN_URL",
    "google_authorize_url": "LEADPIPE_GOOGLE_AUTHORIZE_URL",
}
# Refused: a value given here would be written in plain text into the
# template (and the function's configuration). See infra/README.md,
# "Connected sources".
PROVIDER_CLIENT_SECRETS = ("hubspot_client_secret", "salesforce_client_secret",
                           "google_client_secret")
# Every context key stage_params reads (infra/app.py passes these).
CONTEXT_KEYS = ("stage", "cors_origins", "alarm_email", "protect_data",
                *PROVIDER_CLIENT_IDS, *PROVIDER_URLS, *PROVIDER_CLIENT_SECRETS)


class StageError(ValueError):
    """A stage parameter that cannot produce a sane deployment."""


@dataclass(frozen=True)
class StageParams:
    stage: str
    # prod: table deletion protection, RETAIN on table and bucket.
    protect_data: bool
    # Origins allowed to POST the presigned upload form from a browser.
    cors_origins: tuple[str, ...]
    # Alarm notifications go to this address (an SNS email subscription).
    alarm_email: str | None
    log_retention: logs.RetentionDays
    # (variable, value) set on every function: provider client ids and
    # endpoints given in context; never a client secret.
    provider_env: tuple[tuple[str, str], ...] = ()

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.protect_data else RemovalPolicy.DESTROY


def chalice_stages() -> dict[str, Any]:
    stages: dict[str, Any] = json.loads(CHALICE_CONFIG.read_text())["stages"]
    return stages


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def stage_params(context: dict[str, Any]) -> StageParams:
    """StageParams from CDK context values (strings when given with `-c`)."""
    stage = str(context.get("stage") or "dev")
    if not _STAGE_PATTERN.match(stage):
        raise StageError(f"stage {stage!r}: lowercase letters and digits, at most 16")
    if stage == "local":
        raise StageError("stage 'local' is the moto stack of `make run`; it is never deployed")
    if stage not in chalice_stages():
        # Its environment variables (LEADPIPE_STAGE) and API stage name come
        # from .chalice/config.json: a stage missing there would deploy half-set.
        raise StageError(f"stage {stage!r} is not in .chalice/config.json stages")
    origins = context.get("cors_origins") or "*"
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    protect = context.get("protect_data")
    protected = stage in PROTECTED_STAGES if protect is None else _flag(protect)
    email = context.get("alarm_email") or None
    provider_env = _provider_env(context)
    return StageParams(
        stage=stage,
        protect_data=protected,
        cors_origins=tuple(str(o) for o in origins),
        alarm_email=str(email) if email else None,
        log_retention=logs.RetentionDays.THREE_MONTHS if protected
        else logs.RetentionDays.TWO_WEEKS,
        provider_env=provider_env,
    )


def _provider_env(context: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    given = [key for key in PROVIDER_CLIENT_SECRETS if context.get(key)]
    if given:
        raise StageError(
            f"{', '.join(given)}: a client secret given as context would be written in plain "
            "text into the template; client secrets are not deployed yet "
            "(infra/README.md, Connected sources)")
    env: list[tuple[str, str]] = []
    for key, variable in PROVIDER_CLIENT_IDS.items():
        value = str(context.get(key) or "").strip()
        if value:
            if any(c.isspace() for c in value):
                raise StageError(f"{key} {value!r}: a client id has no whitespace")
            env.append((variable, value))
    for key, variable in PROVIDER_URLS.items():
        value = str(context.get(key) or "").strip()
        if value:
            parts = urlsplit(value)
            # The app refuses plain http but to loopback (domain/outbound_url.py),
            # which a deployed function never has a provider on.
            if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
                raise StageError(f"{key} {value!r}: an https:// URL")
            env.append((variable, value))
    return tuple(env)

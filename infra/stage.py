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

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = REPO_ROOT / ".chalice" / "config.json"

# Stages that keep their data when the stack is deleted or a resource is
# replaced: deletion protection on the table, RETAIN on table and bucket.
PROTECTED_STAGES = frozenset({"prod"})

_STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,15}$")


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
    return StageParams(
        stage=stage,
        protect_data=protected,
        cors_origins=tuple(str(o) for o in origins),
        alarm_email=str(email) if email else None,
        log_retention=logs.RetentionDays.THREE_MONTHS if protected
        else logs.RetentionDays.TWO_WEEKS,
    )

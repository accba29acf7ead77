"""PynamoDB persistence shapes for leadpipe's single table.

Keys (see docs/data-model.md for access patterns and capacity arithmetic):

    token       TOKEN#<sha256(token)>            TOKEN      (adapters/dynamo_tokens.py)
    token ref   TOKENS#<workspace>               T#<token_id>
    rate window RATE#<workspace>                 W#<epoch s> (adapters/dynamo_rate_counter.py)
    list        WS#<workspace>                   LIST#<list_id>
    lead        LEAD#<list_id>#<shard>           L#<lead_id>
    counter     LEAD#<list_id>#<shard>           #COUNT
    activity    LEAD#<list_id>#<shard>           A#<lead_id>#<activity_id>
    claim       CLAIM#<list_id>#<sha256(identity value)>   CLAIM
    import      IMPORT#<import_id>               META | CHUNK#<n> | PIN#<n> | VERIFY#<batch>
    active      IMPORTS#ACTIVE                   I#<import_id>   (the watchdog's registry)

A list's leads spread over `shards` partition keys; each shard carries its own
lead counter, so neither the leads nor the count of a big list sit on one key.
The claim item makes DynamoDB itself refuse a second lead with the same
identity value in a list (conditional put inside the lead's transaction).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from chalicelib.config import get_settings

_settings = get_settings()


class _Table(Model):
    class Meta:
        table_name = _settings.table_name
        region = _settings.region
        # Let botocore pick up AWS_ENDPOINT_URL (the local stack's moto server).
        host = None

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ListModel(_Table):
    list_id = UnicodeAttribute()
    workspace = UnicodeAttribute()
    name = UnicodeAttribute()
    identity = UnicodeAttribute()
    default_region = UnicodeAttribute()
    shards = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    copy_status = UnicodeAttribute(null=True)
    # {"fields": [FilterableField records], "next": n, "history": ["key#gen", ...]}
    filterable = JSONAttribute(null=True)


class LeadModel(_Table):
    lead_id = UnicodeAttribute()
    list_id = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    emails = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[var-annotated]
    phone = UnicodeAttribute(null=True)
    phone_extension = UnicodeAttribute(null=True)
    phones = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[var-annotated]
    company = UnicodeAttribute(null=True)
    job_title = UnicodeAttribute(null=True)
    linkedin_url = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[var-annotated]
    # JSON keeps each custom value's type (number, bool, null) exactly.
    custom_fields = JSONAttribute(null=True)
    status = UnicodeAttribute()
    email_status = UnicodeAttribute()
    email_status_reason = UnicodeAttribute(null=True)
    email_checked_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)
    source = JSONAttribute(null=True)
    import_mark = UnicodeAttribute(null=True)
    # Outreach events (domain/event_rules.py).
    last_activity_at = UnicodeAttribute(null=True)
    campaigns = JSONAttribute(null=True)
    next_follow_up_at = UnicodeAttribute(null=True)
    # Keys of the sparse GSIs answering the status / email status / source
    # filters (domain/lead_index.index_attributes): written with every put
    # of the lead, so DynamoDB keeps those indexes exact by itself.
    ix_status = UnicodeAttribute(null=True)
    ix_email = UnicodeAttribute(null=True)
    ix_source = UnicodeAttribute(null=True)
    # The lead's own id: the lead-id index finds a lead's list from its id alone.
    ix_lead = UnicodeAttribute(null=True)
    # People index (domain/people.py): `<workspace>#<sha256(kind:value)>` of the
    # lead's email, phone and LinkedIn URL; sparse GSIs find a person's leads.
    px_email = UnicodeAttribute(null=True)
    px_phone = UnicodeAttribute(null=True)
    px_linkedin = UnicodeAttribute(null=True)


class CounterModel(_Table):
    n = NumberAttribute(default=0)


class ActivityModel(_Table):
    activity_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    type = UnicodeAttribute()
    at = UnicodeAttribute()
    data = JSONAttribute(null=True)


class ClaimModel(_Table):
    lead_id = UnicodeAttribute()


def list_key(workspace: str, list_id: str) -> tuple[str, str]:
    return f"WS#{workspace}", f"LIST#{list_id}"


def shard_pk(list_id: str, shard: int) -> str:
    return f"LEAD#{list_id}#{shard:03d}"


def lead_sk(lead_id: str) -> str:
    return f"L#{lead_id}"


COUNTER_SK = "#COUNT"
LEAD_SK_PREFIX = "L#"


def activity_sk(lead_id: str, activity_id: str) -> str:
    return f"A#{lead_id}#{activity_id}"


def claim_key(list_id: str, identity_fingerprint: str) -> tuple[str, str]:
    return f"CLAIM#{list_id}#{identity_fingerprint}", "CLAIM"


def json_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


class ImportModel(_Table):
    """pk IMPORT#<id>, sk META: one import's state, counts and preview."""

    import_id = UnicodeAttribute()
    workspace = UnicodeAttribute()
    list_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    object_key = UnicodeAttribute()
    default_region = UnicodeAttribute()
    auto_start = UnicodeAttribute(default="false")
    sheet = UnicodeAttribute(null=True)
    mapping = JSONAttribute(null=True)
    file = JSONAttribute(null=True)
    preview = JSONAttribute(null=True)
    sample_summary = JSONAttribute(null=True)
    total_rows = NumberAttribute(null=True)
    chunks_total = NumberAttribute(null=True)
    chunks_done = NumberAttribute(default=0)
    saved = NumberAttribute(default=0)
    duplicates = NumberAttribute(default=0)
    invalid = NumberAttribute(default=0)
    # Verification verdicts of the saved leads (pending = saved - the rest).
    v_valid = NumberAttribute(default=0)
    v_risky = NumberAttribute(default=0)
    v_invalid = NumberAttribute(default=0)
    v_unknown = NumberAttribute(default=0)
    v_none = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    source_kind = UnicodeAttribute(null=True)  # "file" (the default) or a connected source
    mode = UnicodeAttribute(null=True)  # skip (the default), fill_empty, overwrite
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    progressed_at = UnicodeAttribute(null=True)
    resumes = NumberAttribute(default=0)
    error = JSONAttribute(null=True)
    # Epoch seconds: the table's TTL attribute (deleted by DynamoDB after it).
    expires_at = NumberAttribute(null=True)


# The registry of imports that are analysing or running, read by the watchdog.
ACTIVE_IMPORTS_PK = "IMPORTS#ACTIVE"


def import_key(import_id: str) -> tuple[str, str]:
    return f"IMPORT#{import_id}", "META"


def chunk_key(import_id: str, number: int) -> tuple[str, str]:
    return f"IMPORT#{import_id}", f"CHUNK#{number:07d}"


def chunk_verdicts_key(import_id: str, number: int) -> tuple[str, str]:
    """The domain verdicts a chunk's first delivery saved its leads with."""
    return f"IMPORT#{import_id}", f"PIN#{number:07d}"


def import_ref_key(list_id: str, import_id: str) -> tuple[str, str]:
    return f"IMPORTS#{list_id}", f"I#{import_id}"

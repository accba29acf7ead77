"""Lead, list, activity and claim items: the mapping between domain objects and items.

Every writer of a lead builds its item with `lead_to_model`, so the index
attributes (search, filters: domain/lead_index.py) and the people index
(domain/people.py) are derived in one place and stay exact whoever writes.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo_models import (
    ActivityModel,
    ClaimModel,
    LeadModel,
    ListModel,
    _Table,
    activity_sk,
    claim_key,
    json_dict,
    lead_sk,
    shard_pk,
)
from chalicelib.domain.activity import Activity
from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import index_attributes
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import person_attributes


def lead_to_model(lead: Lead, shards: int, workspace: str) -> LeadModel:
    """The lead item; `workspace` keys its people-index attributes (domain/people.py)."""
    shard = shard_of(lead.id, shards)
    return LeadModel(
        shard_pk(lead.list_id, shard),
        lead_sk(lead.id),
        lead_id=lead.id,
        list_id=lead.list_id,
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        emails=list(lead.emails) or None,
        phone=lead.phone,
        phone_extension=lead.phone_extension,
        phones=list(lead.phones) or None,
        company=lead.company,
        job_title=lead.job_title,
        linkedin_url=lead.linkedin_url,
        location=lead.location,
        notes=lead.notes,
        tags=list(lead.tags) or None,
        custom_fields=dict(lead.custom_fields) or None,
        status=lead.status,
        email_status=lead.email_status,
        email_status_reason=lead.email_status_reason,
        email_checked_at=lead.email_checked_at,
        created_at=lead.created_at,
        updated_at=lead.updated_at,
        version=lead.version,
        source=dict(lead.source) if lead.source else None,
        import_mark=lead.import_mark,
        last_activity_at=lead.last_activity_at,
        campaigns=dict(lead.campaigns) or None,
        next_follow_up_at=lead.next_follow_up_at,
        **_index_kwargs(lead, shard, workspace),
    )


def _index_kwargs(lead: Lead, shard: int, workspace: str) -> dict[str, Any]:
    return {**index_attributes(lead, shard), **person_attributes(workspace, lead)}


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def lead_from_model(m: LeadModel) -> Lead:
    return Lead(
        id=m.lead_id,
        list_id=m.list_id,
        first_name=m.first_name,
        last_name=m.last_name,
        email=m.email,
        emails=_strings(m.emails),
        phone=m.phone,
        phone_extension=m.phone_extension,
        phones=_strings(m.phones),
        company=m.company,
        job_title=m.job_title,
        linkedin_url=m.linkedin_url,
        location=m.location,
        notes=m.notes,
        tags=_strings(m.tags),
        custom_fields=json_dict(m.custom_fields),
        status=m.status,
        email_status=m.email_status,
        email_status_reason=m.email_status_reason,
        email_checked_at=m.email_checked_at,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version or 0),
        source=m.source or None,
        import_mark=m.import_mark,
        last_activity_at=m.last_activity_at,
        campaigns=json_dict(m.campaigns),
        next_follow_up_at=m.next_follow_up_at,
    )


def list_from_model(m: ListModel) -> LeadList:
    return LeadList(
        id=m.list_id,
        workspace=m.workspace,
        name=m.name,
        identity=m.identity,
        default_region=m.default_region,
        shards=int(m.shards),
        created_at=m.created_at,
        updated_at=m.updated_at,
        copy_status=m.copy_status,
        filterable_fields=tuple(FilterableField.from_record(f)
                                for f in (m.filterable or {}).get("fields", [])),
        next_generation=int((m.filterable or {}).get("next", 1)),
        field_history=tuple(str(h) for h in (m.filterable or {}).get("history", [])),
    )


def activity_model(lst: LeadList, activity: Activity) -> ActivityModel:
    return ActivityModel(
        shard_pk(lst.id, shard_of(activity.lead_id, lst.shards)),
        activity_sk(activity.lead_id, activity.id),
        activity_id=activity.id,
        lead_id=activity.lead_id,
        type=activity.type,
        at=activity.at,
        data=activity.data or None,
    )


def claim_item(lst: LeadList, identity_value: str, lead_id: str) -> ClaimModel:
    pk, sk = claim_key(lst.id, fingerprint(identity_value))
    return ClaimModel(pk, sk, lead_id=lead_id)


def key_of(model: _Table) -> dict[str, Any]:
    return {"pk": {"S": model.pk}, "sk": {"S": model.sk}}

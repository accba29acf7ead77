"""HTTP routes for lists and leads: parse → call a service → respond."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.lead_filter import OUTREACH_FILTERS, LeadFilter
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    page_args,
    query,
    read_json,
    workspace_of,
)

api = Blueprint(__name__)
LEAD_QUERY = {"q", "status", "email_status", "tag", "source", "company", "job_title",
              "location", "limit", "cursor", "count", *OUTREACH_FILTERS}
PAGE_QUERY = {"limit", "cursor"}


@api.route("/health", methods=["GET"])
@handles_errors
def health() -> Response:
    return json_response({"status": "ok"})


# --- lists -------------------------------------------------------------------
@api.route("/lists", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_list() -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    lists = services().lists
    lst = lists.create(workspace, read_json(request))
    return json_response(lst.to_api(0), status=201)


@api.route("/lists", methods=["GET"])
@handles_errors
def list_lists() -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, PAGE_QUERY))
    items, next_cursor = services().lists.page(workspace, limit, cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


@api.route("/lists/{list_id}", methods=["GET"])
@handles_errors
def get_list(list_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    lists = services().lists
    return json_response(lists.to_api(lists.get(workspace, list_id)))


@api.route("/lists/{list_id}", methods=["PATCH"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def update_list(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    lists = services().lists
    return json_response(lists.to_api(lists.update(workspace, list_id, read_json(request))))


@api.route("/lists/{list_id}", methods=["DELETE"])
@handles_errors
def delete_list(list_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    services().lists.delete(workspace, list_id)
    return Response(body="", status_code=204)


@api.route("/lists/{list_id}/duplicate", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def duplicate_list(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    lists = services().lists
    copy = lists.duplicate(workspace, list_id, read_json(request))
    return json_response(lists.to_api(copy), status=201)


@api.route("/lists/{list_id}/export", methods=["GET"])
@handles_errors
def export_list(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    # Where a list too large for one response is exported instead (the 413 says);
    # the context's path holds API Gateway's stage prefix, if any.
    path = str(request.context.get("path") or f"/lists/{list_id}/export")
    export_url = (f"{request.headers.get('x-forwarded-proto', 'http')}://"
                  f"{request.headers.get('host', 'localhost')}{path}s")
    export = services().exports.export_small(workspace, list_id, export_url=export_url)
    return Response(body=export.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{export.filename}"',
    })


@api.route("/lists/{list_id}/verify", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def verify_list(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    # The body is optional: no body re-verifies every email of the list.
    payload = read_json(request) if (request.raw_body or b"").strip() else {}
    return json_response(services().verification.request_list(workspace, list_id, payload),
                         status=202)


# --- leads -------------------------------------------------------------------
@api.route("/lists/{list_id}/leads", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_lead(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    lead = services().leads.create(workspace, list_id, read_json(request))
    return json_response(lead.to_api(), status=201)


@api.route("/lists/{list_id}/leads/batch", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_leads_batch(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    body, complete = services().lead_batches.create(workspace, list_id, read_json(request))
    return json_response(body, status=200 if complete else 202)


@api.route("/lists/{list_id}/leads/batch/{batch_id}", methods=["GET"])
@handles_errors
def get_leads_batch(list_id: str, batch_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    return json_response(services().lead_batches.get(workspace, list_id, batch_id))


@api.route("/lists/{list_id}/leads", methods=["GET"])
@handles_errors
def search_leads(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    params = query(request, LEAD_QUERY, prefixes=("cf.",))  # cf.<key>[.gte|.lte]
    limit, cursor = page_args(params)
    want_count = _flag(params.get("count"), "count")
    lead_filter = LeadFilter.parse({k: v for k, v in params.items()
                                    if k not in ("limit", "cursor", "count")})
    items, next_cursor, count = services().leads.search(workspace, list_id, lead_filter,
                                                        limit, cursor, count=want_count)
    body: dict[str, Any] = {"items": [lead.to_api() for lead in items],
                            "next_cursor": next_cursor}
    if want_count:
        # null: more candidates than a request reads (lead_search.MAX_COUNTED).
        body["count"] = count
    return json_response(body)


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise BadRequest(f"{name} must be true or false", code="invalid_parameter")


@api.route("/lists/{list_id}/stats", methods=["GET"])
@handles_errors
def list_stats(list_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    return json_response(services().leads.stats(workspace, list_id))


@api.route("/lists/{list_id}/leads/bulk", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def bulk_leads(list_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    affected, complete = services().leads.bulk(workspace, list_id, read_json(request))
    return json_response({"affected": affected, "complete": complete},
                         status=200 if complete else 202)


@api.route("/lists/{list_id}/leads/{lead_id}", methods=["GET"])
@handles_errors
def get_lead(list_id: str, lead_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    return json_response(services().leads.get(workspace, list_id, lead_id).to_api())


@api.route("/lists/{list_id}/leads/{lead_id}", methods=["PATCH"],
           content_types=BODY_CONTENT_TYPES)
@handles_errors
def update_lead(list_id: str, lead_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    lead = services().leads.update(workspace, list_id, lead_id, read_json(request))
    return json_response(lead.to_api())


@api.route("/lists/{list_id}/leads/{lead_id}", methods=["DELETE"])
@handles_errors
def delete_lead(list_id: str, lead_id: str) -> Response:
    workspace = workspace_of(api.current_request)
    services().leads.delete(workspace, list_id, lead_id)
    return Response(body="", status_code=204)


@api.route("/lists/{list_id}/leads/{lead_id}/activity", methods=["GET"])
@handles_errors
def lead_activity(list_id: str, lead_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, PAGE_QUERY))
    items, next_cursor = services().leads.activity(workspace, list_id, lead_id, limit, cursor)
    return json_response({"items": [a.to_api() for a in items], "next_cursor": next_cursor})


@api.route("/lists/{list_id}/leads/{lead_id}/notes", methods=["POST"],
           content_types=BODY_CONTENT_TYPES)
@handles_errors
def add_note(list_id: str, lead_id: str) -> Response:
    request = api.current_request
    workspace = workspace_of(request)
    note = services().leads.add_note(workspace, list_id, lead_id, read_json(request))
    return json_response(note.to_api(), status=201)

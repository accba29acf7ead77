"""HTTP routes for outreach: events in, a lead's follow-ups, the workspace feed."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.follow_ups import FOLLOW_UP_STATUSES
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    page_args,
    query,
    read_json,
    workspace_of,
)

outreach_api = Blueprint(__name__)


@outreach_api.route("/events", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def post_events() -> Response:
    request = outreach_api.current_request
    workspace = workspace_of(request)
    results = services().events.ingest(workspace, read_json(request))
    return json_response({"results": [r.to_api() for r in results]})


@outreach_api.route("/lists/{list_id}/leads/{lead_id}/follow-ups", methods=["POST"],
                    content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_follow_up(list_id: str, lead_id: str) -> Response:
    request = outreach_api.current_request
    workspace = workspace_of(request)
    follow_up = services().follow_ups.create(workspace, list_id, lead_id, read_json(request))
    return json_response(follow_up.to_api(), status=201)


@outreach_api.route("/lists/{list_id}/leads/{lead_id}/follow-ups", methods=["GET"])
@handles_errors
def list_follow_ups(list_id: str, lead_id: str) -> Response:
    request = outreach_api.current_request
    workspace = workspace_of(request)
    status = query(request, {"status"}).get("status")
    if status is not None and status not in FOLLOW_UP_STATUSES:
        raise BadRequest("status is one of " + ", ".join(FOLLOW_UP_STATUSES),
                         code="invalid_status")
    items = services().follow_ups.list(workspace, list_id, lead_id, status)
    return json_response({"items": [f.to_api() for f in items]})


@outreach_api.route("/lists/{list_id}/leads/{lead_id}/follow-ups/{follow_up_id}",
                    methods=["DELETE"])
@handles_errors
def cancel_follow_up(list_id: str, lead_id: str, follow_up_id: str) -> Response:
    workspace = workspace_of(outreach_api.current_request)
    services().follow_ups.cancel(workspace, list_id, lead_id, follow_up_id)
    return Response(body="", status_code=204)


@outreach_api.route("/activity", methods=["GET"])
@handles_errors
def activity_feed() -> Response:
    request = outreach_api.current_request
    workspace = workspace_of(request)
    params = query(request, {"since", "types", "list_id", "cursor", "limit"})
    limit, cursor = page_args(params)
    items, next_cursor = services().activity_feed.page(workspace, params, limit, cursor)
    return json_response({"items": [e.to_api() for e in items], "next_cursor": next_cursor})

"""HTTP routes for the suppression list and people across lists."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    page_args,
    query,
    read_json,
    workspace_of,
)

people_api = Blueprint(__name__)


@people_api.route("/suppressions", methods=["GET"])
@handles_errors
def list_suppressions() -> Response:
    request = people_api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, {"limit", "cursor"}))
    items, next_cursor = services().suppressions.page(workspace, limit, cursor)
    return json_response({"items": [s.to_api() for s in items], "next_cursor": next_cursor})


@people_api.route("/suppressions", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def add_suppression() -> Response:
    request = people_api.current_request
    workspace = workspace_of(request)
    entry, created = services().suppressions.add(workspace, read_json(request))
    return json_response(entry.to_api(), status=201 if created else 200)


@people_api.route("/suppressions/{suppression_id}", methods=["GET"])
@handles_errors
def get_suppression(suppression_id: str) -> Response:
    workspace = workspace_of(people_api.current_request)
    return json_response(services().suppressions.get(workspace, suppression_id).to_api())


@people_api.route("/suppressions/{suppression_id}", methods=["DELETE"])
@handles_errors
def delete_suppression(suppression_id: str) -> Response:
    workspace = workspace_of(people_api.current_request)
    services().suppressions.delete(workspace, suppression_id)
    return Response(body="", status_code=204)


@people_api.route("/people", methods=["GET"])
@handles_errors
def find_person() -> Response:
    request = people_api.current_request
    workspace = workspace_of(request)
    params = query(request, {"email", "phone", "linkedin_url"})
    return json_response({"items": services().people.find(workspace, params)})


@people_api.route("/lists/{list_id}/leads/{lead_id}/copy", methods=["POST"],
                  content_types=BODY_CONTENT_TYPES)
@handles_errors
def copy_lead(list_id: str, lead_id: str) -> Response:
    request = people_api.current_request
    workspace = workspace_of(request)
    lead = services().leads.copy(workspace, list_id, lead_id, read_json(request))
    return json_response(lead.to_api(), status=201)


@people_api.route("/erasures", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def start_erasure() -> Response:
    request = people_api.current_request
    workspace = workspace_of(request)
    wired = services()
    erasure = wired.erasures.start(workspace, read_json(request),
                                   wired.auth.token_id(request.headers.get("authorization")))
    return json_response(erasure.to_api(), status=202)


@people_api.route("/erasures/{erasure_id}", methods=["GET"])
@handles_errors
def get_erasure(erasure_id: str) -> Response:
    workspace = workspace_of(people_api.current_request)
    return json_response(services().erasures.get(workspace, erasure_id).to_api())

"""HTTP routes for syncs: a list kept in step with a CRM object, and its runs."""

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

syncs_api = Blueprint(__name__)


@syncs_api.route("/lists/{list_id}/syncs", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_sync(list_id: str) -> Response:
    request = syncs_api.current_request
    workspace = workspace_of(request)
    sync = services().syncs.create(workspace, list_id, read_json(request))
    return json_response(sync.to_api(), status=201)


@syncs_api.route("/lists/{list_id}/syncs", methods=["GET"])
@handles_errors
def list_syncs(list_id: str) -> Response:
    request = syncs_api.current_request
    workspace = workspace_of(request)
    query(request, set())
    return json_response({"items": [s.to_api() for s in services().syncs.page(workspace,
                                                                              list_id)]})


@syncs_api.route("/syncs/{sync_id}", methods=["GET"])
@handles_errors
def get_sync(sync_id: str) -> Response:
    workspace = workspace_of(syncs_api.current_request)
    return json_response(services().syncs.get(workspace, sync_id).to_api())


@syncs_api.route("/syncs/{sync_id}", methods=["PATCH"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def update_sync(sync_id: str) -> Response:
    request = syncs_api.current_request
    workspace = workspace_of(request)
    return json_response(services().syncs.update(workspace, sync_id,
                                                 read_json(request)).to_api())


@syncs_api.route("/syncs/{sync_id}", methods=["DELETE"])
@handles_errors
def delete_sync(sync_id: str) -> Response:
    workspace = workspace_of(syncs_api.current_request)
    services().syncs.delete(workspace, sync_id)
    return Response(body="", status_code=204)


@syncs_api.route("/syncs/{sync_id}/run", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def run_sync(sync_id: str) -> Response:
    workspace = workspace_of(syncs_api.current_request)
    job = services().syncs.run_now(workspace, sync_id)
    return json_response({"import_id": job.id, "import": job.to_api()}, status=202)


@syncs_api.route("/syncs/{sync_id}/runs", methods=["GET"])
@handles_errors
def sync_runs(sync_id: str) -> Response:
    request = syncs_api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, {"limit", "cursor"}))
    jobs, next_cursor = services().syncs.runs(workspace, sync_id, limit, cursor)
    return json_response({"items": [j.to_api() for j in jobs], "next_cursor": next_cursor})

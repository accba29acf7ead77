"""HTTP routes for background exports: start one, follow it to its download link."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    read_json,
    workspace_of,
)

exports_api = Blueprint(__name__)


@exports_api.route("/lists/{list_id}/exports", methods=["POST"],
                   content_types=BODY_CONTENT_TYPES)
@handles_errors
def start_export(list_id: str) -> Response:
    request = exports_api.current_request
    workspace = workspace_of(request)
    # The body is optional: no body exports every lead, every column, as CSV.
    payload = read_json(request) if (request.raw_body or b"").strip() else {}
    return json_response(services().exports.start(workspace, list_id, payload), status=202)


@exports_api.route("/exports/{export_id}", methods=["GET"])
@handles_errors
def get_export(export_id: str) -> Response:
    workspace = workspace_of(exports_api.current_request)
    return json_response(services().exports.get(workspace, export_id))

"""HTTP routes for the workspace's API tokens: list, create, revoke."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    query,
    read_json,
    workspace_of,
)

tokens_api = Blueprint(__name__)


@tokens_api.route("/tokens", methods=["GET"])
@handles_errors
def list_tokens() -> Response:
    request = tokens_api.current_request
    workspace = workspace_of(request)
    query(request, set())
    auth = services().auth
    return json_response({"items": [auth.to_api(r) for r in auth.tokens(workspace)]})


@tokens_api.route("/tokens", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_token() -> Response:
    request = tokens_api.current_request
    workspace = workspace_of(request)
    auth = services().auth
    record, token = auth.create(workspace, read_json(request))
    return json_response({**auth.to_api(record), "token": token}, status=201)


@tokens_api.route("/tokens/{token_id}", methods=["DELETE"])
@handles_errors
def revoke_token(token_id: str) -> Response:
    workspace = workspace_of(tokens_api.current_request)
    services().auth.revoke(workspace, token_id)
    return Response(body="", status_code=204)

"""HTTP routes for connections (HubSpot, Salesforce, Google) and the OAuth callback."""

from __future__ import annotations

from urllib.parse import quote

from chalice.app import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.domain.errors import LeadpipeError
from chalicelib.entrypoints.http_support import (
    BODY_CONTENT_TYPES,
    handles_errors,
    json_response,
    query,
    read_json,
    workspace_of,
)

connections_api = Blueprint(__name__)


@connections_api.route("/connections", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_connection() -> Response:
    request = connections_api.current_request
    workspace = workspace_of(request)
    connection = services().connections.create(workspace, read_json(request))
    return json_response(connection.to_api(), status=201)


@connections_api.route("/connections", methods=["GET"])
@handles_errors
def list_connections() -> Response:
    request = connections_api.current_request
    workspace = workspace_of(request)
    query(request, set())
    return json_response({"items": [c.to_api() for c in services().connections.list(workspace)]})


@connections_api.route("/connections/{connection_id}", methods=["GET"])
@handles_errors
def get_connection(connection_id: str) -> Response:
    workspace = workspace_of(connections_api.current_request)
    return json_response(services().connections.get(workspace, connection_id).to_api())


@connections_api.route("/connections/{connection_id}", methods=["DELETE"])
@handles_errors
def delete_connection(connection_id: str) -> Response:
    workspace = workspace_of(connections_api.current_request)
    services().connections.delete(workspace, connection_id)
    return Response(body="", status_code=204)


@connections_api.route("/connections/{provider}/authorize", methods=["GET"])
@handles_errors
def authorize_connection(provider: str) -> Response:
    request = connections_api.current_request
    workspace = workspace_of(request)
    params = query(request, {"redirect_uri"})
    url = services().connections.authorize_url(workspace, provider, params.get("redirect_uri"))
    return json_response({"authorize_url": url})


# No bearer token here: the provider sends the browser back with a code, and
# the signed, expiring state (sealed by KMS) says which workspace asked.
@connections_api.route("/oauth/{provider}/callback", methods=["GET"])
@handles_errors
def oauth_callback(provider: str) -> Response:
    request = connections_api.current_request
    params = query(request, {"code", "state", "scope", "error", "error_description"})
    # A person's browser (the web app sent it to the provider) goes back to the
    # app's Sources screen; an API client gets the JSON answer.
    to_app = "text/html" in str(request.headers.get("accept") or "")
    if params.get("error"):
        if to_app:
            return _back_to_app(f"oauth_error=authorization_denied&provider={provider}")
        return json_response({"error": {"code": "authorization_denied",
                                        "message": "The provider did not authorize leadpipe",
                                        "details": {"provider_error": params["error"][:100]}}},
                             status=400)
    try:
        connection = services().connections.callback(provider, params.get("code"),
                                                     params.get("state"))
    except LeadpipeError as exc:
        if to_app:
            return _back_to_app(f"oauth_error={quote(exc.code)}&provider={provider}")
        raise
    if to_app:
        return _back_to_app(f"connected={quote(connection.id)}&provider={provider}")
    return json_response(connection.to_api(), status=201)


def _back_to_app(query_string: str) -> Response:
    # Relative to /oauth/<provider>/callback: /app/ here, /<stage>/app/ on AWS.
    # The outcome is in the fragment: no token, no code, nothing a log keeps.
    return Response(body="", status_code=303,
                    headers={"Location": f"../../app/#/sources?{query_string}",
                             "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

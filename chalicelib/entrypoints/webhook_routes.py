"""HTTP routes for webhook endpoints and their deliveries (docs/webhooks.md)."""

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

webhooks_api = Blueprint(__name__)


@webhooks_api.route("/webhooks", methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def create_webhook() -> Response:
    request = webhooks_api.current_request
    workspace = workspace_of(request)
    endpoint, secret = services().webhooks.create(workspace, read_json(request))
    return json_response({**endpoint.to_api(), "secret": secret}, status=201)


@webhooks_api.route("/webhooks", methods=["GET"])
@handles_errors
def list_webhooks() -> Response:
    workspace = workspace_of(webhooks_api.current_request)
    return json_response({"items": [e.to_api() for e in services().webhooks.list(workspace)]})


@webhooks_api.route("/webhooks/{webhook_id}", methods=["GET"])
@handles_errors
def get_webhook(webhook_id: str) -> Response:
    workspace = workspace_of(webhooks_api.current_request)
    return json_response(services().webhooks.get(workspace, webhook_id).to_api())


@webhooks_api.route("/webhooks/{webhook_id}", methods=["PATCH"],
                    content_types=BODY_CONTENT_TYPES)
@handles_errors
def update_webhook(webhook_id: str) -> Response:
    request = webhooks_api.current_request
    workspace = workspace_of(request)
    endpoint = services().webhooks.update(workspace, webhook_id, read_json(request))
    return json_response(endpoint.to_api())


@webhooks_api.route("/webhooks/{webhook_id}", methods=["DELETE"])
@handles_errors
def delete_webhook(webhook_id: str) -> Response:
    workspace = workspace_of(webhooks_api.current_request)
    services().webhooks.delete(workspace, webhook_id)
    return Response(body="", status_code=204)


@webhooks_api.route("/webhooks/{webhook_id}/deliveries", methods=["GET"])
@handles_errors
def list_deliveries(webhook_id: str) -> Response:
    request = webhooks_api.current_request
    workspace = workspace_of(request)
    limit, cursor = page_args(query(request, {"cursor", "limit"}))
    items, next_cursor = services().webhooks.deliveries(workspace, webhook_id, limit, cursor)
    return json_response({"items": [d.to_api() for d in items], "next_cursor": next_cursor})


@webhooks_api.route("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
                    methods=["POST"], content_types=BODY_CONTENT_TYPES)
@handles_errors
def redeliver(webhook_id: str, delivery_id: str) -> Response:
    workspace = workspace_of(webhooks_api.current_request)
    delivery = services().webhooks.redeliver(workspace, webhook_id, delivery_id)
    return json_response(delivery.to_api(), status=202)

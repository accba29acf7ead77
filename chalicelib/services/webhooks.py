"""Webhook endpoints of a workspace: create (the secret shown once), read, edit, delete,
their deliveries and a redelivery (docs/webhooks.md)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import BadRequest, Conflict, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.webhook_messages import delivery_message
from chalicelib.domain.webhook_signing import new_secret
from chalicelib.domain.webhooks import (
    MAX_ENDPOINTS,
    Delivery,
    Endpoint,
    check_keys,
    parse_description,
    parse_events,
    patch_endpoint,
)
from chalicelib.services.ports import BatchQueue, SecretBox, WebhookStore

SECRET_PURPOSE = "webhook_secret"  # noqa: S105 (an encryption-context value)
CREATE_FIELDS = ("url", "events", "description")
PATCH_FIELDS = ("url", "events", "description", "enabled")

# Checks a URL and where its host resolves now (adapters/webhook_http.check_destination).
DestinationCheck = Callable[[str], None]


class WebhookService:
    def __init__(self, store: WebhookStore, box: SecretBox, queue: BatchQueue,
                 check_destination: DestinationCheck,
                 on_change: Callable[[str], None] = lambda workspace: None) -> None:
        self._store = store
        self._box = box
        self._queue = queue
        self._check = check_destination
        # Told of every change to a workspace's endpoints (the outbox's cache).
        self._on_change = on_change

    def create(self, workspace: str, payload: Mapping[str, Any]) -> tuple[Endpoint, str]:
        """The new endpoint and its secret: the only time the secret is given out."""
        check_keys(payload, CREATE_FIELDS)
        events = parse_events(payload.get("events"))
        description = parse_description(payload.get("description"))
        url = payload.get("url")
        self._check(url if isinstance(url, str) else "")
        if len(self._store.endpoints(workspace)) >= MAX_ENDPOINTS:
            raise BadRequest(f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints",
                             code="too_many_webhooks")
        now = utc_now_iso()
        endpoint = Endpoint(id=new_id("wh"), workspace=workspace, url=str(url).strip(),
                            events=events, description=description, enabled=True,
                            created_at=now, updated_at=now)
        secret = new_secret()
        self._store.add_endpoint(endpoint, self._box.seal(workspace, SECRET_PURPOSE,
                                                          {"secret": secret}))
        self._on_change(workspace)
        return endpoint, secret

    def get(self, workspace: str, endpoint_id: str) -> Endpoint:
        found = self._store.endpoint(workspace, endpoint_id) if endpoint_id.startswith(
            "wh_") else None
        if found is None:
            raise NotFound("Webhook not found", details={"webhook_id": endpoint_id})
        return found[0]

    def list(self, workspace: str) -> builtins.list[Endpoint]:
        return sorted(self._store.endpoints(workspace), key=lambda e: e.id)

    def update(self, workspace: str, endpoint_id: str, payload: Mapping[str, Any]) -> Endpoint:
        check_keys(payload, PATCH_FIELDS)
        url = None
        if "url" in payload:
            self._check(payload["url"] if isinstance(payload["url"], str) else "")
            url = str(payload["url"]).strip()
        for _ in range(3):
            before = self.get(workspace, endpoint_id)
            after = patch_endpoint(before, payload, url=url, now=utc_now_iso())
            if self._store.save_endpoint(after, previous_version=before.version):
                self._on_change(workspace)
                return after
        raise Conflict("The webhook changed meanwhile; read it again", code="edit_conflict")

    def delete(self, workspace: str, endpoint_id: str) -> None:
        self.get(workspace, endpoint_id)
        self._store.delete_endpoint(workspace, endpoint_id)
        self._on_change(workspace)

    def deliveries(self, workspace: str, endpoint_id: str, limit: int,
                   cursor: str | None) -> tuple[builtins.list[Delivery], str | None]:
        self.get(workspace, endpoint_id)
        if cursor is not None and not cursor.startswith("dl_"):
            raise BadRequest("The cursor is not valid", code="invalid_cursor")
        return self._store.deliveries(workspace, endpoint_id, limit, cursor)

    def redeliver(self, workspace: str, endpoint_id: str, delivery_id: str) -> Delivery:
        """Send a delivery's event again, as a new attempt with a fresh 24-hour window."""
        endpoint = self.get(workspace, endpoint_id)
        found = self._store.delivery(workspace, endpoint_id, delivery_id) \
            if delivery_id.startswith("dl_") else None
        if found is None:
            raise NotFound("Delivery not found", details={"delivery_id": delivery_id})
        delivery, event = found
        if not endpoint.enabled:
            raise Conflict("The webhook is disabled; enable it first", code="webhook_disabled")
        if not self._store.reopen(delivery):
            raise Conflict("The delivery is being attempted; try again shortly",
                           code="delivery_in_progress")
        self._queue.send(dict(delivery_message(endpoint_id, workspace, delivery_id, event,
                                               attempt=delivery.attempts + 1)))
        return Delivery(**{**delivery.__dict__, "status": "pending", "next_attempt_at": None})

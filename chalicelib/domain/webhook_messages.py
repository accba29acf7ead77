"""The `webhooks` queue's message: one event for one endpoint, built and parsed here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from chalicelib.domain.errors import DropMessage


class WebhookEvent(TypedDict):
    """The JSON body POSTed to the endpoint."""

    id: str
    type: str
    created_at: str
    workspace: str
    data: dict[str, Any]


class DeliveryMessage(TypedDict):
    endpoint_id: str
    workspace: str
    delivery_id: str
    event: WebhookEvent
    # The attempt this message makes (1-based).
    attempt: int
    # Epoch seconds: the delivery's first attempt (None before it), the time
    # before which this message only waits (a hop of a long back-off).
    first_attempt_at: float | None
    not_before: float
    # When the event happened (epoch seconds): the bench's event-to-delivery delay.
    emitted_at: float


def delivery_message(endpoint_id: str, workspace: str, delivery_id: str, event: WebhookEvent,
                     *, attempt: int = 1, first_attempt_at: float | None = None,
                     not_before: float = 0.0, emitted_at: float = 0.0) -> DeliveryMessage:
    return DeliveryMessage(endpoint_id=endpoint_id, workspace=workspace,
                           delivery_id=delivery_id, event=event, attempt=attempt,
                           first_attempt_at=first_attempt_at, not_before=not_before,
                           emitted_at=emitted_at)


def parse_delivery_message(body: Mapping[str, Any]) -> DeliveryMessage:
    """The message, or DropMessage for a body that is not one (never retried)."""
    try:
        event = body["event"]
        parsed_event = WebhookEvent(id=str(event["id"]), type=str(event["type"]),
                                    created_at=str(event["created_at"]),
                                    workspace=str(event["workspace"]),
                                    data=dict(event["data"]))
        first = body.get("first_attempt_at")
        return delivery_message(
            str(body["endpoint_id"]), str(body["workspace"]), str(body["delivery_id"]),
            parsed_event, attempt=int(body["attempt"]),
            first_attempt_at=None if first is None else float(first),
            not_before=float(body.get("not_before") or 0.0),
            emitted_at=float(body.get("emitted_at") or 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise DropMessage(f"not a webhook delivery message ({type(exc).__name__})",
                          code="malformed_message") from None

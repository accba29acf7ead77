"""An erased person in the webhook delivery log.

A delivery keeps the event it carried for 30 days, so that it can be sent
again (`POST /webhooks/{id}/deliveries/{delivery_id}/redeliver`); a
`lead.created` or `lead.updated` event holds the lead's fields. The erasure
reads each endpoint's log and replaces the `data` of every event holding the
person (a string in it normalising to their value) with `{"erased": true}`,
keeping the delivery's id, type, status and attempts: the log stays complete,
a redelivery sends the redacted event. A later attempt of a delivery still
being retried keeps the redacted event in the log (adapters/dynamo_webhooks.py
does not write the event again); its queue message, made before, still
carries the body to the customer's own endpoint.
"""

from __future__ import annotations

import time

from chalicelib.domain.people import HashedPerson
from chalicelib.domain.webhook_messages import WebhookEvent
from chalicelib.services.erasure_files import holds_person
from chalicelib.services.ports import WebhookStore

_PAGE = 200


def redacted(event: WebhookEvent) -> WebhookEvent:
    return {**event, "data": {"erased": True}}


class PersonDeliveries:
    def __init__(self, store: WebhookStore) -> None:
        self._store = store

    def clean(self, workspace: str, person: HashedPerson, after: str | None,
              deadline: float | None) -> tuple[int, str | None]:
        """Events redacted, and where to go on (`<endpoint id>/<delivery id>`) when
        time ran out (None: every endpoint's log was read)."""
        start_endpoint, _, start_delivery = (after or "").partition("/")
        redacted_count = 0
        for endpoint_id in sorted(e.id for e in self._store.endpoints(workspace)):
            if endpoint_id < start_endpoint:
                continue
            cursor = start_delivery or None if endpoint_id == start_endpoint else None
            while True:
                page, cursor = self._store.delivery_events(workspace, endpoint_id, _PAGE, cursor)
                for delivery_id, event in page:
                    if event.get("data", {}).get("erased") is not True and holds_person(
                            event.get("data"), person, "US"):
                        self._store.replace_event(workspace, endpoint_id, delivery_id,
                                                  redacted(event))
                        redacted_count += 1
                if cursor is None:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    return redacted_count, f"{endpoint_id}/{cursor}"
        return redacted_count, None

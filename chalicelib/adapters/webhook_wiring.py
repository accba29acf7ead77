"""The webhook adapters of a stage, built together (bootstrap.py wires them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from chalicelib.adapters.dynamo_webhooks import DynamoWebhooks
from chalicelib.adapters.sqs_batch import SqsBatchQueue
from chalicelib.adapters.webhook_http import SocketResolver, WebhookHttp, check_destination
from chalicelib.config import Settings

# Stages whose webhook receivers may be on loopback: `make run` and the bench
# (local), the test suite (test). Nowhere else.
LOOPBACK_STAGES = ("local", "test")


@dataclass(frozen=True)
class WebhookAdapters:
    store: DynamoWebhooks
    queue: SqsBatchQueue
    sender: WebhookHttp
    check_destination: Callable[[str], None]


def webhook_adapters(settings: Settings) -> WebhookAdapters:
    resolver = SocketResolver()
    allow_loopback = settings.stage in LOOPBACK_STAGES
    return WebhookAdapters(
        store=DynamoWebhooks(),
        queue=SqsBatchQueue(settings.queue_name("webhooks"), settings.region),
        sender=WebhookHttp(allow_loopback=allow_loopback, resolver=resolver),
        check_destination=partial(check_destination, resolver=resolver,
                                  allow_loopback=allow_loopback))

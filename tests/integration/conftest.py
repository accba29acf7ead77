from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.provider_settings import provider_apps
from tools.sandboxes.credentials import (
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    HUBSPOT_PRIVATE_APP_TOKEN,
)
from tools.sandboxes.hubspot import HubSpotSandbox

_workspaces = itertools.count()


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    from tools.embedded_aws import item_level_rollback, partition_queries
    from tools.provision import provision
    from tools.s3_post_policy import enforce_post_policy

    # The same moto fixes the local stack's embedded AWS applies (tools/
    # embedded_aws.py): a transaction snapshots the items it touches, not the
    # whole table, and a query reads its partition; without them a 10k-row
    # import costs minutes of deep copies. Calls here are one at a time.
    # And S3 refuses a POST upload its policy does not allow, as AWS does.
    item_level_rollback()
    partition_queries()
    enforce_post_policy()
    with mock_aws():
        region = get_settings().region
        provision(get_settings(),
                  dynamodb_client=boto3.client("dynamodb", region_name=region),
                  s3_client=boto3.client("s3", region_name=region),
                  sqs_client=boto3.client("sqs", region_name=region),
                  kms_client=boto3.client("kms", region_name=region))
        yield


@pytest.fixture(scope="module")
def app(aws: None) -> Any:
    from app import app as chalice_app

    return chalice_app


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[Client]:
    with Client(app) as test_client:
        yield test_client


class Api:
    """A workspace's view of the API through chalice's test client."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                **(extra or {})}

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:
        import json

        payload = raw if raw is not None else (None if body is None else json.dumps(body))
        return getattr(self.client.http, method.lower())(
            path, headers=self._headers(headers), body=payload)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    def new_list(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/lists", {"name": "Q1 Prospects", **fields})
        assert response.status_code == 201, response.json_body
        return response.json_body  # type: ignore[no-any-return]


def new_api(client: Client) -> Api:
    token = services().auth.create_token(f"ws-{next(_workspaces)}")
    return Api(client, token)


@pytest.fixture
def api(client: Client) -> Api:
    return new_api(client)


@pytest.fixture
def other_api(client: Client) -> Api:
    return new_api(client)


@pytest.fixture
def pump(app: Any, aws: None) -> Any:
    from tools.event_pump import EventPump

    return EventPump(app, boto3.client("sqs", region_name=get_settings().region), wait_seconds=0)


# A loopback HubSpot (tools/sandboxes) that leadpipe's settings point at.
@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotSandbox]:
    sandbox = HubSpotSandbox(private_app_tokens=[HUBSPOT_PRIVATE_APP_TOKEN])
    url = sandbox.start()
    monkeypatch.setenv("LEADPIPE_HUBSPOT_API_URL", url)
    monkeypatch.setenv("LEADPIPE_HUBSPOT_AUTHORIZE_URL", f"{url}/oauth/authorize")
    monkeypatch.setenv("LEADPIPE_HUBSPOT_CLIENT_ID", HUBSPOT_CLIENT_ID)
    monkeypatch.setenv("LEADPIPE_HUBSPOT_CLIENT_SECRET", HUBSPOT_CLIENT_SECRET)
    provider_apps.cache_clear()
    yield sandbox
    sandbox.stop()
    provider_apps.cache_clear()

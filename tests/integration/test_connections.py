"""Connections against a loopback HubSpot (tools/sandboxes): tokens, OAuth, refresh, secrecy."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest

from chalicelib.config import get_settings
from tests.integration.conftest import Api
from tools.sandboxes.credentials import (
    HUBSPOT_CLIENT_ID,
    HUBSPOT_PRIVATE_APP_TOKEN,
)

CALLBACK = "http://127.0.0.1:8000/oauth/hubspot/callback"


def stored_item(workspace_token_api: Api, connection_id: str) -> dict[str, Any]:
    db = boto3.client("dynamodb", region_name=get_settings().region)
    items = db.scan(TableName=get_settings().table_name,
                    FilterExpression="connection_id = :c",
                    ExpressionAttributeValues={":c": {"S": connection_id}})["Items"]
    assert len(items) == 1
    return items[0]  # type: ignore[no-any-return]


def test_a_private_app_token_connects_and_is_never_shown_again(
        api: Api, other_api: Api, hubspot):
    created = api.post("/connections", {"provider": "hubspot", "name": "Sales HubSpot",
                                         "access_token": HUBSPOT_PRIVATE_APP_TOKEN})
    assert created.status_code == 201, created.json_body
    body = created.json_body
    assert body["provider"] == "hubspot" and body["status"] == "active"
    assert body["name"] == "Sales HubSpot" and body["credential_hint"] == "…0001"
    assert HUBSPOT_PRIVATE_APP_TOKEN not in json.dumps(body)
    listed = api.get("/connections").json_body["items"]
    assert [c["id"] for c in listed] == [body["id"]]
    assert HUBSPOT_PRIVATE_APP_TOKEN not in json.dumps(listed)
    # Stored encrypted: the token is nowhere in the item
    item = stored_item(api, body["id"])
    assert HUBSPOT_PRIVATE_APP_TOKEN not in json.dumps(item)
    # Workspaces are isolated
    assert other_api.get(f"/connections/{body['id']}").status_code == 404
    assert other_api.delete(f"/connections/{body['id']}").status_code == 404
    assert other_api.get("/connections").json_body["items"] == []
    assert api.delete(f"/connections/{body['id']}").status_code == 204
    assert api.get(f"/connections/{body['id']}").status_code == 404


def test_a_sealed_secret_does_not_open_for_another_workspace(api: Api, hubspot):
    body = api.post("/connections", {"provider": "hubspot",
                                     "access_token": HUBSPOT_PRIVATE_APP_TOKEN}).json_body
    item = stored_item(api, body["id"])
    blob = base64.b64decode(item["secret"]["S"])
    kms = boto3.client("kms", region_name=get_settings().region)
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext={
        "workspace": item["workspace"]["S"], "purpose": "connection"})["Plaintext"]
    assert json.loads(opened)["access_token"] == HUBSPOT_PRIVATE_APP_TOKEN
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"workspace": "someone-else",
                                                            "purpose": "connection"})


def test_bad_requests_are_400_with_stable_codes(api: Api, hubspot):
    cases = [
        ({"provider": "pipedrive", "access_token": "x" * 20}, "unknown_provider"),
        ({"provider": "hubspot"}, "credentials_required"),
        ({"provider": "hubspot", "access_token": "x" * 20, "password": "p"}, "unknown_field"),
        ({"provider": "salesforce", "access_token": "x" * 20}, "credentials_required"),
        ({"provider": "hubspot", "name": "", "access_token": "x" * 20}, "invalid_type"),
    ]
    for payload, code in cases:
        response = api.post("/connections", payload)
        assert response.status_code == 400, payload
        codes = [e["code"] for e in response.json_body["error"]["details"]["errors"]]
        assert code in codes, (payload, codes)
    insecure = api.post("/connections", {"provider": "salesforce", "access_token": "x" * 20,
                                         "instance_url": "http://10.0.0.5"})
    assert insecure.json_body["error"]["code"] == "insecure_url"
    metadata = api.post("/connections", {"provider": "salesforce", "access_token": "x" * 20,
                                         "instance_url": "https://169.254.169.254"})
    assert metadata.json_body["error"]["code"] == "forbidden_address"
    broken = api.post("/connections", {"provider": "salesforce", "access_token": "x" * 20,
                                       "instance_url": "http://[::1"})
    assert broken.status_code == 400 and broken.json_body["error"]["code"] == "invalid_url"


def test_a_refresh_token_is_tried_at_once_and_a_bad_one_refused(api: Api, hubspot):
    good = hubspot.issue_refresh_token()
    created = api.post("/connections", {"provider": "hubspot", "refresh_token": good})
    assert created.status_code == 201, created.json_body
    assert hubspot.count("POST", "/oauth/v1/token") == 1
    bad = api.post("/connections", {"provider": "hubspot", "refresh_token": "not-a-token-1234"})
    assert bad.status_code == 400 and bad.json_body["error"]["code"] == "reauthorize"


def test_oauth_in_a_browser_creates_the_connection_in_the_asking_workspace(
        api: Api, other_api: Api, hubspot, client):
    asked = api.get("/connections/hubspot/authorize?" + urlencode({"redirect_uri": CALLBACK}))
    assert asked.status_code == 200, asked.json_body
    url = urlsplit(asked.json_body["authorize_url"])
    assert url.path == "/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == HUBSPOT_CLIENT_ID and query["redirect_uri"] == CALLBACK
    assert "crm.objects.contacts.read" in query["scope"]
    # The person consents; HubSpot sends the browser back with a code
    code = hubspot.issue_code(CALLBACK)
    back = client.http.get("/oauth/hubspot/callback?" + urlencode(
        {"code": code, "state": query["state"]}))
    assert back.status_code == 201, back.json_body
    connection = json.loads(back.body)
    assert [c["id"] for c in api.get("/connections").json_body["items"]] == [connection["id"]]
    assert other_api.get("/connections").json_body["items"] == []
    # A tampered state, a state for another provider, no state: refused
    for state in (query["state"][:-4] + "AAAA", "not-base64!", ""):
        refused = client.http.get("/oauth/hubspot/callback?" + urlencode(
            {"code": hubspot.issue_code(CALLBACK), "state": state}))
        assert refused.status_code == 400
        assert json.loads(refused.body)["error"]["code"] in ("invalid_state", "invalid_callback")
    wrong = client.http.get("/oauth/salesforce/callback?" + urlencode(
        {"code": "c", "state": query["state"]}))
    assert json.loads(wrong.body)["error"]["code"] == "invalid_state"
    denied = client.http.get("/oauth/hubspot/callback?error=access_denied")
    assert json.loads(denied.body)["error"]["code"] == "authorization_denied"


def test_a_browser_is_sent_back_to_the_web_app_with_the_outcome_in_the_fragment(
        api: Api, hubspot, client):
    asked = api.get("/connections/hubspot/authorize?" + urlencode({"redirect_uri": CALLBACK}))
    state = parse_qs(urlsplit(asked.json_body["authorize_url"]).query)["state"][0]
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    back = client.http.get("/oauth/hubspot/callback?" + urlencode(
        {"code": hubspot.issue_code(CALLBACK), "state": state}), headers=html)
    assert back.status_code == 303
    (connection,) = api.get("/connections").json_body["items"]
    assert back.headers["Location"] == (
        f"../../app/#/sources?connected={connection['id']}&provider=hubspot")
    # a refusal or a bad state comes back as a code the app explains; nothing is created
    denied = client.http.get("/oauth/hubspot/callback?error=access_denied", headers=html)
    assert denied.headers["Location"].endswith(
        "#/sources?oauth_error=authorization_denied&provider=hubspot")
    stale = client.http.get("/oauth/hubspot/callback?" + urlencode(
        {"code": "c", "state": "not-base64!"}), headers=html)
    assert stale.status_code == 303 and "oauth_error=invalid_state" in stale.headers["Location"]
    assert len(api.get("/connections").json_body["items"]) == 1


def test_an_expired_state_is_refused(api: Api, hubspot, client, monkeypatch):
    from chalicelib.bootstrap import services

    asked = api.get("/connections/hubspot/authorize?" + urlencode({"redirect_uri": CALLBACK}))
    state = parse_qs(urlsplit(asked.json_body["authorize_url"]).query)["state"][0]
    monkeypatch.setattr(services().connections, "_clock", lambda: time.time() + 601)
    back = client.http.get("/oauth/hubspot/callback?" + urlencode(
        {"code": hubspot.issue_code(CALLBACK), "state": state}))
    assert json.loads(back.body)["error"]["code"] == "invalid_state"


def test_redirect_uris_must_be_https_or_loopback(api: Api, hubspot):
    for uri, code in (("http://example.com/cb", "insecure_url"),
                      ("https://169.254.169.254/cb", "forbidden_address"),
                      ("", "redirect_uri_required")):
        response = api.get("/connections/hubspot/authorize?" + urlencode({"redirect_uri": uri}))
        assert response.status_code == 400
        assert response.json_body["error"]["code"] == code


def test_access_tokens_are_refreshed_before_they_expire_and_a_refused_refresh_asks_to_reconnect(
        api: Api, hubspot, monkeypatch):
    from chalicelib.bootstrap import services

    refresh = hubspot.issue_refresh_token()
    body = api.post("/connections", {"provider": "hubspot", "refresh_token": refresh}).json_body
    service = services().connections
    workspace = stored_item(api, body["id"])["workspace"]["S"]
    _, first = service.credentials(workspace, body["id"])
    assert hubspot.count("POST", "/oauth/v1/token") == 1  # fresh: no new refresh
    # 25 minutes on, the 30-minute token is inside the 5-minute margin: refreshed
    monkeypatch.setattr(service, "_clock", lambda: time.time() + 25 * 60 + 1)
    _, second = service.credentials(workspace, body["id"])
    assert second.access_token != first.access_token
    assert hubspot.count("POST", "/oauth/v1/token") == 2
    # A 401 on a token refreshes once; a second 401 with the new token too, not more
    _, third = service.after_unauthorized(workspace, body["id"], second)
    assert hubspot.count("POST", "/oauth/v1/token") == 3
    _, same = service.after_unauthorized(workspace, body["id"], second)  # stale: no refresh
    assert same.access_token == third.access_token
    assert hubspot.count("POST", "/oauth/v1/token") == 3
    # The user disconnects the app in HubSpot: the next refresh is refused
    hubspot.revoke(refresh)
    with pytest.raises(Exception) as refused:
        service.after_unauthorized(workspace, body["id"], third)
    assert getattr(refused.value, "code", None) == "reauthorize"
    shown = api.get(f"/connections/{body['id']}").json_body
    assert shown["status"] == "reauthorize" and shown["error"]["code"] == "reauthorize"
    with pytest.raises(Exception) as again:
        service.credentials(workspace, body["id"])
    assert getattr(again.value, "code", None) == "reauthorize"

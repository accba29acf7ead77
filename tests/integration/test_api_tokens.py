"""Token lifecycle and per-workspace throttling through the HTTP API, over in-process moto."""

from __future__ import annotations

import time

import boto3
import pytest

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.services.auth import hash_token
from tests.integration.conftest import Api


def _as(api: Api, token: str) -> Api:
    return Api(api.client, token)


def test_create_list_and_use_a_new_token(api: Api):
    # WHEN a workspace creates a named token that expires in 30 days
    created = api.post("/tokens", {"name": "  CI   deploys ", "expires_in_days": 30})
    # THEN it is shown once, with its id, hint and expiry
    assert created.status_code == 201, created.json_body
    body = created.json_body
    token = body["token"]
    assert token.startswith("lp_") and body["id"].startswith("tok_")
    assert body["name"] == "CI deploys" and body["hint"] == token[-4:]
    assert body["expires_at"] > body["created_at"] and body["expired"] is False
    # and it works for the same workspace
    lst = _as(api, token).new_list()
    assert api.get(f"/lists/{lst['id']}").status_code == 200
    # and GET /tokens lists both tokens, never a token or a hash
    listed = api.get("/tokens")
    assert listed.status_code == 200
    items = listed.json_body["items"]
    assert body["id"] in [t["id"] for t in items] and len(items) == 2
    text = repr(listed.json_body)
    assert token not in text and api.token not in text
    assert hash_token(token) not in text and "token_hash" not in text
    mine = next(t for t in items if t["id"] == body["id"])
    assert set(mine) == {"id", "name", "hint", "created_at", "expires_at", "last_used_at",
                         "expired"}
    assert mine["last_used_at"] is not None  # it was used above


def test_a_revoked_token_gets_401_on_the_very_next_request(api: Api):
    # GIVEN a second token that has just authenticated (so this container caches it)
    created = api.post("/tokens", {"name": "laptop"}).json_body
    second = _as(api, created["token"])
    assert second.get("/lists").status_code == 200
    # WHEN it is revoked
    assert api.delete(f"/tokens/{created['id']}").status_code == 204
    # THEN the very next request with it is refused, and it is gone from the list
    response = second.get("/lists")
    assert response.status_code == 401
    assert response.json_body["error"]["code"] == "unauthorized"
    assert created["id"] not in [t["id"] for t in api.get("/tokens").json_body["items"]]
    assert api.delete(f"/tokens/{created['id']}").status_code == 404
    assert api.get("/lists").status_code == 200


def test_a_token_may_revoke_itself_but_not_the_last_one(api: Api):
    other = _as(api, api.post("/tokens", {"name": "other"}).json_body["token"])
    own_id = next(t["id"] for t in api.get("/tokens").json_body["items"]
                  if t["name"] == "default")
    # A token deletes itself while another usable one remains
    assert api.delete(f"/tokens/{own_id}").status_code == 204
    assert api.get("/lists").status_code == 401
    # The last usable token cannot be deleted: the workspace would be locked out
    last_id = other.get("/tokens").json_body["items"][0]["id"]
    refused = other.delete(f"/tokens/{last_id}")
    assert refused.status_code == 409
    assert refused.json_body["error"]["code"] == "last_token"
    assert other.get("/lists").status_code == 200


def test_another_workspaces_token_is_404(api: Api, other_api: Api):
    theirs = other_api.post("/tokens", {"name": "theirs"}).json_body
    response = api.delete(f"/tokens/{theirs['id']}")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "not_found"
    assert theirs["id"] not in [t["id"] for t in api.get("/tokens").json_body["items"]]
    assert _as(other_api, theirs["token"]).get("/lists").status_code == 200
    assert api.delete("/tokens/tok_nope").status_code == 404


@pytest.mark.parametrize(("body", "field", "code"), [
    ({}, "name", "required"),
    ({"name": "  "}, "name", "required"),
    ({"name": 3}, "name", "required"),
    ({"name": "x" * 101}, "name", "value_too_long"),
    ({"name": "a\u0000b"}, "name", "invalid_name"),
    ({"name": "ok", "expires_in_days": 0}, "expires_in_days", "invalid_expiry"),
    ({"name": "ok", "expires_in_days": 3651}, "expires_in_days", "invalid_expiry"),
    ({"name": "ok", "expires_in_days": 1.5}, "expires_in_days", "invalid_expiry"),
    ({"name": "ok", "expires_in_days": True}, "expires_in_days", "invalid_expiry"),
    ({"name": "ok", "expires_in_days": "7"}, "expires_in_days", "invalid_expiry"),
    ({"name": "ok", "expires_at": "2030-01-01T00:00:00Z"}, "expires_at", "unknown_field"),
])
def test_create_validates_with_stable_codes(api: Api, body, field, code):
    response = api.post("/tokens", body)
    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == "validation_error"
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in error["details"]["errors"]]


def test_an_expired_token_gets_401_even_when_cached(api: Api, monkeypatch):
    # GIVEN a token valid for one day, cached by a request
    created = api.post("/tokens", {"name": "short", "expires_in_days": 1}).json_body
    short = _as(api, created["token"])
    assert short.get("/lists").status_code == 200
    # WHEN the day has passed (well inside the cache's 60 s of monotonic time)
    auth = services().auth
    later = time.time() + 86400 + 1
    monkeypatch.setattr(auth, "_clock", lambda: later)
    # THEN it is refused, while the workspace's other token still works
    response = short.get("/lists")
    assert response.status_code == 401
    assert response.json_body["error"]["message"] == "This token expired"
    assert api.get("/lists").status_code == 200
    listed = {t["id"]: t for t in api.get("/tokens").json_body["items"]}
    assert listed[created["id"]]["expired"] is True


def test_a_token_from_before_token_ids_still_works_and_is_adopted(client):
    # GIVEN a token item as the old code wrote it: workspace and created_at only
    token = "lp_legacy_token_0123456789_abcdefXYZ"
    dynamodb = boto3.client("dynamodb", region_name=get_settings().region)
    dynamodb.put_item(TableName=get_settings().table_name, Item={
        "pk": {"S": f"TOKEN#{hash_token(token)}"}, "sk": {"S": "TOKEN"},
        "workspace": {"S": "legacy-ws"}, "created_at": {"S": "2026-01-01T00:00:00.000Z"}})
    legacy = Api(client, token)
    # WHEN it is used
    assert legacy.get("/lists").status_code == 200
    # THEN it has an id, the default name and its hint, and can be revoked like any other
    items = legacy.get("/tokens").json_body["items"]
    assert [(t["name"], t["hint"], t["created_at"]) for t in items] == [
        ("default", "fXYZ", "2026-01-01T00:00:00.000Z")]
    assert items[0]["id"].startswith("tok_")
    newer = _as(legacy, legacy.post("/tokens", {"name": "newer"}).json_body["token"])
    assert newer.delete(f"/tokens/{items[0]['id']}").status_code == 204
    assert legacy.get("/lists").status_code == 401


def test_last_used_is_written_once_per_cache_period(api: Api, monkeypatch):
    auth = services().auth
    created = api.post("/tokens", {"name": "counted"}).json_body
    token = _as(api, created["token"])
    writes: list[str] = []
    store = auth._store
    real_touch = store.touch
    monkeypatch.setattr(store, "touch", lambda h, at: (writes.append(at), real_touch(h, at)))
    for _ in range(5):
        assert token.get("/lists").status_code == 200
    assert len(writes) == 1


# --- throttling ----------------------------------------------------------------
def test_past_the_limit_a_workspace_gets_429_with_retry_after(api: Api, other_api: Api,
                                                               monkeypatch):
    # GIVEN a limit of 3 requests a minute, 15 s into a window
    limiter = services().rate_limiter
    window_start = (int(time.time()) // 60 - 10) * 60  # a window no other test counts in
    monkeypatch.setattr(limiter, "per_minute", 3)
    monkeypatch.setattr(limiter, "_clock", lambda: window_start + 15.2)
    # WHEN the workspace makes a fourth request in the window
    for _ in range(3):
        assert api.get("/lists").status_code == 200
    refused = api.get("/lists")
    # THEN it is refused with Retry-After = the seconds left in the window
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "45"
    assert refused.json_body["error"]["code"] == "rate_limited"
    assert refused.json_body["error"]["details"] == {"retry_after": 45, "limit_per_minute": 3}
    assert api.post("/lists", {"name": "x"}).status_code == 429  # every route counts
    # and another workspace is not affected
    assert other_api.get("/lists").status_code == 200
    # and the next window lets the workspace in again
    monkeypatch.setattr(limiter, "_clock", lambda: window_start + 60.5)
    assert api.get("/lists").status_code == 200

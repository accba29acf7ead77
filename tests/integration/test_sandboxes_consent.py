"""The sandboxes' consent page (tools/sandboxes/consent.py) over real HTTP.

The browser step of OAuth: GET renders a form, POST allow answers 302 with a
code the token endpoint takes, deny with error=access_denied, and a bad
client or redirect URI is a 400 page, never a redirect. Then the whole flow
from leadpipe's own authorize URL to a connection, as `make run` offers it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib.provider_settings import provider_apps
from tests.integration.conftest import Api
from tools.sandboxes.common import Sandbox
from tools.sandboxes.google_sheets import GoogleSheetsSandbox
from tools.sandboxes.hubspot import HubSpotSandbox
from tools.sandboxes.salesforce import SalesforceSandbox

REDIRECT = "http://127.0.0.1:9/oauth/callback"
STATE = 'st<"&>\'ate-42'  # everything HTML must escape

# (sandbox class, authorize path, title on the page)
PAGES = [(HubSpotSandbox, "/oauth/authorize", "HubSpot"),
         (SalesforceSandbox, "/oauth/authorize", "Salesforce"),
         (SalesforceSandbox, "/services/oauth2/authorize", "Salesforce"),
         (GoogleSheetsSandbox, "/oauth/authorize", "Google Sheets")]


@pytest.fixture(params=PAGES, ids=lambda p: f"{p[0].name}{p[1]}")
def consent(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, str, str]]:
    kind, path, title = request.param
    sandbox = kind()
    sandbox.start()
    yield sandbox, path, title
    sandbox.stop()
    assert sandbox.errors == []


def _page(sandbox: Sandbox, path: str, **query: str) -> requests.Response:
    params = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT,
              "response_type": "code", "scope": "contacts read", "state": STATE, **query}
    return requests.get(sandbox.url + path, params=params, timeout=5)


def _decide(sandbox: Sandbox, path: str, **form: str) -> requests.Response:
    fields = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": STATE,
              "decision": "allow", **form}
    return requests.post(sandbox.url + path, data=fields, timeout=5, allow_redirects=False)


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page)}


def test_the_page_asks_and_carries_the_state_in_a_hidden_field(consent):
    sandbox, path, title = consent
    page = _page(sandbox, path)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert f"leadpipe sandbox: {title} — allow leadpipe to read your contacts?" in page.text
    assert _hidden(page.text) == {"client_id": sandbox.client_id, "redirect_uri": REDIRECT,
                                  "state": STATE}
    assert STATE not in page.text  # only escaped: <, ", &, > and ' never reach the HTML raw
    assert f'<form method="post" action="{path}">' in page.text
    assert 'name="decision" value="allow"' in page.text
    assert "<script" not in page.text


def test_allow_redirects_with_a_code_the_token_endpoint_accepts(consent):
    sandbox, path, _ = consent
    answer = _decide(sandbox, path, redirect_uri=REDIRECT + "?from=test")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["from"] == ["test"] and query["state"] == [STATE]
    tokens = requests.post(sandbox.url + sandbox.oauth_path, timeout=5, data={
        "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT + "?from=test"})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["access_token"] and tokens.json()["refresh_token"]


def test_deny_redirects_with_access_denied(consent):
    sandbox, path, _ = consent
    answer = _decide(sandbox, path, decision="deny")
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": [STATE]}


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("client_id", "someone-else", "unknown client_id"),
    ("redirect_uri", "http://evil.example.com/cb", "https, or http to 127.0.0.1"),
    ("redirect_uri", "http://127.0.0.1@evil.example.com/cb", "no user info"),
    ("redirect_uri", "javascript:alert(1)", "absolute URL"),
    ("redirect_uri", "https://ok.example.com/cb\r\nSet-Cookie: x=1", "control characters"),
    ("redirect_uri", "https://ok.example.com/cb#frag", "no fragment"),
])
def test_a_bad_client_or_redirect_uri_is_a_400_page_never_a_redirect(field, value, problem):
    with HubSpotSandbox() as sandbox:
        shown = _page(sandbox, "/oauth/authorize", **{field: value})
        decided = _decide(sandbox, "/oauth/authorize", **{field: value})
        for answer in (shown, decided):
            assert answer.status_code == 400 and "Location" not in answer.headers
            assert html.escape(problem) in answer.text
        assert sandbox.errors == []


def test_the_page_wants_response_type_code_and_the_post_a_decision():
    with SalesforceSandbox() as sandbox:
        wrong = _page(sandbox, "/services/oauth2/authorize", response_type="token")
        assert wrong.status_code == 400 and "response_type must be code" in wrong.text
        unsure = _decide(sandbox, "/services/oauth2/authorize", decision="maybe")
        assert unsure.status_code == 400 and "Location" not in unsure.headers
        https = _decide(sandbox, "/oauth/authorize", redirect_uri="https://app.example.com/cb")
        assert https.status_code == 302
        assert https.headers["Location"].startswith("https://app.example.com/cb?code=")


# -- the whole flow, from leadpipe's authorize URL to a connection ------------------------


@pytest.fixture
def hubspot_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotSandbox]:
    sandbox = HubSpotSandbox()
    url = sandbox.start()
    monkeypatch.setenv("LEADPIPE_HUBSPOT_API_URL", url)
    monkeypatch.setenv("LEADPIPE_HUBSPOT_AUTHORIZE_URL", f"{url}/oauth/authorize")
    monkeypatch.setenv("LEADPIPE_HUBSPOT_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("LEADPIPE_HUBSPOT_CLIENT_SECRET", sandbox.client_secret)
    provider_apps.cache_clear()
    yield sandbox
    sandbox.stop()
    provider_apps.cache_clear()


def test_a_person_connects_hubspot_through_the_consent_page(api: Api, hubspot_app: Any):
    # GIVEN leadpipe's authorize URL, which points at the sandbox's page
    callback = "http://127.0.0.1:8000/oauth/hubspot/callback"
    asked = api.get(f"/connections/hubspot/authorize?redirect_uri={callback}")
    assert asked.status_code == 200, asked.json_body
    # WHEN the browser opens it and the person clicks Allow
    page = requests.get(asked.json_body["authorize_url"], timeout=5)
    assert page.status_code == 200
    fields = _hidden(page.text)
    assert fields["redirect_uri"] == callback
    allowed = requests.post(hubspot_app.url + "/oauth/authorize", timeout=5,
                            allow_redirects=False, data={**fields, "decision": "allow"})
    assert allowed.status_code == 302
    # THEN the browser lands on leadpipe's callback, which makes the connection
    location = urlsplit(allowed.headers["Location"])
    landed = api.client.http.get(f"{location.path}?{location.query}")
    assert landed.status_code == 201, landed.json_body
    assert landed.json_body["provider"] == "hubspot" and landed.json_body["status"] == "active"
    listed = api.get("/connections").json_body["items"]
    assert [c["id"] for c in listed] == [landed.json_body["id"]]

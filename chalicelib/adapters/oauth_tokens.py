"""The providers' OAuth token endpoints: code exchange and refresh (form posts).

HubSpot and Google answer `expires_in`; Salesforce does not (its session
lasts as the org decides), so its token is refreshed once after a 401.
A refused grant (`invalid_grant`, 400/401) means the user must connect
again; anything else (5xx, a timeout) is worth retrying later.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from chalicelib.adapters.safe_http import SafeHttp
from chalicelib.domain.connections import Credentials, Provider
from chalicelib.domain.errors import BadRequest, LeadpipeError
from chalicelib.domain.outbound_url import check_url
from chalicelib.provider_settings import ProviderApp, provider_apps


class GrantRefused(BadRequest):
    """The provider refused the code or refresh token: the user must connect again."""

    code = "reauthorize"


class ProviderUnavailable(LeadpipeError):
    """The provider failed in a way worth retrying (5xx, timeout): 502 to a client,
    a retried message to a worker."""

    code = "provider_unavailable"
    status = 502


class OAuthTokens:
    def __init__(self, http: SafeHttp | None = None) -> None:
        self._http = http or SafeHttp()

    def exchange_code(self, provider: Provider, code: str, redirect_uri: str) -> Credentials:
        app = provider_apps()[provider]
        return self._grant(app, {"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": redirect_uri}, previous=None)

    def refresh(self, provider: Provider, credentials: Credentials) -> Credentials:
        if not credentials.refresh_token:
            raise GrantRefused("The connection has no refresh token; connect again")
        app = provider_apps()[provider]
        return self._grant(app, {"grant_type": "refresh_token",
                                 "refresh_token": credentials.refresh_token},
                           previous=credentials)

    def _grant(self, app: ProviderApp, form: dict[str, str],
               previous: Credentials | None) -> Credentials:
        if not app.client_id or not app.client_secret:
            raise BadRequest(f"{app.provider.value} OAuth is not configured on this server "
                             "(client id and secret)", code="provider_not_configured")
        try:
            response = self._http.request("POST", app.token_url, data={
                **form, "client_id": app.client_id, "client_secret": app.client_secret})
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"{app.provider.value} token endpoint: "
                                      f"{type(exc).__name__}") from None
        body = _json(response)
        if response.status_code in (400, 401, 403):
            error = str(body.get("error") or body.get("status") or response.status_code)
            raise GrantRefused(f"{app.provider.value} refused the grant ({error})")
        if response.status_code != 200 or not body.get("access_token"):
            raise ProviderUnavailable(f"{app.provider.value} token endpoint answered "
                                      f"{response.status_code}")
        expires_in = body.get("expires_in")
        instance_url = body.get("instance_url") or (previous.instance_url if previous else None)
        return Credentials(
            access_token=str(body["access_token"]),
            # Providers may rotate the refresh token; keep the old one if not.
            refresh_token=str(body.get("refresh_token") or
                              (previous.refresh_token if previous else "") or "") or None,
            expires_at=time.time() + float(expires_in) if expires_in else None,
            instance_url=check_url(str(instance_url)) if instance_url else None)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

"""Where each provider's API, token and consent endpoints are, and our app's credentials.

Read from the environment, so tests and `make run` point them at loopback
sandboxes (tools/sandboxes): LEADPIPE_HUBSPOT_API_URL (also the token
endpoint, /oauth/v1/token), LEADPIPE_HUBSPOT_AUTHORIZE_URL,
LEADPIPE_SALESFORCE_LOGIN_URL (token at /services/oauth2/token),
LEADPIPE_GOOGLE_SHEETS_API_URL, LEADPIPE_GOOGLE_TOKEN_URL,
LEADPIPE_GOOGLE_AUTHORIZE_URL and LEADPIPE_<PROVIDER>_CLIENT_ID /
_CLIENT_SECRET. Every URL must be https, or http to a loopback address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.domain.connections import Provider


@dataclass(frozen=True)
class ProviderApp:
    provider: Provider
    api_url: str  # Salesforce: the login host; its API host comes with each token
    token_url: str
    authorize_url: str
    client_id: str | None
    client_secret: str | None
    scopes: tuple[str, ...]


def _env(name: str, default: str) -> str:
    return (os.environ.get(name) or default).rstrip("/")


@lru_cache(maxsize=1)
def provider_apps() -> dict[Provider, ProviderApp]:
    hubspot = _env("LEADPIPE_HUBSPOT_API_URL", "https://api.hubapi.com")
    salesforce = _env("LEADPIPE_SALESFORCE_LOGIN_URL", "https://login.salesforce.com")
    return {
        Provider.HUBSPOT: ProviderApp(
            Provider.HUBSPOT, hubspot, f"{hubspot}/oauth/v1/token",
            _env("LEADPIPE_HUBSPOT_AUTHORIZE_URL", "https://app.hubspot.com/oauth/authorize"),
            os.environ.get("LEADPIPE_HUBSPOT_CLIENT_ID"),
            os.environ.get("LEADPIPE_HUBSPOT_CLIENT_SECRET"),
            ("crm.objects.contacts.read", "crm.objects.contacts.write")),
        Provider.SALESFORCE: ProviderApp(
            Provider.SALESFORCE, salesforce, f"{salesforce}/services/oauth2/token",
            f"{salesforce}/services/oauth2/authorize",
            os.environ.get("LEADPIPE_SALESFORCE_CLIENT_ID"),
            os.environ.get("LEADPIPE_SALESFORCE_CLIENT_SECRET"),
            ("api", "refresh_token")),
        Provider.GOOGLE_SHEETS: ProviderApp(
            Provider.GOOGLE_SHEETS,
            _env("LEADPIPE_GOOGLE_SHEETS_API_URL", "https://sheets.googleapis.com"),
            _env("LEADPIPE_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
            _env("LEADPIPE_GOOGLE_AUTHORIZE_URL",
                 "https://accounts.google.com/o/oauth2/v2/auth"),
            # LEADPIPE_<PROVIDER>_...: the provider is google_sheets; GOOGLE_ for short.
            os.environ.get("LEADPIPE_GOOGLE_SHEETS_CLIENT_ID")
            or os.environ.get("LEADPIPE_GOOGLE_CLIENT_ID"),
            os.environ.get("LEADPIPE_GOOGLE_SHEETS_CLIENT_SECRET")
            or os.environ.get("LEADPIPE_GOOGLE_CLIENT_SECRET"),
            ("https://www.googleapis.com/auth/spreadsheets.readonly",)),
    }

"""Connections: create with credentials or by OAuth, read, delete, and fresh tokens.

Credentials are sealed (KMS, bound to the workspace) before they are stored
and opened only to call the provider; the API shows a hint. An access token
is refreshed before it expires and once after a 401; a refresh the provider
refuses marks the connection `reauthorize`, which syncs and imports report.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.connections import (
    DISPLAY_NAMES,
    Connection,
    ConnectionStatus,
    Credentials,
    Provider,
    parse_connection_create,
    parse_provider,
)
from chalicelib.domain.errors import BadRequest, Conflict, LeadpipeError, NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.outbound_url import check_url
from chalicelib.provider_settings import provider_apps
from chalicelib.services.ports import (
    ConnectionStore,
    OAuthClient,
    SealedConnection,
    SecretBox,
)

SECRET_PURPOSE = "connection"  # noqa: S105 (a KMS encryption-context value)
STATE_PURPOSE = "oauth_state"
STATE_SCOPE = "*"  # states are opened before their workspace is known
STATE_SECONDS = 600
MAX_CONNECTIONS = 50


class ConnectionService:
    def __init__(self, store: ConnectionStore, box: SecretBox, oauth: OAuthClient, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._box = box
        self._oauth = oauth
        self._clock = clock

    # --- API ------------------------------------------------------------------
    def create(self, workspace: str, payload: Mapping[str, Any]) -> Connection:
        provider, name, credentials = parse_connection_create(payload)
        if credentials.instance_url:
            check_url(credentials.instance_url)
        if credentials.refresh_token and not credentials.access_token:
            # Prove the refresh token works now, not at the first sync.
            credentials = self._oauth.refresh(provider, credentials)
        return self._add(workspace, provider, name, credentials)

    def _add(self, workspace: str, provider: Provider, name: str,
             credentials: Credentials) -> Connection:
        if len(self._store.list(workspace)) >= MAX_CONNECTIONS:
            raise Conflict(f"A workspace holds at most {MAX_CONNECTIONS} connections",
                           code="too_many_connections")
        now = utc_now_iso()
        connection = Connection(id=new_id("cn"), workspace=workspace, provider=provider,
                                name=name, status=ConnectionStatus.ACTIVE, created_at=now,
                                updated_at=now, hint=credentials.hint(),
                                credentials=credentials)
        self._store.put(SealedConnection(connection, self._seal(connection), 0))
        return connection

    def list(self, workspace: str) -> list[Connection]:
        return sorted((s.connection for s in self._store.list(workspace)),
                      key=lambda c: c.created_at)

    def get(self, workspace: str, connection_id: str) -> Connection:
        return self._sealed(workspace, connection_id).connection

    def delete(self, workspace: str, connection_id: str) -> None:
        self._sealed(workspace, connection_id)
        self._store.delete(workspace, connection_id)

    # --- OAuth for people in a browser -----------------------------------------
    def authorize_url(self, workspace: str, provider_name: str, redirect_uri: str | None) -> str:
        provider = parse_provider(provider_name)
        if not redirect_uri:
            raise BadRequest("redirect_uri is required", code="redirect_uri_required")
        check_url(redirect_uri)
        app = provider_apps()[provider]
        if not app.client_id:
            raise BadRequest(f"{provider.value} OAuth is not configured on this server",
                             code="provider_not_configured")
        state = self._box.seal(STATE_SCOPE, STATE_PURPOSE, {
            "workspace": workspace, "provider": provider.value, "redirect_uri": redirect_uri,
            "expires_at": self._clock() + STATE_SECONDS, "nonce": secrets.token_urlsafe(8)})
        query = {"client_id": app.client_id, "redirect_uri": redirect_uri,
                 "response_type": "code", "scope": " ".join(app.scopes), "state": state}
        if provider is Provider.GOOGLE_SHEETS:
            # A refresh token is only given with offline access and fresh consent.
            query.update(access_type="offline", prompt="consent")
        return f"{app.authorize_url}?{urlencode(query)}"

    def callback(self, provider_name: str, code: str | None, state: str | None) -> Connection:
        provider = parse_provider(provider_name)
        if not code or not state:
            raise BadRequest("code and state are required", code="invalid_callback")
        try:
            claims = self._box.open(STATE_SCOPE, STATE_PURPOSE, state)
        except Exception:  # any state that does not decrypt is simply invalid
            raise BadRequest("The state is not valid", code="invalid_state") from None
        if claims.get("provider") != provider.value or \
                float(claims.get("expires_at", 0)) < self._clock():
            raise BadRequest("The state is not valid or has expired", code="invalid_state")
        credentials = self._oauth.exchange_code(provider, code, str(claims["redirect_uri"]))
        return self._add(str(claims["workspace"]), provider, DISPLAY_NAMES[provider],
                         credentials)

    # --- tokens for workers ----------------------------------------------------
    def credentials(self, workspace: str, connection_id: str) -> tuple[Connection, Credentials]:
        """The connection with an access token fresh enough to use now."""
        sealed = self._sealed(workspace, connection_id)
        connection = sealed.connection
        if connection.status is ConnectionStatus.REAUTHORIZE:
            raise BadRequest(f"The {connection.provider.value} connection must be "
                             "authorized again", code="reauthorize")
        credentials = self._open(sealed)
        if credentials.fresh(self._clock()):
            return connection, credentials
        return self._refreshed(sealed, credentials)

    def after_unauthorized(self, workspace: str, connection_id: str,
                           used: Credentials) -> tuple[Connection, Credentials]:
        """The provider said 401 to `used`: refresh once (unless someone already did)."""
        sealed = self._sealed(workspace, connection_id)
        current = self._open(sealed)
        if current.access_token != used.access_token:
            return sealed.connection, current
        return self._refreshed(sealed, current)

    def _refreshed(self, sealed: SealedConnection,
                   credentials: Credentials) -> tuple[Connection, Credentials]:
        connection = sealed.connection
        now = utc_now_iso()
        try:
            fresh = self._oauth.refresh(connection.provider, credentials)
        except LeadpipeError as exc:
            if exc.code in ("reauthorize", "provider_not_configured"):
                failed = connection.needing_reauthorization(exc.message, now)
                self._store.replace(SealedConnection(failed, sealed.secret, 0), sealed.version)
                raise BadRequest(f"The {connection.provider.value} connection must be "
                                 f"authorized again: {exc.message}", code="reauthorize") from None
            raise
        updated = connection.with_credentials(fresh, now)
        if not self._store.replace(SealedConnection(updated, self._seal(updated, fresh), 0),
                                   sealed.version):
            # Another worker refreshed first: its token is as good as ours.
            again = self._sealed(connection.workspace, connection.id)
            return again.connection, self._open(again)
        return updated, fresh

    # --- sealing ---------------------------------------------------------------
    def _seal(self, connection: Connection, credentials: Credentials | None = None) -> str:
        return self._box.seal(connection.workspace, SECRET_PURPOSE,
                              (credentials or connection.credentials).to_dict())

    def _open(self, sealed: SealedConnection) -> Credentials:
        return Credentials.from_dict(self._box.open(sealed.connection.workspace, SECRET_PURPOSE,
                                                    sealed.secret))

    def _sealed(self, workspace: str, connection_id: str) -> SealedConnection:
        sealed = self._store.get(workspace, connection_id) if connection_id.startswith("cn_") \
            else None
        if sealed is None:
            raise NotFound("Connection not found", details={"connection_id": connection_id})
        return sealed

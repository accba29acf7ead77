"""Workspaces and their bearer tokens. Only a token's SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.errors import BadRequest, Unauthorized
from chalicelib.services.ports import Repository

TOKEN_PREFIX = "lp_"  # noqa: S105 (a prefix, not a secret)
_WORKSPACE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
_CACHE_SECONDS = 60.0


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 (no salt, no KDF) is
    # enough: there is nothing to brute-force, and lookups stay one GetItem.
    return hashlib.sha256(token.encode()).hexdigest()


def check_workspace_name(name: str) -> str:
    if not _WORKSPACE.match(name):
        raise BadRequest("workspace names are 1-64 of a-z 0-9 _ - and start with a letter "
                         "or digit", code="invalid_workspace")
    return name


class AuthService:
    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        # A warm Lambda answers repeated calls without a DynamoDB read.
        self._cache: dict[str, tuple[str, float]] = {}

    def create_token(self, workspace: str) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.register_token(workspace, token)
        return token

    def register_token(self, workspace: str, token: str) -> None:
        """Store a token chosen elsewhere (e.g. LEADPIPE_TOKEN). Idempotent."""
        check_workspace_name(workspace)
        if len(token) < 20:
            raise BadRequest("tokens are at least 20 characters", code="weak_token")
        self._repo.put_token(hash_token(token), workspace, utc_now_iso())

    def authenticate(self, authorization: str | None) -> str:
        """Workspace of a `Bearer <token>` header, or Unauthorized."""
        if not authorization:
            raise Unauthorized("Authorization: Bearer <token> is required")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            raise Unauthorized("Authorization must be 'Bearer <token>'")
        digest = hash_token(token)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached and now - cached[1] < _CACHE_SECONDS:
            return cached[0]
        workspace = self._repo.workspace_for_token(digest)
        if workspace is None:
            raise Unauthorized("Unknown token")
        self._cache[digest] = (workspace, now)
        return workspace

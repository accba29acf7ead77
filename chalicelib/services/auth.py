"""Workspaces and their bearer tokens: issue, list, revoke, authenticate.

Only a token's SHA-256 is ever stored. A warm container remembers a token it
has checked for CACHE_SECONDS, so most requests cost no DynamoDB read; that
bounds how long a revocation made elsewhere (another container, the CLI)
takes to bite. A revocation made through this service bites at once here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.errors import BadRequest, Conflict, NotFound, Unauthorized
from chalicelib.domain.ids import new_id
from chalicelib.domain.tokens import (
    DEFAULT_TOKEN_NAME,
    TOKEN_ID_PREFIX,
    TokenRecord,
    epoch_from_iso,
    iso_from_epoch,
    parse_token_request,
    token_hint,
)
from chalicelib.services.ports import TokenStore

TOKEN_PREFIX = "lp_"  # noqa: S105 (a prefix, not a secret)
_WORKSPACE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
CACHE_SECONDS = 60.0
MAX_TOKENS_PER_WORKSPACE = 100  # GET /tokens answers in one page
_CACHE_MAX_ENTRIES = 10_000


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 (no salt, no KDF) is
    # enough: there is nothing to brute-force, and lookups stay one GetItem.
    return hashlib.sha256(token.encode()).hexdigest()


def check_workspace_name(name: str) -> str:
    if not _WORKSPACE.match(name):
        raise BadRequest("workspace names are 1-64 of a-z 0-9 _ - and start with a letter "
                         "or digit", code="invalid_workspace")
    return name


@dataclass(frozen=True)
class _Cached:
    workspace: str
    checked_at: float  # monotonic
    expires: float | None  # wall clock, epoch seconds


class AuthService:
    def __init__(self, store: TokenStore, *, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock  # wall time: expiry, created/last-used stamps
        self._monotonic = monotonic  # cache age: immune to the wall clock's jumps
        self._cache: dict[str, _Cached] = {}
        # Hashes revoked through this service: refused even if a request that
        # read the token before the revocation caches it afterwards.
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    # --- issuing ------------------------------------------------------------------
    def create_token(self, workspace: str, name: str = DEFAULT_TOKEN_NAME,
                     expires_in_days: int | None = None) -> str:
        return self._issue(workspace, name, expires_in_days)[1]

    def create(self, workspace: str, payload: Mapping[str, Any]) -> tuple[TokenRecord, str]:
        """POST /tokens: the new record and the token (shown this once)."""
        check_workspace_name(workspace)
        request = parse_token_request(payload)
        if len(self._store.for_workspace(workspace)) >= MAX_TOKENS_PER_WORKSPACE:
            raise Conflict(f"A workspace holds at most {MAX_TOKENS_PER_WORKSPACE} tokens; "
                           "revoke one first", code="too_many_tokens")
        return self._issue(workspace, request.name, request.expires_in_days)

    def _issue(self, workspace: str, name: str,
               expires_in_days: int | None) -> tuple[TokenRecord, str]:
        check_workspace_name(workspace)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        expires = (iso_from_epoch(now + expires_in_days * 86400)
                   if expires_in_days is not None else None)
        record = self._new_record(workspace, token, name, now, expires)
        if not self._store.add(record):  # 256 random bits: never in practice
            raise Conflict("Token collision; try again")
        return record, token

    def register_token(self, workspace: str, token: str) -> None:
        """Store a token chosen elsewhere (e.g. LEADPIPE_TOKEN). Idempotent.

        A token already stored is left as it is: re-registering never revives
        a revoked token nor moves a token to another workspace.
        """
        check_workspace_name(workspace)
        if len(token) < 20:
            raise BadRequest("tokens are at least 20 characters", code="weak_token")
        self._store.add(self._new_record(workspace, token, DEFAULT_TOKEN_NAME, self._clock(),
                                         None))

    def _new_record(self, workspace: str, token: str, name: str, now: float,
                    expires_at: str | None) -> TokenRecord:
        return TokenRecord(token_hash=hash_token(token), workspace=workspace,
                           created_at=iso_from_epoch(now),
                           token_id=new_id(TOKEN_ID_PREFIX, now_ms=int(now * 1000)),
                           name=name, hint=token_hint(token), expires_at=expires_at)

    # --- listing and revoking ---------------------------------------------------
    def tokens(self, workspace: str) -> list[TokenRecord]:
        return self._store.for_workspace(workspace)

    def to_api(self, record: TokenRecord) -> dict[str, Any]:
        return record.to_api(self._clock())

    def revoke(self, workspace: str, token_id: str, *, allow_last: bool = False) -> TokenRecord:
        """Revoke one of the workspace's tokens (the caller's own included).

        Refused (409 last_token) when it would leave the workspace no usable
        token, unless `allow_last` (the operator's CLI). Two revocations racing
        for the last two tokens can both pass: the CLI can always make a new one.
        """
        records = self._store.for_workspace(workspace)
        target = next((r for r in records if r.token_id == token_id), None)
        if target is None:
            raise NotFound("Token not found", details={"token_id": token_id})
        now = self._clock()
        others = [r for r in records if r.token_id != token_id and r.is_usable(now)]
        if not allow_last and target.is_usable(now) and not others:
            raise Conflict("This is the workspace's last usable token: create another first",
                           code="last_token", details={"token_id": token_id})
        if not self._store.revoke(target, iso_from_epoch(now)):
            raise NotFound("Token not found", details={"token_id": token_id})
        with self._lock:
            self._revoked.add(target.token_hash)
            self._cache.pop(target.token_hash, None)
        return target

    # --- authenticating ---------------------------------------------------------
    def token_id(self, authorization: str | None) -> str | None:
        """The id (`tok_...`) of an authenticated request's token: who did it, for audits."""
        token = (authorization or "").strip().partition(" ")[2].strip()
        record = self._store.by_hash(hash_token(token)) if token else None
        return record.token_id if record is not None else None

    def authenticate(self, authorization: str | None) -> str:
        """Workspace of a `Bearer <token>` header, or Unauthorized."""
        if not authorization:
            raise Unauthorized("Authorization: Bearer <token> is required")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            raise Unauthorized("Authorization must be 'Bearer <token>'")
        digest = hash_token(token)
        now, tick = self._clock(), self._monotonic()
        with self._lock:
            if digest in self._revoked:
                raise Unauthorized("This token was revoked")
            cached = self._cache.get(digest)
        if (cached and tick - cached.checked_at < CACHE_SECONDS
                and (cached.expires is None or now < cached.expires)):
            return cached.workspace
        record = self._store.by_hash(digest)
        if record is None:
            raise Unauthorized("Unknown token")
        if record.revoked:
            raise Unauthorized("This token was revoked")
        if record.is_expired(now):
            raise Unauthorized("This token expired")
        if record.token_id is None:
            self._adopt(record, token, now)
        self._note_use(record, now)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX_ENTRIES:
                self._cache.clear()
            if digest not in self._revoked:
                self._cache[digest] = _Cached(record.workspace, tick, record.expires_epoch())
        return record.workspace

    def _adopt(self, record: TokenRecord, token: str, now: float) -> None:
        # A token stored before tokens had ids: give it one on first use (its
        # hint needs the token itself, which only a request carries), so it
        # shows in GET /tokens and can be revoked. Another container may win
        # the race; then its id stands.
        self._store.adopt(replace(
            record, token_id=new_id(TOKEN_ID_PREFIX, now_ms=int(now * 1000)),
            name=DEFAULT_TOKEN_NAME, hint=token_hint(token)))

    def _note_use(self, record: TokenRecord, now: float) -> None:
        # Only on a cache miss, and only if the stored stamp is a cache period
        # old: at most about one write a minute per token, not one a request.
        last = epoch_from_iso(record.last_used_at) if record.last_used_at else None
        if last is None or now - last >= CACHE_SECONDS:
            self._store.touch(record.token_hash, iso_from_epoch(now))

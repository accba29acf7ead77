"""AuthService and RateLimiter with in-memory fakes and hand-driven clocks (no sleeping)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.errors import Conflict, NotFound, RateLimited, Unauthorized
from chalicelib.domain.tokens import TokenRecord
from chalicelib.services.auth import CACHE_SECONDS, AuthService, hash_token
from chalicelib.services.rate_limit import RateLimiter


class FakeTokenStore:
    """The TokenStore port in memory, counting reads and writes."""

    def __init__(self) -> None:
        self.items: dict[str, TokenRecord] = {}
        self.reads = 0
        self.touches: list[str] = []

    def add(self, record: TokenRecord) -> bool:
        if record.token_hash in self.items:
            return False
        self.items[record.token_hash] = record
        return True

    def by_hash(self, token_hash: str) -> TokenRecord | None:
        self.reads += 1
        return self.items.get(token_hash)

    def for_workspace(self, workspace: str) -> list[TokenRecord]:
        return [r for r in self.items.values()
                if r.workspace == workspace and r.token_id and not r.revoked]

    def adopt(self, record: TokenRecord) -> bool:
        stored = self.items.get(record.token_hash)
        if stored is None or stored.token_id is not None:
            return False
        self.items[record.token_hash] = replace(stored, token_id=record.token_id,
                                                name=record.name, hint=record.hint)
        return True

    def touch(self, token_hash: str, at: str) -> None:
        self.touches.append(at)
        self.items[token_hash] = replace(self.items[token_hash], last_used_at=at)

    def revoke(self, record: TokenRecord, at: str) -> bool:
        stored = self.items.get(record.token_hash)
        if stored is None or stored.revoked:
            return False
        self.items[record.token_hash] = replace(stored, revoked=True)
        return True


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> FakeTokenStore:
    return FakeTokenStore()


@pytest.fixture
def wall() -> Clock:
    return Clock()


@pytest.fixture
def tick() -> Clock:
    return Clock(1000.0)


def _service(store: FakeTokenStore, wall: Clock, tick: Clock) -> AuthService:
    return AuthService(store, clock=wall, monotonic=tick)


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_revocation_on_another_container_bites_within_the_cache_period(store, wall, tick):
    # GIVEN two containers, and a token the second one has just checked (cached)
    first, second = _service(store, wall, tick), _service(store, wall, tick)
    keep = first.create_token("acme")
    leaked = first.create_token("acme", name="leaked")
    assert second.authenticate(_bearer(leaked)) == "acme"
    # WHEN the first revokes it
    leaked_id = next(r.token_id for r in first.tokens("acme") if r.name == "leaked")
    first.revoke("acme", leaked_id)
    # THEN the first refuses it at once
    with pytest.raises(Unauthorized):
        first.authenticate(_bearer(leaked))
    # and the second, which has not read it again, accepts it less than 60 s on
    tick.now += CACHE_SECONDS - 0.001
    assert second.authenticate(_bearer(leaked)) == "acme"
    # and refuses it once the cached answer is 60 s old
    tick.now += 0.001
    with pytest.raises(Unauthorized, match="revoked"):
        second.authenticate(_bearer(leaked))
    assert second.authenticate(_bearer(keep)) == "acme"


def test_a_cached_token_is_refused_the_moment_it_expires(store, wall, tick):
    auth = _service(store, wall, tick)
    token = auth.create_token("acme", expires_in_days=1)
    assert auth.authenticate(_bearer(token)) == "acme"
    reads = store.reads
    wall.now += 86400 - 1
    assert auth.authenticate(_bearer(token)) == "acme"
    assert store.reads == reads  # still answered from the cache
    wall.now += 1
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate(_bearer(token))


def test_the_cache_spares_reads_and_last_use_is_written_once_a_period(store, wall, tick):
    auth = _service(store, wall, tick)
    token = auth.create_token("acme")
    for _ in range(10):
        auth.authenticate(_bearer(token))
    assert store.reads == 1 and len(store.touches) == 1
    # A new container a few seconds later reads the token but does not rewrite the stamp
    wall.now += 5
    tick.now += 5
    _service(store, wall, tick).authenticate(_bearer(token))
    assert store.reads == 2 and len(store.touches) == 1
    # Past the period, the next read refreshes it
    wall.now += CACHE_SECONDS
    tick.now += CACHE_SECONDS
    auth.authenticate(_bearer(token))
    assert len(store.touches) == 2


def test_revoke_rules(store, wall, tick):
    auth = _service(store, wall, tick)
    auth.create_token("acme")
    only = auth.tokens("acme")[0]
    # The last usable token stays, unless the operator insists
    with pytest.raises(Conflict) as refused:
        auth.revoke("acme", str(only.token_id))
    assert refused.value.code == "last_token"
    # An expired token does not count as usable
    auth.create_token("acme", name="brief", expires_in_days=1)
    wall.now += 2 * 86400
    with pytest.raises(Conflict):
        auth.revoke("acme", str(only.token_id))
    auth.revoke("acme", str(only.token_id), allow_last=True)
    # Unknown ids and another workspace's ids are not found
    auth.create_token("other")
    theirs = auth.tokens("other")[0]
    for workspace, token_id in (("acme", "tok_nope"), ("acme", str(theirs.token_id)),
                                ("acme", str(only.token_id))):
        with pytest.raises(NotFound):
            auth.revoke(workspace, token_id)


def test_register_token_is_idempotent_and_never_revives(store, wall, tick):
    auth = _service(store, wall, tick)
    token = "lp_chosen_elsewhere_0123456789"
    auth.register_token("default", token)
    auth.register_token("default", token)
    assert len(auth.tokens("default")) == 1
    auth.create_token("default", name="spare")
    auth.revoke("default", str(auth.tokens("default")[0].token_id))
    auth.register_token("default", token)
    with pytest.raises(Unauthorized):
        _service(store, wall, tick).authenticate(_bearer(token))


def test_a_legacy_record_is_adopted_on_first_use(store, wall, tick):
    token = "lp_old_style_token_abcdefghijk"
    store.items[hash_token(token)] = TokenRecord(hash_token(token), "acme", "2026-01-01T00:00:00Z")
    auth = _service(store, wall, tick)
    assert auth.tokens("acme") == []
    assert auth.authenticate(_bearer(token)) == "acme"
    [adopted] = auth.tokens("acme")
    assert adopted.token_id and adopted.token_id.startswith("tok_")
    assert (adopted.name, adopted.hint) == ("default", "hijk")


# --- throttling ----------------------------------------------------------------
class FakeCounter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.writes = 0

    def hit(self, workspace: str, window_start: int, expires_at: int) -> int:
        assert expires_at > window_start + 60
        self.writes += 1
        key = (workspace, window_start)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


def test_rate_limiter_fixed_window():
    counter, clock = FakeCounter(), Clock(6_000_000.0 + 50.4)  # 50.4 s into a window
    limiter = RateLimiter(counter, per_minute=2, clock=clock)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 10 and refused.value.status == 429
    # Once over, this container refuses without writing again until the window ends
    writes = counter.writes
    with pytest.raises(RateLimited):
        limiter.check("a")
    assert counter.writes == writes
    limiter.check("b")  # another workspace counts on its own
    clock.now += 10
    limiter.check("a")  # a new window
    # 0 turns the limit off
    RateLimiter(counter, per_minute=0, clock=clock).check("a")


def test_retry_after_is_at_least_one_second():
    limiter = RateLimiter(FakeCounter(), per_minute=1, clock=Clock(6_000_059.9995))
    limiter.check("a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 1

"""Webhook rules without I/O: signature, retry schedule, URL policy, endpoint edits."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib.domain.errors import BadRequest, DropMessage, ValidationFailed
from chalicelib.domain.webhook_messages import delivery_message, parse_delivery_message
from chalicelib.domain.webhook_signing import new_secret, sign, verify
from chalicelib.domain.webhooks import (
    DISABLE_AFTER,
    RETRY_WINDOW,
    Endpoint,
    check_addresses,
    hop_delay,
    next_attempt,
    parse_events,
    parse_url,
    patch_endpoint,
    retry_delay,
    should_disable,
)


def test_signature_is_hmac_sha256_of_time_dot_body() -> None:
    secret, body = "whsec_test", b'{"id":"evt_1"}'
    header = sign(secret, 1_700_000_000, body)
    expected = hmac.new(secret.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify(secret, header, body, now=1_700_000_100)
    assert not verify(secret, header, body + b" ", now=1_700_000_100)
    assert not verify("whsec_other", header, body, now=1_700_000_100)
    assert not verify(secret, header, body, now=1_700_000_000 + 301)  # replayed later
    assert not verify(secret, "v1=abc", body, now=0)


def test_secrets_are_long_and_distinct() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) > 40 for s in secrets)


def test_backoff_grows_then_repeats_and_ends_at_the_window() -> None:
    assert [retry_delay(n) for n in range(1, 10)] == [
        30, 120, 600, 1800, 3600, 7200, 14400, 14400, 14400]
    first = 1000.0
    now, attempts = first, 1
    while (at := next_attempt(attempts, first, now)) is not None:
        now, attempts = at, attempts + 1
    assert now == first + RETRY_WINDOW  # the last try falls at the 24-hour mark
    assert 8 <= attempts <= 14


def test_long_waits_are_hops_of_at_most_fifteen_minutes() -> None:
    assert hop_delay(1000.0, 1000.0) == 0
    assert hop_delay(1030.0, 1000.0) == 30
    assert hop_delay(1000.0 + 14400, 1000.0) == 900
    assert hop_delay(1000.5, 1000.0) == 1  # never early


def test_disable_after_a_day_of_failures_only() -> None:
    assert not should_disable(None, 10**9)
    assert not should_disable(100.0, 100.0 + DISABLE_AFTER - 1)
    assert should_disable(100.0, 100.0 + DISABLE_AFTER)


@pytest.mark.parametrize(("url", "loopback", "code"), [
    ("ftp://x.example.com/", True, "invalid_url"),
    ("http://x.example.com/", True, "insecure_url"),
    ("https:///nohost", True, "invalid_url"),
    ("https://10.0.0.1/", True, "forbidden_address"),
    ("https://169.254.169.254/", True, "forbidden_address"),
    ("https://[fd00:ec2::254]/", True, "forbidden_address"),
    ("https://127.0.0.1/", False, "forbidden_address"),
    ("http://localhost:9000/", False, "forbidden_address"),
    ("https://x.example.com/" + "a" * 2100, True, "invalid_url"),
])
def test_url_policy(url: str, loopback: bool, code: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_url(url, allow_loopback=loopback)
    assert refused.value.code == code


def test_loopback_only_where_allowed() -> None:
    assert parse_url("http://127.0.0.1:8000/in", allow_loopback=True)
    check_addresses(["127.0.0.1", "93.184.216.34"], allow_loopback=True)
    for addresses in (["127.0.0.1"], ["::1"], ["93.184.216.34", "192.168.1.2"],
                      ["169.254.169.254"], ["fd00:ec2::254"], ["::ffff:10.0.0.1"]):
        with pytest.raises(BadRequest):
            check_addresses(addresses, allow_loopback=False)


def test_event_types_are_checked() -> None:
    assert parse_events(["lead.created", "lead.created", "follow_up.due"]) == (
        "lead.created", "follow_up.due")
    for bad in ([], "lead.created", ["lead.exploded"], [{"x": 1}]):
        with pytest.raises(ValidationFailed):
            parse_events(bad)


def test_enabling_clears_the_reason_and_the_failure_clock() -> None:
    disabled = Endpoint("wh_1", "ws", "https://x", ("lead.created",), "", False,
                        "t0", "t0", disabled_reason="failing_for_24h", failing_since=5.0)
    enabled = patch_endpoint(disabled, {"enabled": True}, url=None, now="t1")
    assert (enabled.enabled, enabled.disabled_reason, enabled.failing_since) == (
        True, None, None)
    assert enabled.version == disabled.version + 1
    by_user = patch_endpoint(enabled, {"enabled": False}, url=None, now="t2")
    assert by_user.disabled_reason == "disabled_by_user"


def test_messages_round_trip_and_garbage_is_dropped() -> None:
    event = {"id": "evt_1", "type": "lead.created", "created_at": "2026-11-26T00:00:00.000Z",
             "workspace": "ws", "data": {"lead": {}}}
    message = delivery_message("wh_1", "ws", "dl_1", event, attempt=3,  # type: ignore[arg-type]
                               first_attempt_at=5.0, not_before=9.0)
    assert parse_delivery_message(dict(message)) == message
    with pytest.raises(DropMessage):
        parse_delivery_message({"endpoint_id": "wh_1"})


def test_description_passes_the_text_rule() -> None:
    from chalicelib.domain.webhooks import parse_description

    assert parse_description("  CRM sync  ") == "CRM sync"
    assert parse_description(None) == ""
    for bad in ("x" * 501, 5, "bad\x00text"):
        with pytest.raises(ValidationFailed):
            parse_description(bad)

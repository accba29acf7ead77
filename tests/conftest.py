"""Test-wide setup: fake AWS credentials, one in-process moto for the session."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Settings are read once per process: set the environment before any import of
# chalicelib. Tests never reach real AWS; AWS_ENDPOINT_URL would point boto at
# a server, so it is removed for the in-process moto.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "LEADPIPE_STAGE": "test",
    # Small budgets make the background hand-off of long operations testable.
    "LEADPIPE_REQUEST_BUDGET_SECONDS": "5",
    # Newly filterable fields are indexed at once (no writer of the test is in flight).
    "LEADPIPE_INDEX_SETTLE_SECONDS": "0",
})

# Email verification asks DNS: never the machine's resolvers (no network in
# tests), always this loopback server. Every name has MX unless listed here.
DNS_ZONE = {
    "null-mx.com": "null_mx",
    "parked-a.com": "a_only",
    "parked-v6.com": "aaaa_only",
    "no-mail.com": "no_address",
    "gone-away.com": "nxdomain",
    "spf-reject.com": "spf_reject_all",
    "broken-dns.com": "servfail",
}
os.environ.update({
    "LEADPIPE_DNS_TIMEOUT_SECONDS": "0.5",
    "LEADPIPE_DNS_RETRIES": "1",
    # Unknown verdicts are retried at once (the pump delivers them in the same drain).
    "LEADPIPE_VERIFY_RETRY_DELAYS": "0,0",
    "LEADPIPE_DNS_UNKNOWN_TTL": "0",
    # EMF metrics print to stdout at every handler flush; tests that check them enable them.
    "POWERTOOLS_METRICS_DISABLED": "true",
})


def _start_test_dns() -> Any:
    from tools.dns_server import LoopbackDns, Zone

    server = LoopbackDns(Zone(DNS_ZONE, default="mx")).start()
    os.environ["LEADPIPE_DNS_NAMESERVERS"] = server.nameservers
    return server


_TEST_DNS = _start_test_dns()


@pytest.fixture
def test_dns() -> Any:
    """The session's DNS server (its `log` counts queries; DNS_ZONE is its zone).

    The verify worker of this process starts cold: verdicts an earlier test's
    imports left in its memory (one Lambda container's cache) would spare
    queries that a test counting them expects.
    """
    from chalicelib.bootstrap import services

    verification = services().verification
    with verification._memory_lock:
        verification._memory.clear()
    return _TEST_DNS

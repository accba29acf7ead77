"""`make bench`, verification part: 100k emails over 2,000 domains, DNS 20 ms away.

A loopback DNS server (dnslib, its own process so its CPU is not ours) adds
20 ms to every answer. Ours runs the verify worker's own code (`VerificationService.handle`)
with the real resolver adapter on the messages an import sends: the file's
domains in look-up groups (from the splitter), then every email in batches
of 250 (from the chunk workers). The domain cache and the leads are in
memory here: DynamoDB's share is in the end-to-end figure. Beside it: the naive per-email
`validate_email(..., check_deliverability=True)` on a 2,000-email slice of
the same data, against the same server.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import threading
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dns.nameserver
import dns.resolver
from email_validator import EmailNotValidError, validate_email

from chalicelib.adapters.dns_lookup import DnsLookup, DnsSettings
from chalicelib.config import get_settings
from chalicelib.domain.deliverability import DomainVerdict, TtlPolicy, lookup_domain
from chalicelib.domain.verification import LeadSnapshot, VerdictUpdate
from chalicelib.services.verification import BATCH_LEADS, DOMAIN_GROUP, VerificationService

DELAY_SECONDS = 0.020
EMAILS = 100_000
DOMAINS = 2_000
NAIVE_SLICE = 2_000


def bench_data(emails: int = EMAILS, domains: int = DOMAINS) -> tuple[list[str], list[str]]:
    """(emails, domains): every domain used, the rest drawn with a long tail, like real lists."""
    rng = random.Random(4)
    names = [f"company{i:04d}-{rng.choice(['sales', 'labs', 'group', 'tech'])}.com"
             for i in range(domains)]
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(domains)]
    picked = names + rng.choices(names, weights, k=emails - domains)
    rng.shuffle(picked)
    return [f"person{i}@{d}" for i, d in enumerate(picked)], names


class MemoryDomainStore:
    """The verdict cache's interface over a dict (one process: no contention to model)."""

    def __init__(self) -> None:
        self._verdicts: dict[str, DomainVerdict] = {}
        self._leases: dict[str, int] = {}
        self._lock = threading.Lock()

    def get_many(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        with self._lock:
            return {d: self._verdicts[d] for d in domains if d in self._verdicts}

    def claim(self, domain: str, now: int, lease_seconds: int) -> bool:
        with self._lock:
            if domain in self._verdicts or self._leases.get(domain, 0) > now:
                return False
            self._leases[domain] = now + lease_seconds
            return True

    def claim_many(self, domains: Sequence[str], now: int, lease_seconds: int) -> list[str]:
        return [d for d in domains if self.claim(d, now, lease_seconds)]

    def put_many(self, verdicts: Sequence[DomainVerdict]) -> None:
        for verdict in verdicts:
            self.put(verdict)

    def put(self, verdict: DomainVerdict) -> None:
        with self._lock:
            self._verdicts[verdict.domain] = verdict


def _serve(zone: dict[str, str], ready: Any, stop: Any, out: Any) -> None:
    from tools.dns_server import LoopbackDns, Zone  # noqa: PLC0415

    server = LoopbackDns(Zone(zone), delay=DELAY_SECONDS).start()
    ready.put(server.port)
    while not stop.wait(0.1):
        if not out.empty():
            continue
    out.put(server.log.summary())
    server.stop()


@dataclass
class DnsProcess:
    port: int
    stop: Any
    out: Any
    process: multiprocessing.Process

    def summary(self) -> dict[str, Any]:
        """Stop the server and return its query counts."""
        self.stop.set()
        result: dict[str, Any] = self.out.get(timeout=30)
        self.process.join(timeout=30)
        return result


def start_dns(zone: dict[str, str]) -> DnsProcess:
    ready: Any = multiprocessing.Queue()
    out: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(zone, ready, stop, out), daemon=True)
    process.start()
    return DnsProcess(int(ready.get(timeout=30)), stop, out, process)


class MemoryLeads:
    """Leads as the worker reads and writes them, in a dict; tallies the verdicts written."""

    def __init__(self, emails: dict[str, str]) -> None:
        self._emails = emails
        self.verdicts: Counter[str] = Counter()

    def snapshots(self, list_id: str, shards: int,
                  lead_ids: Collection[str]) -> dict[str, LeadSnapshot]:
        return {i: LeadSnapshot(self._emails[i], "new", "pending", None, 0) for i in lead_ids}

    def apply(self, list_id: str, shards: int, update: VerdictUpdate) -> bool:
        self.verdicts[update.email_status] += 1
        return True

    def apply_many(self, list_id: str, shards: int,
                   updates: Sequence[VerdictUpdate]) -> list[bool]:
        return [self.apply(list_id, shards, u) for u in updates]

    def record_batch(self, import_id: str, batch: str, deltas: Mapping[str, int]) -> bool:
        return True


class NoQueue:
    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None:
        raise AssertionError("nothing is retried in this bench")


def ours(emails: list[str], port: int, concurrency: int) -> tuple[float, dict[str, int]]:
    """The verify worker's own code (service.handle) on every message an import sends."""
    settings = get_settings()
    dns_settings = DnsSettings(nameservers=(("127.0.0.1", port),),
                               timeout_seconds=settings.dns_timeout_seconds,
                               retries=settings.dns_retries, concurrency=concurrency)
    by_id = {f"ld_{i}": email for i, email in enumerate(emails)}
    leads = MemoryLeads(by_id)
    service = VerificationService(
        MemoryDomainStore(), DnsLookup(dns_settings), leads, NoQueue(),
        # lists and repo serve only list walks, which this bench does not do
        None, None,  # type: ignore[arg-type]
        policy=TtlPolicy(), retry_delays=(), lookup_seconds=4 * dns_settings.timeout_seconds,
        concurrency=concurrency)
    ids = list(by_id)
    # what the splitter sends (it collects them while splitting, timed with the
    # import): the file's distinct domains, in look-up groups
    ordered = list(dict.fromkeys(d for e in emails if (d := lookup_domain(e))))
    started = time.perf_counter()
    deadline = time.monotonic() + 3600
    for start in range(0, len(ordered), DOMAIN_GROUP):
        service.handle({"type": "domains", "domains": ordered[start:start + DOMAIN_GROUP]},
                       deadline=deadline)
    # what the chunk workers send: the saved leads, in batches
    for start in range(0, len(ids), BATCH_LEADS):
        service.handle({"type": "leads", "list_id": "ls_bench", "shards": 16,
                        "identity": "email", "attempt": 0,
                        "leads": [[i, by_id[i]] for i in ids[start:start + BATCH_LEADS]]},
                       deadline=deadline)
    return time.perf_counter() - started, dict(leads.verdicts)


def naive(emails: list[str], port: int) -> float:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port)]
    resolver.cache = None
    started = time.perf_counter()
    for email in emails:
        with contextlib.suppress(EmailNotValidError):
            validate_email(email, check_deliverability=True, dns_resolver=resolver)
    return time.perf_counter() - started


def run() -> list[tuple[str, str, str, str]]:
    emails, domains = bench_data()
    concurrency = get_settings().dns_concurrency
    zone = dict.fromkeys(domains, "mx")
    rows: list[tuple[str, str, str, str]] = []

    server = start_dns(zone)
    wall, verdicts = ours(emails, server.port, concurrency)
    counts = server.summary()
    ideal = len(domains) * DELAY_SECONDS / concurrency
    rows.append((
        f"verification: {len(emails):,} emails over {len(domains):,} domains, DNS +20 ms",
        f"{wall:.2f} s ({len(emails) / wall:,.0f} emails/s); DNS queries {counts['queries']:,} "
        f"for {counts['names']:,} names, {counts['asked_twice']} asked twice",
        f"ideal {len(domains):,} x 20 ms / {concurrency} = {ideal:.2f} s; "
        f"verdicts {verdicts}",
        f"{wall / ideal:.2f}x ideal (target <= 1.5x); queries = unique domains: "
        f"{'yes' if counts['queries'] == len(domains) else 'NO'}"))
    print(rows[-1], flush=True)

    server = start_dns(zone)
    sliced = emails[EMAILS // 2:EMAILS // 2 + NAIVE_SLICE]
    naive_s = naive(sliced, server.port)
    naive_counts = server.summary()
    per_email = naive_s / len(sliced)
    rows.append((
        f"naive validate_email(check_deliverability=True), {len(sliced):,}-email slice",
        f"{naive_s:.1f} s ({len(sliced) / naive_s:,.0f} emails/s); DNS queries "
        f"{naive_counts['queries']:,}",
        f"at that rate {len(emails):,} emails take {per_email * len(emails):,.0f} s "
        f"and {len(emails):,} queries",
        f"ours {per_email * len(emails) / wall:,.0f}x faster on the whole file"))
    print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))

"""VerificationService with fake adapters: one look-up per domain, leases, retries, counts."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import pytest

from chalicelib.domain.deliverability import DomainFacts, DomainVerdict, TtlPolicy
from chalicelib.domain.errors import DropMessage
from chalicelib.domain.verification import LeadSnapshot, VerdictUpdate
from chalicelib.services.verification import DomainsBusy, VerificationService


class FakeDomainStore:
    """The shared verdict cache: conditional claims under a lock, like DynamoDB's."""

    def __init__(self) -> None:
        self.verdicts: dict[str, DomainVerdict] = {}
        self.leases: dict[str, int] = {}
        self.lock = threading.Lock()
        self.reads = 0

    def get_many(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        with self.lock:
            self.reads += 1
            return {d: self.verdicts[d] for d in domains if d in self.verdicts}

    def claim(self, domain: str, now: int, lease_seconds: int) -> bool:
        with self.lock:
            known = self.verdicts.get(domain)
            if known is not None and known.fresh(now):
                return False
            if self.leases.get(domain, 0) > now:
                return False
            self.leases[domain] = now + lease_seconds
            return True

    def claim_many(self, domains: Sequence[str], now: int, lease_seconds: int) -> list[str]:
        return [d for d in domains if self.claim(d, now, lease_seconds)]

    def put_many(self, verdicts: Sequence[DomainVerdict]) -> None:
        for verdict in verdicts:
            self.put(verdict)

    def put(self, verdict: DomainVerdict) -> None:
        with self.lock:
            self.verdicts[verdict.domain] = verdict
            self.leases.pop(verdict.domain, None)


class FakeDns:
    def __init__(self, outcomes: Mapping[str, str] | None = None, delay: float = 0.0) -> None:
        self.outcomes = dict(outcomes or {})
        self.asked: Counter[str] = Counter()
        self.delay = delay
        self.lock = threading.Lock()

    def facts_for_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        names = list(domains)
        with self.lock:
            self.asked.update(names)
        time.sleep(self.delay)
        return {d: DomainFacts(self.outcomes.get(d, "mx"), 3600) for d in names}


class FakeLeads:
    def __init__(self) -> None:
        self.leads: dict[str, LeadSnapshot] = {}
        self.writes: list[VerdictUpdate] = []
        self.batches: dict[tuple[str, str], dict[str, int]] = {}
        self.reads = 0

    def add(self, lead_id: str, email: str) -> None:
        self.leads[lead_id] = LeadSnapshot(email, "new", "pending", None, 0)

    def snapshots(self, list_id: str, shards: int,
                  lead_ids: Collection[str]) -> dict[str, LeadSnapshot]:
        self.reads += len(lead_ids)
        return {i: self.leads[i] for i in lead_ids if i in self.leads}

    def apply(self, list_id: str, shards: int, update: VerdictUpdate) -> bool:
        current = self.leads[update.lead_id]
        if current.version != update.version:
            return False
        self.leads[update.lead_id] = LeadSnapshot(
            current.email, update.lead_status or current.status, update.email_status,
            update.email_status_reason, current.version + 1)
        self.writes.append(update)
        return True

    def apply_many(self, list_id: str, shards: int,
                   updates: Sequence[VerdictUpdate]) -> list[bool]:
        return [self.apply(list_id, shards, u) for u in updates]

    def record_batch(self, import_id: str, batch: str, deltas: Mapping[str, int]) -> bool:
        if (import_id, batch) in self.batches:
            return False
        self.batches[(import_id, batch)] = dict(deltas)
        return True

    def totals(self, import_id: str) -> Counter[str]:
        total: Counter[str] = Counter()
        for (iid, _), deltas in self.batches.items():
            if iid == import_id:
                total.update(deltas)
        return total


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self.sent.append((dict(job), delay_seconds))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _service(store: FakeDomainStore, dns: FakeDns, leads: FakeLeads | None = None,
             queue: FakeQueue | None = None, **kw: Any) -> VerificationService:
    return VerificationService(store, dns, leads or FakeLeads(), queue or FakeQueue(),
                               None, None,  # type: ignore[arg-type]  (lists, repo: unused here)
                               policy=TtlPolicy(), retry_delays=kw.pop("retry_delays", (60, 300)),
                               lookup_seconds=1.0, concurrency=4, **kw)


def _message(pairs: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {"type": "leads", "list_id": "ls_1", "shards": 4, "identity": "email",
            "leads": [list(p) for p in pairs], "attempt": 0, **extra}


def test_workers_sharing_the_cache_look_each_domain_up_once() -> None:
    # GIVEN four workers (each its own memory) and 40 domains they all need at once
    store, dns = FakeDomainStore(), FakeDns(delay=0.05)
    domains = {f"d{i}.io" for i in range(40)}
    workers = [_service(store, dns, poll_seconds=0.01) for _ in range(4)]
    results: list[dict[str, DomainVerdict]] = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.domain_verdicts(domains)))
               for w in workers]
    # WHEN they run concurrently
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # THEN every worker has every verdict, and DNS was asked once per domain
    assert all(set(r) == domains for r in results)
    assert set(dns.asked) == domains and set(dns.asked.values()) == {1}


def test_memory_then_table_then_dns() -> None:
    store, dns = FakeDomainStore(), FakeDns()
    worker = _service(store, dns)
    worker.domain_verdicts({"a.io"})
    reads = store.reads
    worker.domain_verdicts({"a.io"})  # in this worker's memory: no read at all
    assert store.reads == reads
    _service(store, dns).domain_verdicts({"a.io"})  # another worker: from the table
    assert dns.asked == Counter({"a.io": 1})


def test_known_verdicts_are_fresh_ones_only_and_never_looked_up() -> None:
    clock = Clock()
    store, dns = FakeDomainStore(), FakeDns()
    _service(store, dns, clock=clock, sleep=clock.sleep).domain_verdicts({"a.io", "b.io"})
    dns.asked.clear()
    # another worker (cold memory) reads the table; an unknown domain is not claimed
    other = _service(store, dns, clock=clock, sleep=clock.sleep)
    assert set(other.known_verdicts({"a.io", "b.io", "c.io"})) == {"a.io", "b.io"}
    assert set(other.known_verdicts({"a.io"})) == {"a.io"}  # now from its memory
    assert not dns.asked and "c.io" not in store.verdicts
    # past their freshness, neither memory nor table answers
    clock.now += 86400 * 2
    assert other.known_verdicts({"a.io", "b.io"}) == {}
    assert not dns.asked


def test_an_expired_verdict_is_looked_up_again() -> None:
    clock = Clock()
    store, dns = FakeDomainStore(), FakeDns()
    worker = _service(store, dns, clock=clock, sleep=clock.sleep)
    worker.domain_verdicts({"a.io"})
    clock.now += 86400 * 2
    worker.domain_verdicts({"a.io"})
    assert dns.asked == Counter({"a.io": 2})


def test_a_lease_left_by_a_crashed_worker_is_taken_over_when_it_expires() -> None:
    clock = Clock()
    store, dns = FakeDomainStore(), FakeDns()
    assert store.claim("a.io", int(clock.now), 30)  # a worker claimed it, then died
    worker = _service(store, dns, clock=clock, sleep=clock.sleep, poll_seconds=1.0)
    verdicts = worker.domain_verdicts({"a.io"})
    assert verdicts["a.io"].status == "valid"
    assert clock.now >= 1_000_030  # it waited for the lease, no longer
    assert dns.asked == Counter({"a.io": 1})


def test_waiting_on_other_workers_is_bounded() -> None:
    clock = Clock()
    store = FakeDomainStore()
    store.claim("a.io", int(clock.now), 10_000)  # held far longer than we wait
    worker = _service(store, FakeDns(), clock=clock, sleep=clock.sleep, wait_seconds=5)
    with pytest.raises(DomainsBusy):
        worker.domain_verdicts({"a.io"})


def test_verify_writes_each_lead_once_and_a_redelivery_writes_nothing() -> None:
    leads = FakeLeads()
    for i in range(5):
        leads.add(f"ld_{i}", f"p{i}@acme.io")
    leads.add("ld_x", "x@gone.io")
    dns = FakeDns({"gone.io": "nxdomain"})
    worker = _service(FakeDomainStore(), dns, leads)
    message = _message([(f"ld_{i}", f"p{i}@acme.io") for i in range(5)] + [("ld_x", "x@gone.io")],
                       import_id="im_1", batch="c0p0")
    worker.verify_leads(message)
    worker.verify_leads(message)  # SQS delivers at least once
    assert len(leads.writes) == 6
    assert leads.leads["ld_x"].status == "invalid"  # identity email, invalid, lead was new
    assert leads.totals("im_1") == Counter({"valid": 5, "invalid": 1})
    assert dns.asked == Counter({"acme.io": 1, "gone.io": 1})


def test_unknown_is_retried_with_delays_then_left_unknown() -> None:
    leads, queue = FakeLeads(), FakeQueue()
    leads.add("ld_1", "a@flaky.io")
    dns = FakeDns({"flaky.io": "timeout"})
    clock = Clock()
    # unknown verdicts are cached briefly: past that, a retry asks DNS again
    worker = VerificationService(FakeDomainStore(), dns, leads, queue, None, None,  # type: ignore[arg-type]
                                 policy=TtlPolicy(unknown_seconds=1), retry_delays=(60, 300),
                                 lookup_seconds=1, concurrency=2, clock=clock, sleep=clock.sleep)
    message = _message([("ld_1", "a@flaky.io")], import_id="im_1", batch="c0p0")
    worker.verify_leads(message)
    for expected_delay in (60, 300):
        retry, delay = queue.sent[-1]
        assert delay == expected_delay and retry["attempt"] == len(queue.sent)
        clock.now += delay
        worker.verify_leads(retry)
    assert len(queue.sent) == 2  # not forever: two delays, two retries
    assert leads.leads["ld_1"].email_status == "unknown"
    assert dns.asked == Counter({"flaky.io": 3})
    # the import counts the lead once, as unknown, whatever the retries did
    assert +leads.totals("im_1") == Counter({"unknown": 1})


def test_a_retry_that_succeeds_moves_the_count_from_unknown() -> None:
    leads, queue = FakeLeads(), FakeQueue()
    leads.add("ld_1", "a@flaky.io")
    dns = FakeDns({"flaky.io": "servfail"})
    clock = Clock()
    worker = VerificationService(FakeDomainStore(), dns, leads, queue, None, None,  # type: ignore[arg-type]
                                 policy=TtlPolicy(unknown_seconds=1), retry_delays=(60,),
                                 lookup_seconds=1, concurrency=2, clock=clock, sleep=clock.sleep)
    worker.verify_leads(_message([("ld_1", "a@flaky.io")], import_id="im_1", batch="c0p0"))
    dns.outcomes["flaky.io"] = "mx"  # the DNS recovers
    clock.now += 61
    worker.verify_leads(queue.sent[0][0])
    assert leads.leads["ld_1"].email_status == "valid"
    assert +leads.totals("im_1") == Counter({"valid": 1})


def test_requests_are_split_into_messages_that_fit_sqs() -> None:
    from chalicelib.domain.lead import Lead
    from chalicelib.domain.lead_list import LeadList

    queue = FakeQueue()
    worker = _service(FakeDomainStore(), FakeDns(), queue=queue)
    lst = LeadList(id="ls_1", workspace="w", name="n", identity="email", default_region="US",
                   shards=4, created_at="t", updated_at="t")
    leads = [Lead(id=f"ld_{i}", list_id="ls_1", created_at="t", updated_at="t",
                  email=f"{'x' * 60}{i}@{'d' * 180}.io" if i % 7 else None) for i in range(600)]
    worker.request(lst, leads, import_id="im_1", batch="c3")
    import json

    sizes = [len(json.dumps(m).encode()) for m, _ in queue.sent]
    assert [len(m["leads"]) for m, _ in queue.sent] == [250, 250, 14]
    assert [m["batch"] for m, _ in queue.sent] == ["c3p0", "c3p1", "c3p2"]
    assert max(sizes) < 256 * 1024


def test_domains_go_out_in_groups_and_a_group_is_looked_up_at_once() -> None:
    queue, dns = FakeQueue(), FakeDns()
    worker = _service(FakeDomainStore(), dns, queue=queue)
    worker.prefetch_domains([f"d{i}.io" for i in range(1200)])
    groups = [m["domains"] for m, _ in queue.sent]
    assert [len(g) for g in groups] == [500, 500, 200] and {m["type"] for m, _ in queue.sent} == {
        "domains"}
    worker.handle(queue.sent[0][0], deadline=time.monotonic() + 60)
    assert len(dns.asked) == 500 and set(dns.asked.values()) == {1}


@pytest.mark.parametrize("body", [
    {"type": "nope"}, {"type": "leads", "list_id": "ls_1", "shards": 16, "leads": [["ld_1"]]},
    {"type": "domains", "domains": "acme.io"}, {"type": "list", "list_id": "ls_1"},
])
def test_an_unknown_or_malformed_message_is_dropped(body: dict[str, Any]) -> None:
    # DropMessage: the handler drops it with a log line instead of retrying it
    with pytest.raises(DropMessage):
        _service(FakeDomainStore(), FakeDns()).handle(body, deadline=0)


def test_leads_sent_as_written_are_not_read_and_a_stale_one_is_read_again() -> None:
    leads = FakeLeads()
    for i in range(3):
        leads.add(f"ld_{i}", f"p{i}@acme.io")
    # ld_1 was edited after the request was sent: its version moved on
    leads.leads["ld_1"] = LeadSnapshot("p1@acme.io", "contacted", "pending", None, 1)
    worker = _service(FakeDomainStore(), FakeDns(), leads)
    entries = [[f"ld_{i}", f"p{i}@acme.io", 0, "new", "pending", None] for i in range(3)]
    worker.verify_leads({**_message([]), "leads": entries})
    assert leads.reads == 1  # only the stale one
    assert [leads.leads[f"ld_{i}"].email_status for i in range(3)] == ["valid"] * 3
    assert leads.leads["ld_1"].status == "contacted"

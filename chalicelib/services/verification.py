"""Email verification in the background: one DNS look-up per domain per TTL.

Leads are never verified on the request path: adding or editing a lead, and
each import chunk, put a `leads` message on the verify queue. The worker:

1. collects the batch's domains and finds each one's verdict: in this
   worker's memory, else in the table (shared by every worker), else it
   claims the domain (a conditional write: one worker per domain system-wide)
   and looks it up with the others it claimed, concurrently with a bound;
   a domain another worker claimed is waited for;
2. plans and writes each lead's verdict, conditional on the lead's version
   (idempotent: a lead already carrying the verdict is not written again);
3. sends the `unknown` ones (DNS timeout, SERVFAIL) back with a delay, a
   bounded number of times;
4. counts the batch's verdicts on its import exactly once (a marker item in
   the same transaction as the counts).

Messages: domain/verification_messages.py (leads, domains, list).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.deliverability import (
    DomainFacts,
    DomainVerdict,
    EmailVerdict,
    TtlPolicy,
    classify,
    domain_verdict,
    email_verdict,
)
from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.verification import LeadSnapshot, VerdictUpdate, plan_update
from chalicelib.domain.verification_messages import (
    domains_message,
    leads_message,
    list_message,
    parse_verification_message,
)
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.lists import ListService
from chalicelib.services.ports import MetricsSink, Repository

BATCH_LEADS = 250  # 250 x (id + a 254-char address) stays under SQS's 256 KB
DOMAIN_GROUP = 500
MEMORY_VERDICTS = 200_000


class DomainVerdictStore(Protocol):
    def get_many(self, domains: Collection[str]) -> dict[str, DomainVerdict]: ...
    def claim_many(self, domains: Sequence[str], now: int,
                   lease_seconds: int) -> list[str]: ...
    def put_many(self, verdicts: Sequence[DomainVerdict]) -> None: ...


class DomainLookup(Protocol):
    def facts_for_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]: ...


class LeadVerdictStore(Protocol):
    def snapshots(self, list_id: str, shards: int,
                  lead_ids: Collection[str]) -> dict[str, LeadSnapshot]: ...
    def apply(self, list_id: str, shards: int, update: VerdictUpdate) -> bool: ...
    def apply_many(self, list_id: str, shards: int,
                   updates: Sequence[VerdictUpdate]) -> list[bool]: ...
    def record_batch(self, import_id: str, batch: str, deltas: Mapping[str, int]) -> bool: ...


class DelayedQueue(Protocol):
    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None: ...


class DomainsBusy(RuntimeError):
    """Other workers held some domains' look-ups longer than we wait: retry the message."""


class VerificationService:
    def __init__(self, domains: DomainVerdictStore, dns: DomainLookup, leads: LeadVerdictStore,
                 queue: DelayedQueue, lists: ListService, repo: Repository, *,
                 policy: TtlPolicy, retry_delays: Sequence[int], lookup_seconds: float,
                 concurrency: int, wait_seconds: float = 60.0, poll_seconds: float = 0.1,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 metrics: MetricsSink | None = None,
                 announce: LeadAnnouncer | None = None) -> None:
        self._domains = domains
        # Webhooks: verdicts of API leads (not imports') as lead.verified.
        self._announce = announce
        self._dns = dns
        self._leads = leads
        self._queue = queue
        self._lists = lists
        self._repo = repo
        self._policy = policy
        self._retry_delays = tuple(retry_delays)
        # Worst case for one domain: every query of MX, A, AAAA, TXT timing out.
        self._lookup_seconds = lookup_seconds
        self._concurrency = max(1, concurrency)
        self._wait_seconds = wait_seconds
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._sleep = sleep
        self._metrics = metrics
        self._memory: dict[str, DomainVerdict] = {}
        self._memory_lock = threading.Lock()

    # --- requests (request path, imports) --------------------------------------
    def request(self, lst: LeadList, leads: Sequence[Lead], *, import_id: str | None = None,
                batch: str | None = None) -> None:
        """Queue the leads' emails for verification (in messages of BATCH_LEADS).

        Each entry carries the lead as the requester just wrote or read it, so
        the worker writes without reading first; the write is conditional on
        that version, and a lead changed since is read and planned again.
        """
        pairs = [[lead.id, lead.email, lead.version, lead.status, lead.email_status,
                  lead.email_status_reason] for lead in leads if lead.email]
        for part, start in enumerate(range(0, len(pairs), BATCH_LEADS)):
            self._queue.send(leads_message(
                lst.id, lst.shards, lst.identity, pairs[start:start + BATCH_LEADS],
                import_id=import_id, batch=None if batch is None else f"{batch}p{part}",
                workspace=lst.workspace if import_id is None else None))

    def prefetch_domains(self, domains: Sequence[str]) -> None:
        """Queue domains for look-up ahead of their leads (an import's, from its splitter)."""
        for start in range(0, len(domains), DOMAIN_GROUP):
            group = list(domains[start:start + DOMAIN_GROUP])
            self._queue.send(domains_message(group))

    def request_list(self, workspace: str, list_id: str,
                     payload: Mapping[str, Any]) -> dict[str, Any]:
        """Re-verify a list's emails (all, or those checked more than N days ago)."""
        lst = self._lists.get(workspace, list_id)
        errors = [FieldError(k, "unknown_field", f"Unknown field {k!r}")
                  for k in sorted(set(payload) - {"older_than_days"})]
        days = payload.get("older_than_days", 0)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
            errors.append(FieldError("older_than_days", "invalid_type",
                                     "older_than_days is a whole number from 0 to 3650"))
        if errors:
            raise ValidationFailed(errors)
        older_than = None
        if days:
            older_than = (datetime.now(UTC) - timedelta(days=days)).isoformat(
                timespec="milliseconds").replace("+00:00", "Z")
        self._queue.send(list_message(workspace, lst.id, older_than))
        return {"list_id": lst.id, "status": "queued", "older_than_days": days}

    # --- worker -----------------------------------------------------------------
    def handle(self, body: Mapping[str, Any], *, deadline: float) -> None:
        message = parse_verification_message(body)
        if message["type"] == "leads":
            self.verify_leads(message)
        elif message["type"] == "domains":
            self.domain_verdicts(set(message["domains"]))
        else:
            self.continue_list(message, deadline=deadline)

    def continue_list(self, message: Mapping[str, Any], *, deadline: float) -> None:
        lst = self._lists.get(str(message["workspace"]), str(message["list_id"]))
        older_than = message.get("older_than")
        start = LeadPosition.decode(message["position"], lst.shards) \
            if message.get("position") else None
        batch: list[Lead] = []
        for lead, position in self._repo.walk_leads(lst, start, page_size=500):
            if lead.email and (older_than is None or lead.email_checked_at is None
                               or lead.email_checked_at < older_than):
                batch.append(lead)
            if len(batch) >= BATCH_LEADS:
                self.request(lst, batch)
                batch = []
            if time.monotonic() > deadline:
                self.request(lst, batch)
                self._queue.send(list_message(str(message["workspace"]),
                                              str(message["list_id"]), older_than,
                                              position.encode()))
                return
        self.request(lst, batch)

    def verify_leads(self, message: Mapping[str, Any]) -> None:
        entries = message["leads"]
        pairs = [(str(entry[0]), str(entry[1])) for entry in entries]
        attempt = int(message.get("attempt", 0))
        classified = {email: classify(email) for _, email in pairs}
        verdicts = self.domain_verdicts({d for d, _ in classified.values() if d is not None})
        results: dict[str, EmailVerdict] = {}
        for lead_id, email in pairs:
            name, decided = classified[email]
            results[lead_id] = decided or email_verdict(email, str(name), verdicts[str(name)])
        self._write(message, pairs, results, self._known_snapshots(entries))
        # Retries carry no snapshot: the lead has changed since (it is unknown now).
        unknown = [[lead_id, email] for lead_id, email in pairs
                   if results[lead_id].status == "unknown"]
        if unknown and attempt < len(self._retry_delays):
            batch = message.get("batch")
            retry = leads_message(
                str(message["list_id"]), int(message["shards"]),
                str(message.get("identity", "email")), unknown, attempt=attempt + 1,
                import_id=message.get("import_id"),
                batch=f"{batch}/r{attempt + 1}" if batch else None,
                workspace=message.get("workspace"))
            self._queue.send(retry, delay_seconds=self._retry_delays[attempt])
        tally = Counter(v.status for v in results.values())
        if self._count(message, tally) and self._metrics is not None:
            for status, n in tally.items():
                self._metrics.add(f"Emails{status.capitalize()}", n)

    def give_up(self, body: Mapping[str, Any]) -> None:
        """A batch that kept failing (verify DLQ): its pending leads become unknown."""
        message = parse_verification_message(body)
        if message["type"] != "leads":
            return
        pairs = [(str(entry[0]), str(entry[1])) for entry in message["leads"]]
        failed = EmailVerdict("unknown", "verification_failed")
        snapshots = self._leads.snapshots(str(message["list_id"]), int(message["shards"]),
                                          [lead_id for lead_id, _ in pairs])
        still_pending = [(i, e) for i, e in pairs
                         if (s := snapshots.get(i)) is not None and s.email_status == "pending"]
        self._write(message, still_pending, dict.fromkeys((i for i, _ in still_pending), failed),
                    snapshots)
        self._count(message, Counter({"unknown": len(pairs)}))

    def _count(self, message: Mapping[str, Any], verdicts: Counter[str]) -> bool:
        """Count an import batch's verdicts once; True unless counted before."""
        import_id, batch = message.get("import_id"), message.get("batch")
        if not import_id or not batch:
            return True
        deltas = dict(verdicts)
        if int(message.get("attempt", 0)) > 0:
            # A retry carries leads its earlier attempt counted as unknown.
            deltas["unknown"] = deltas.get("unknown", 0) - len(message["leads"])
        return self._leads.record_batch(str(import_id), str(batch), deltas)

    @staticmethod
    def _known_snapshots(entries: Sequence[Sequence[Any]]) -> dict[str, LeadSnapshot]:
        return {str(e[0]): LeadSnapshot(email=str(e[1]), version=int(e[2]), status=str(e[3]),
                                        email_status=str(e[4]),
                                        email_status_reason=None if e[5] is None else str(e[5]))
                for e in entries if len(e) >= 6}

    def _write(self, message: Mapping[str, Any], pairs: Sequence[tuple[str, str]],
               results: Mapping[str, EmailVerdict],
               snapshots: Mapping[str, LeadSnapshot]) -> None:
        """Write each lead's verdict; leads changed since their snapshot are read and retried."""
        list_id, shards = str(message["list_id"]), int(message["shards"])
        identity = str(message.get("identity", "email"))
        known = dict(snapshots)
        unread = [lead_id for lead_id, _ in pairs if lead_id not in known]
        if unread:
            known.update(self._leads.snapshots(list_id, shards, unread))
        now_iso, now_ms = utc_now_iso(), int(self._clock() * 1000)
        todo = list(pairs)
        for _ in range(3):  # an edit racing with us wins: read those leads again, re-plan
            planned = [(lead_id, update) for lead_id, email in todo
                       if (update := plan_update(lead_id, email, known.get(lead_id),
                                                 results[lead_id], identity=identity,
                                                 now_iso=now_iso, now_ms=now_ms)) is not None]
            written = self._leads.apply_many(list_id, shards, [u for _, u in planned])
            changed = {lead_id for (lead_id, _), done in zip(planned, written, strict=True)
                       if not done}
            self._announce_verdicts(message, planned, written, dict(todo))
            if not changed:
                return
            known.update(self._leads.snapshots(list_id, shards, changed))
            todo = [(lead_id, email) for lead_id, email in todo if lead_id in changed]

    def _announce_verdicts(self, message: Mapping[str, Any],
                           planned: Sequence[tuple[str, VerdictUpdate]],
                           written: Sequence[bool], emails: Mapping[str, str]) -> None:
        workspace = message.get("workspace")
        if self._announce is None or not workspace:
            return
        with self._announce.collecting():
            for (lead_id, update), done in zip(planned, written, strict=True):
                if done:
                    self._announce.verified(str(workspace), str(message["list_id"]), lead_id,
                                            emails[lead_id], update.email_status,
                                            update.email_status_reason)

    # --- domain verdicts ------------------------------------------------------------
    def known_verdicts(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        """The domains whose verdict is known and fresh now: this worker's memory, then
        the shared table (one BatchGetItem a 100). Nothing is claimed or looked up:
        an import chunk saves the leads of these domains with their verdict, and
        queues the others for the background look-up."""
        now = int(self._clock())
        found: dict[str, DomainVerdict] = {}
        missing: set[str] = set()
        with self._memory_lock:
            for domain in domains:
                known = self._memory.get(domain)
                if known is not None and known.fresh(now):
                    found[domain] = known
                else:
                    missing.add(domain)
        if missing:
            for domain, verdict in self._domains.get_many(missing).items():
                if verdict.fresh(now):
                    found[domain] = verdict
                    self._remember(verdict)
        return found

    def domain_verdicts(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        """A fresh verdict for every domain, looking up only what nobody knows yet."""
        now = int(self._clock())
        found: dict[str, DomainVerdict] = {}
        missing: set[str] = set()
        with self._memory_lock:
            for domain in domains:
                known = self._memory.get(domain)
                if known is not None and known.fresh(now):
                    found[domain] = known
                else:
                    missing.add(domain)
        give_up_at = self._clock() + self._wait_seconds
        while missing:
            for domain, verdict in self._domains.get_many(missing).items():
                if verdict.fresh(now):
                    found[domain] = verdict
                    missing.discard(domain)
                    self._remember(verdict)
            if not missing:
                break
            # The lease covers looking all of them up at our concurrency.
            rounds = math.ceil(len(missing) / self._concurrency)
            lease = int(self._lookup_seconds * rounds) + 10
            mine = self._domains.claim_many(sorted(missing), now, lease)
            if mine:
                facts = self._dns.facts_for_many(mine)
                if self._metrics is not None:
                    self._metrics.add("DomainsLookedUp", len(mine))
                checked = int(self._clock())
                fresh = [domain_verdict(d, facts[d], now=checked, policy=self._policy)
                         for d in mine]
                self._domains.put_many(fresh)
                for verdict in fresh:
                    self._remember(verdict)
                    found[verdict.domain] = verdict
                    missing.discard(verdict.domain)
            if missing:  # claimed by other workers: their verdicts arrive shortly
                if self._clock() > give_up_at:
                    raise DomainsBusy(f"{len(missing)} domain look-ups held by other workers")
                self._sleep(self._poll_seconds)
                now = int(self._clock())
        return found

    def _remember(self, verdict: DomainVerdict) -> None:
        with self._memory_lock:
            if len(self._memory) >= MEMORY_VERDICTS:
                self._memory.clear()  # a warm Lambda must not grow without bound
            self._memory[verdict.domain] = verdict

"""Events-in figures (issue 14): N outreach events through `POST /events` on the local stack.

A fresh local stack (tools/localstack.py on free ports, no demo import; the
API started with `LEADPIPE_API_STATS_FILE`, so it counts its own DynamoDB
calls at its client with tools/dynamo_meter.py, a botocore hook, and writes
the counts to that file twice a second) gets one email list of N leads, added
through `POST /lists/{id}/leads/batch` (1,000 a request), and a second list of
PATCH_LEADS leads for the baseline. The bench waits until every lead's email
verdict is in (the event pump verifies new emails; nothing else then runs
beside the measured requests).

The events are outreach stories, one a lead (`story`): a sequence step sent and
opened, sent then a reply, a bounce, an unsubscribe, calls (no answer, answered
with a ~1.5 KB transcript and a recording, a callback with its callback time,
not interested), WhatsApp messages out and in, a booked meeting; each with its
campaign (id, name, step, total steps). Stories are dealt to leads 0, 1, 2...
until they hold N events (about N / 2.4 leads get any), and sent step by step
as time passes for an engine (every lead's first event, then every second
one...), 500 a request from one client, so a request's events are about 500
different leads. Email events name their lead by list and email (as typed,
some in capitals), calls, messages and meetings by lead id and list. An event
answered `failed` (`over_time_budget`, `try_again`) is sent again after the
pass, as the docs ask of an engine, within the timed pass.

Measured, each from the API's own meter (requests and write units as
dynamo_meter estimates them: 1 per started KB of an item, 2 in a transaction):

- events/s: N over the wall time of the pass, resends included; DynamoDB
  requests and write units per event; the API's time in DynamoDB calls;
- the same N events sent a second time: every one answered `duplicate`
  (idempotency's cost: the transaction refused by the marker's condition,
  the marker read, the lead read again);
- baseline, same run: the same status changes as single-lead
  `PATCH /lists/{id}/leads/{lead_id} {"status"}` on the second list, for the
  first PATCH_LEADS leads' stories (one PATCH a status change the rules make,
  about 1.5 a lead): PATCHes/s, requests and write units per PATCH.

The rate limiter stays on (a counter write a request, as on AWS) with a limit
no run reaches. The final statuses of the events list are checked against the
rules (chalicelib/domain/event_rules.py) applied to the events sent.

    python -m tools.bench_events [--events N] [--patch-leads N]   (make bench calls run())
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.domain.event_rules import event_status, higher_status
from chalicelib.domain.events import parse_event
from tools.bench_lists import WORK, ListStack, table
from tools.sample_data import DISPOSABLE, PROVIDERS, sample_domains

Row = tuple[str, str, str, str]
LEAD_BATCH = 1000
EVENT_BATCH = 500
PATCH_LEADS = 1000
STEP_HOURS = 6
CAMPAIGNS = (("cmp-q4-push", "Q4 push"), ("cmp-webinar", "Webinar follow-up"),
             ("cmp-reengage", "Re-engage 2026"))
_SENTENCE = ("Thanks for taking the call. We looked at how your team imports leads today "
             "and where the duplicates come from; ")
TRANSCRIPT = (_SENTENCE * 14)[:1500]  # what a voice agent sends for an answered call
RECORDING = "https://recordings.example-voice.com/calls/{}.mp3"


@dataclass(frozen=True)
class Step:
    """One event of a story: its type and data, and how it names its lead."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    by_id: bool = False  # by lead id and list; else by list and email


def _call(outcome: str, *, talk: bool = False, **extra: Any) -> Step:
    data: dict[str, Any] = {"direction": "outbound", "outcome": outcome,
                            "duration_s": 184 if talk else 0, **extra}
    if talk:
        data["transcript"] = TRANSCRIPT
    return Step("call", data, by_id=True)


_SENT = Step("email_sent", {"subject": "Quick question about your lead imports"})
_OPENED = Step("email_opened", {"user_agent": "Mozilla/5.0 (Macintosh)", "ip_country": "FR"})
# (weight out of 20, steps): about 2.4 events a story.
_STORIES: tuple[tuple[int, tuple[Step, ...]], ...] = (
    (6, (_SENT, _OPENED, Step("email_sent", {"subject": "Re: quick question"}))),
    (3, (_SENT, _OPENED, Step("email_clicked", {"url": "https://leadpipe.example/demo"}))),
    (3, (_SENT, Step("replied", {"snippet": "Sounds interesting, can you send pricing?"}))),
    (2, (_SENT, Step("bounced", {"bounce_type": "hard", "smtp_code": 550}))),
    (2, (_call("no_answer"), _call("callback", talk=True))),
    (1, (_call("answered", talk=True),
         Step("meeting_booked", {"calendar": "google", "duration_min": 30}, by_id=True))),
    (1, (_call("not_interested", talk=True),)),
    (1, (Step("message", {"channel": "whatsapp", "direction": "outbound",
                          "text": "Hi! Following up on my email about lead imports."},
              by_id=True),
         Step("message", {"channel": "whatsapp", "direction": "inbound",
                          "text": "Hi, yes, let's talk next week."}, by_id=True))),
    (1, (_SENT, Step("unsubscribed", {"source": "list-unsubscribe header"}))),
)
_SLOTS = tuple(steps for weight, steps in _STORIES for _ in range(weight))


def story(lead: int) -> tuple[Step, ...]:
    """The outreach story of lead number `lead` (deterministic)."""
    return _SLOTS[(lead * 7) % len(_SLOTS)]


@dataclass(frozen=True)
class Planned:
    """Event `step` of lead `lead`'s story."""

    lead: int
    step: int
    event: Step


def plan(n_events: int) -> list[Planned]:
    """n_events events: stories dealt to leads 0, 1, ... until they hold n_events,
    sent step by step (every lead's first event, then every second one, ...)."""
    stories: list[tuple[Step, ...]] = []
    total = 0
    while total < n_events:
        stories.append(story(len(stories)))
        total += len(stories[-1])
    longest = max((len(s) for s in stories), default=0)
    ordered = [Planned(lead, step, steps[step]) for step in range(longest)
               for lead, steps in enumerate(stories) if step < len(steps)]
    return ordered[:n_events]


# Company domains the local stack's DNS serves with an MX (tools/sample_data.py): every
# email verifies `valid` at once, so no verdict is retried while the bench measures.
_NOT_COMPANIES = {d for d, _ in PROVIDERS} | set(DISPOSABLE)
MX_DOMAINS = tuple(d for d, kind, _ in sample_domains()
                   if kind == "mx" and d not in _NOT_COMPANIES)[:200]


def lead_email(lead: int, prefix: str = "person") -> str:
    return f"{prefix}{lead}@{MX_DOMAINS[lead % len(MX_DOMAINS)]}"


def wire(item: Planned, *, list_id: str, lead_ids: Sequence[str], base: datetime,
         now: datetime) -> dict[str, Any]:
    """The event as an engine sends it to `POST /events`."""
    ref: dict[str, Any]
    if item.event.by_id:
        ref = {"id": lead_ids[item.lead], "list_id": list_id}
    else:
        email = lead_email(item.lead)
        ref = {"list_id": list_id, "email": email.upper() if item.lead % 5 == 0 else email}
    campaign_id, name = CAMPAIGNS[item.lead % len(CAMPAIGNS)]
    steps = story(item.lead)
    data = dict(item.event.data)
    if item.event.type == "call":
        if data["outcome"] == "callback":
            data["callback_at"] = (now + timedelta(days=2)).isoformat()
        if "transcript" in data:
            data["recording_url"] = RECORDING.format(f"{item.lead}-{item.step}")
    occurred = base + timedelta(hours=STEP_HOURS * item.step, seconds=item.lead % 3600)
    return {"id": f"bench-{item.lead:06d}-{item.step}", "type": item.event.type,
            "occurred_at": occurred.isoformat(), "lead": ref,
            "campaign": {"id": campaign_id, "name": name, "step": item.step + 1,
                         "total_steps": len(steps)},
            "data": data}


def status_path(events: Sequence[dict[str, Any]], now: datetime) -> list[str]:
    """The statuses a new lead passes through as these events arrive in this order,
    by the rules (each a status change a PATCH would make)."""
    status, path = "new", []
    for raw in events:
        moved = higher_status(status, event_status(parse_event(raw, now=now)))
        if moved != status:
            status = moved
            path.append(status)
    return path


def paths_by_lead(planned: Sequence[Planned], body: Sequence[dict[str, Any]],
                  now: datetime) -> dict[int, list[str]]:
    """Each named lead's status changes, by the rules, for the events in `body`."""
    events: dict[int, list[dict[str, Any]]] = {}
    for item, raw in zip(planned, body, strict=True):
        events.setdefault(item.lead, []).append(raw)
    return {lead: status_path(group, now) for lead, group in events.items()}


def final_statuses(paths: dict[int, list[str]]) -> Counter[str]:
    """How many named leads end in each status other than `new` (the list's stats)."""
    return Counter(path[-1] for path in paths.values() if path)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- the meter ------------------------------------------------------------------------
@dataclass(frozen=True)
class Cost:
    """DynamoDB calls the API made between two meter readings."""

    requests: Counter[str]
    write_units: float
    seconds: dict[str, float]

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def per(self, n: int) -> tuple[float, float]:
        """(requests, write units) per one of n."""
        return self.total_requests / n, self.write_units / n

    def by_operation(self, n: int) -> str:
        """'GetItem 2.00, TransactWriteItems 1.02' (requests per one of n, most first)."""
        return ", ".join(f"{op} {count / n:.2f}" for op, count in self.requests.most_common())

    def time_by_operation(self) -> str:
        return ", ".join(f"{op} {sec:.1f} s" for op, sec in
                         sorted(self.seconds.items(), key=lambda kv: -kv[1]) if sec >= 0.05)


def cost(before: dict[str, Any], after: dict[str, Any]) -> Cost:
    requests = Counter({op: n - before["requests"].get(op, 0)
                        for op, n in after["requests"].items()})
    seconds = {op: s - before["seconds"].get(op, 0.0) for op, s in after["seconds"].items()}
    return Cost(+requests, after["write_units"] - before["write_units"], seconds)


class ApiMeter:
    """The API process's counts, as tools/local_api.py writes them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        """The counts once every call made so far is in the file (written twice a second)."""
        time.sleep(1.2)
        deadline = time.time() + 30
        while True:
            try:
                data: dict[str, Any] = json.loads(self.path.read_text())
                return data
            except (OSError, ValueError):
                if time.time() > deadline:
                    raise SystemExit(f"no DynamoDB counts from the API in {self.path}") from None
                time.sleep(0.5)


# --- the run ----------------------------------------------------------------------------
def _add_leads(stack: ListStack, list_id: str, emails: list[str],
               progress: Callable[[str], None]) -> list[str]:
    """Lead ids in order, every batch complete (a 202 is waited for)."""
    ids: list[str] = []
    for part in chunks(emails, LEAD_BATCH):
        response = stack.session.post(
            f"{stack.url}/lists/{list_id}/leads/batch", timeout=300,
            json={"leads": [{"email": e, "first_name": "Ada", "last_name": "Lovelace",
                             "company": f"Acme {i % 97}", "job_title": "Head of Sales"}
                            for i, e in enumerate(part)]})
        response.raise_for_status()
        body = response.json()
        while body.get("status") == "running":
            time.sleep(0.5)
            body = stack.get(f"/lists/{list_id}/leads/batch/{body['batch_id']}")
        created = [r for r in body["results"] if r["status"] == "created"]
        if len(created) != len(part):
            raise SystemExit(f"batch: {len(created)} of {len(part)} created: {body}")
        ids += [r["lead_id"] for r in sorted(body["results"], key=lambda r: r["index"])]
    progress(f"{len(ids):,} leads added to {list_id}")
    return ids


def _wait_verified(stack: ListStack, list_ids: list[str], progress: Callable[[str], None],
                   *, limit_s: float = 1800.0) -> None:
    """Until no lead of these lists waits for its email verdict (the pump's work)."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        pending = sum(stack.get(f"/lists/{lid}/stats")["by_email_status"].get("pending", 0)
                      for lid in list_ids)
        if pending == 0:
            return
        time.sleep(2)
    progress(f"verification not done after {limit_s:.0f} s: measuring anyway")


@dataclass
class Pass:
    seconds: float
    requests: int  # POST /events requests, resends included
    results: Counter[str]  # each event's last result
    resent: int  # events answered `failed` and sent again


def _send(stack: ListStack, events: list[dict[str, Any]], *, rounds: int = 5) -> Pass:
    """Every event sent, 500 a request; `failed` ones sent again after the pass
    (up to `rounds` passes in all)."""
    final: dict[str, str] = {}
    todo: list[dict[str, Any]] = events
    resent = calls = 0
    started = time.perf_counter()
    for round_ in range(rounds):
        if round_:
            resent += len(todo)
        failed: list[dict[str, Any]] = []
        for part in chunks(todo, EVENT_BATCH):
            response = stack.session.post(f"{stack.url}/events", json={"events": list(part)},
                                          timeout=120)
            calls += 1
            response.raise_for_status()
            for raw, result in zip(part, response.json()["results"], strict=True):
                final[raw["id"]] = result["result"]
                if result["result"] == "failed":
                    failed.append(raw)
        todo = failed
        if not todo:
            break
    return Pass(time.perf_counter() - started, calls, Counter(final.values()), resent)


def _patches(stack: ListStack, list_id: str, lead_ids: list[str],
             paths: list[list[str]]) -> tuple[int, float]:
    """(PATCHes, seconds): each lead's status changes, one PATCH each."""
    done = 0
    started = time.perf_counter()
    for lead_id, path in zip(lead_ids, paths, strict=False):
        for status in path:
            response = stack.session.patch(f"{stack.url}/lists/{list_id}/leads/{lead_id}",
                                           json={"status": status}, timeout=60)
            response.raise_for_status()
            done += 1
    return done, time.perf_counter() - started


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run(events: int = 10_000, *, patch_leads: int = PATCH_LEADS,
        progress: Callable[[str], None] = print) -> list[Row]:
    stats = WORK / "events-api-stats.json"
    WORK.mkdir(parents=True, exist_ok=True)
    stats.unlink(missing_ok=True)
    progress(f"load average at the start: {_load()}")
    stack = ListStack("events-stack.log", extra_env={
        "LEADPIPE_API_STATS_FILE": str(stats), "LEADPIPE_MAX_BATCH_LEADS": str(LEAD_BATCH),
        # On, as on AWS (one counter write a request), and never reached.
        "LEADPIPE_RATE_LIMIT_PER_MINUTE": "1000000000"})
    meter = ApiMeter(stats)
    try:
        planned = plan(events)
        leads = max(events, 1 + max(p.lead for p in planned))
        list_id = _new_list(stack, "events bench")
        patch_id = _new_list(stack, "events bench: PATCH baseline")
        lead_ids = _add_leads(stack, list_id, [lead_email(i) for i in range(leads)], progress)
        patch_ids = _add_leads(stack, patch_id,
                               [lead_email(i, "patch") for i in range(patch_leads)], progress)
        _wait_verified(stack, [list_id, patch_id], progress)

        now = datetime.now(UTC)
        body = [wire(p, list_id=list_id, lead_ids=lead_ids, base=now - timedelta(days=3),
                     now=now) for p in planned]
        paths = paths_by_lead(planned, body, now)
        sizes = [len(json.dumps({"events": list(part)})) for part in chunks(body, EVENT_BATCH)]
        progress(f"{len(body):,} events about {len(paths):,} leads, {len(sizes)} requests of "
                 f"{min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB")

        load_before = _load()
        before = meter.read()
        first = _send(stack, body)
        middle = meter.read()
        progress(f"first pass: {first.seconds:.1f} s, {_counts(first.results)}, "
                 f"{first.resent} resent; load {_load()}")
        second = _send(stack, body)
        after = meter.read()
        progress(f"second pass: {second.seconds:.1f} s, {_counts(second.results)}; "
                 f"load {_load()}")
        patch_paths = [paths.get(i, []) for i in range(patch_leads)]
        patch_before = meter.read()
        n_patches, patch_s = _patches(stack, patch_id, patch_ids, patch_paths)
        patch_after = meter.read()
        load_after = _load()
        progress(f"{n_patches:,} PATCHes in {patch_s:.1f} s; load {load_after}")

        got = Counter({k: v for k, v in stack.get(f"/lists/{list_id}/stats")["by_status"].items()
                       if k != "new"})
        want = final_statuses(paths)
        rules = "yes" if got == want else f"NO (got {dict(got)}, want {dict(want)})"
        changes = sum(len(path) for path in paths.values())
        ev, dup = cost(before, middle), cost(middle, after)
        pt = cost(patch_before, patch_after)
        ev_req, ev_wcu = ev.per(events)
        dup_req, dup_wcu = dup.per(events)
        pt_req, pt_wcu = pt.per(max(1, n_patches))
        rate, dup_rate = events / first.seconds, events / second.seconds
        patch_rate = n_patches / patch_s if patch_s else float("nan")
        return [
            (f"events in: {events:,} events, POST /events {EVENT_BATCH} a request "
             f"({first.requests} requests, one client, local stack)",
             f"{rate:,.0f} events/s ({first.seconds:.1f} s)",
             f"single-lead PATCH {{status}}, the same status changes of the first "
             f"{patch_leads:,} leads' stories ({n_patches:,} PATCHes): "
             f"{patch_rate:,.1f} PATCHes/s",
             f"{rate / patch_rate:.1f}x the PATCH rate; results {_counts(first.results)}, "
             f"{first.resent} resent; final statuses = the rules': {rules}"),
            ("events in: DynamoDB at the API's client, per event",
             f"{ev_req:.2f} requests, {ev_wcu:.1f} WCU",
             f"per PATCH: {pt_req:.2f} requests, {pt_wcu:.1f} WCU "
             f"({pt.by_operation(max(1, n_patches))})",
             f"{ev_wcu / pt_wcu:.1f}x a PATCH's WCU; per status change "
             f"{ev.write_units / max(1, changes):.1f} WCU ({changes:,} changes); requests per "
             f"event: {ev.by_operation(events)}; API time in DynamoDB calls "
             f"{ev.time_by_operation()}"),
            (f"events in: the same {events:,} sent again (all duplicates)",
             f"{dup_rate:,.0f} events/s ({second.seconds:.1f} s)",
             f"first pass {rate:,.0f} events/s",
             f"results {_counts(second.results)}; {dup_req:.2f} requests, {dup_wcu:.1f} WCU "
             f"per event ({dup.by_operation(events)}); API time in DynamoDB calls "
             f"{dup.time_by_operation()}"),
            ("events in: the run",
             f"load average {load_before} before the events, {load_after} after the PATCHes",
             f"{leads:,} leads, {len(paths):,} named by events; {patch_leads:,} on the "
             f"PATCH list",
             f"PATCH: API time in DynamoDB calls {pt.time_by_operation()}"),
        ]
    finally:
        stack.stop()


def _new_list(stack: ListStack, name: str) -> str:
    response = stack.session.post(f"{stack.url}/lists", json={"name": name, "identity": "email"},
                                  timeout=30)
    response.raise_for_status()
    list_id: str = response.json()["id"]
    return list_id


def _counts(results: Counter[str]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in results.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe events-in benchmark")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--patch-leads", type=int, default=PATCH_LEADS)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.events, patch_leads=args.patch_leads)
    print(f"\nmake bench (events in), {time.strftime('%Y-%m-%d')}, "
          f"{time.perf_counter() - started:.0f} s in all\n\n{table(rows)}\n")


if __name__ == "__main__":
    main()

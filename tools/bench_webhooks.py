"""Webhook fan-out figures (issue 14, item 5): N deliveries to a loopback receiver.

A fresh local stack (API, embedded AWS, the event pump playing Lambda) gets one
webhook endpoint subscribed to `lead.created` at a receiver in this process
(tools/webhook_receiver.py, answering 200). Then N leads are added through
`POST /lists/{id}/leads/batch` (1,000 a request): each is one `lead.created`
event, one `webhooks` message (SendMessageBatch, ten a call) and one signed
POST by the app's worker. Measured:

- deliveries/s: N over the time from the first event's `created_at` to the
  last delivery's arrival at the receiver;
- delay from event to delivery: arrival minus the event's `created_at` (same
  machine, same clock), p50 and p99;
- the same delay for 300 events sent at 10 a second after the burst (no backlog);
- baseline, same run: N bare POSTs of the same size from one client
  (`requests.Session`) to the same receiver: requests/s and p99 latency.

    python -m tools.bench_webhooks [--deliveries N]      (make bench calls run())
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime

import requests

from tools.bench_lists import ListStack, table
from tools.webhook_receiver import Behaviour, WebhookReceiver

Row = tuple[str, str, str, str]
BATCH = 1000
# After the burst: events at a steady rate the stack keeps up with, for the
# delay of one delivery without a backlog.
PACED_RATE = 10
PACED_SECONDS = 30


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _baseline(url: str, n: int, body: bytes) -> tuple[float, float]:
    """Requests/s and p99 seconds of n bare POSTs from one client."""
    session = requests.Session()
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        session.post(url, data=body, headers={"Content-Type": "application/json"},
                     timeout=10).close()
        latencies.append(time.perf_counter() - t0)
    return n / (time.perf_counter() - started), _quantile(latencies, 0.99)


def _paced(stack: ListStack, list_id: str, receiver: WebhookReceiver, *,
           start_index: int) -> list[float]:
    """Delays of PACED_SECONDS x PACED_RATE events sent at a steady PACED_RATE a second."""
    before = len(receiver.received)
    sent = 0
    begun = time.time()
    for second in range(PACED_SECONDS):
        leads = [{"linkedin_url": f"https://www.linkedin.com/in/paced-{start_index + sent + i}"}
                 for i in range(PACED_RATE)]
        stack.session.post(f"{stack.url}/lists/{list_id}/leads/batch", json={"leads": leads},
                           timeout=60).raise_for_status()
        sent += PACED_RATE
        time.sleep(max(0.0, begun + second + 1 - time.time()))
    deadline = time.time() + 300
    while len(receiver.received) - before < sent and time.time() < deadline:
        time.sleep(0.2)
    delays = []
    for item in list(receiver.received)[before:]:
        event = json.loads(item.body)
        created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
        delays.append(item.at - created.timestamp())
    return delays


def run(deliveries: int = 10_000, *, progress: Callable[[str], None] = print) -> list[Row]:
    receiver = WebhookReceiver(Behaviour(light=True))
    receiver.start()
    stack = ListStack("webhooks-stack.log", extra_env={
        "LEADPIPE_RATE_LIMIT_PER_MINUTE": "0", "LEADPIPE_PUMP_CONCURRENCY": "4",
        "LEADPIPE_MAX_BATCH_LEADS": str(BATCH)})
    try:
        api = stack.session
        hook = api.post(f"{stack.url}/webhooks", json={
            "url": receiver.url + "/bench", "events": ["lead.created"]}, timeout=30)
        hook.raise_for_status()
        # LinkedIn identities, no emails: no verification competes with the deliveries
        # for the embedded AWS (and no lead.verified: one event per lead).
        lst = api.post(f"{stack.url}/lists", json={"name": "webhook bench",
                                                   "identity": "linkedin_url"}, timeout=30)
        lst.raise_for_status()
        list_id = lst.json()["id"]
        started = time.time()
        for start in range(0, deliveries, BATCH):
            leads = [{"linkedin_url": f"https://www.linkedin.com/in/person-{i}",
                      "first_name": "Ada"}
                     for i in range(start, min(deliveries, start + BATCH))]
            response = api.post(f"{stack.url}/lists/{list_id}/leads/batch",
                                json={"leads": leads}, timeout=60)
            response.raise_for_status()
        progress(f"{deliveries:,} leads added in {time.time() - started:.1f} s")
        deadline = time.time() + max(600.0, deliveries / 10)
        while len(receiver.received) < deliveries and time.time() < deadline:
            time.sleep(0.5)
        got = list(receiver.received)
        if not got:
            return [("webhook deliveries", "none arrived", "", "see .local/bench/"
                     "webhooks-stack.log")]
        delays, first_event = [], float("inf")
        events = set()
        for item in got:
            event = json.loads(item.body)
            events.add(event["id"])
            created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
            first_event = min(first_event, created.timestamp())
            delays.append(item.at - created.timestamp())
        span = max(i.at for i in got) - first_event
        rate = len(got) / span
        progress(f"{len(got):,} deliveries ({len(events):,} distinct events) in {span:.1f} s")
        paced = _paced(stack, list_id, receiver, start_index=deliveries)
        progress(f"paced: {len(paced):,} deliveries at {PACED_RATE} events/s")
        base_rate, base_p99 = _baseline(receiver.url + "/baseline", deliveries, got[0].body)
        return [
            (f"webhook deliveries ({len(got):,} of {deliveries:,}, local stack)",
             f"{rate:,.0f} deliveries/s", f"bare POSTs, one client: {base_rate:,.0f}/s",
             f"{rate / base_rate:.2f}x"),
            ("webhook delay, event to delivery", f"p99 {_quantile(delays, 0.99):.2f} s "
             f"(p50 {statistics.median(delays):.2f} s)",
             f"bare POST p99 {base_p99 * 1000:.1f} ms",
             "the burst: events arrive faster than they are delivered, so this is "
             "mostly waiting in the queue"),
            (f"webhook delay at {PACED_RATE} events/s ({len(paced)} events, no backlog)",
             f"p99 {_quantile(paced, 0.99):.2f} s (p50 {statistics.median(paced):.2f} s)"
             if paced else "none arrived",
             f"bare POST p99 {base_p99 * 1000:.1f} ms",
             "emit → SQS → pump poll → worker → POST; the pump long-polls each queue"),
        ]
    finally:
        stack.stop()
        receiver.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe webhook fan-out benchmark")
    parser.add_argument("--deliveries", type=int, default=10_000)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.deliveries)
    print(f"\nmake bench (webhooks), {time.strftime('%Y-%m-%d')}, "
          f"{time.perf_counter() - started:.0f} s in all\n\n{table(rows)}\n")


if __name__ == "__main__":
    main()

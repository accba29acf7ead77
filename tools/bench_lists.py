"""List figures (issue 12): filters, search and stats of a big list through the local API.

A fresh local stack (tools/localstack.py on free ports) gets one list whose
leads are written straight into its embedded AWS through the real import
adapter (`ImportLeadWrites.save_leads`, 1,000 leads a call: identity claims,
lead items with their GSI attributes, tag and word postings) and the real
tally writes (`tally_updates` of a `ShardTally`, one transaction a batch, as
an import chunk's exactly-once counting does). The list marks two custom
fields filterable first (so their postings are written with the leads). The
leads are shaped so that one status matches 1%, a company ("Zephyrine Labs")
0.1%, each custom-field filter 1%, and tags and email statuses vary.

Then every figure is measured through the local HTTP API (auth, rate
counter, list look-up, the route), median of 20, beside the baseline from
the same run: a bare DynamoDB Query of one page (50 leads of one shard,
boto3 straight to the embedded AWS). Items read per item returned come from
the same LeadSearch run in this process against the same embedded AWS, its
index client counting what DynamoDB returned (a botocore hook); the API
process does exactly these reads, plus the token, rate-counter and list items.

    python -m tools.bench_lists [--leads N]      (make bench calls run())
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".local" / "bench"
TOKEN = "lp_benchlists_" + "c" * 26
Row = tuple[str, str, str, str]

BATCH = 1000  # leads a save_leads call (an import chunk's size)
REPEATS = 20
PAGE = 50
RARE_STATUS = "replied"  # 1% of leads
RARE_COMPANY = "Zephyrine Labs"  # 0.1% of leads
COMPANY_QUERY = "zephyr"
TAG = "vip"  # 5% of leads
# Filterable custom fields (PATCH /lists/{id} before the leads are written).
FILTERABLE = ({"key": "tier", "type": "text"}, {"key": "company_size", "type": "number"})
RARE_TIER = "gold"  # cf.tier=gold: 1% of leads
SIZE_FROM = 990  # cf.company_size.gte=990: 1% of leads (company_size = i % 1000)
SEARCH_TARGET_MS = 300.0
RATIO_TARGET = 3.0

_FIRST = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Edsger", "Barbara", "Ken", "Radia",
          "Dennis", "Frances", "John", "Hedy", "Tim", "Katherine", "Niklaus")
_LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Dijkstra", "Liskov",
         "Thompson", "Perlman", "Ritchie", "Allen", "Backus", "Lamarr", "Berners", "Johnson")
_TITLES = ("Head of Sales", "CTO", "Marketing Manager", "Founder", "Engineer", "VP Growth")
_CITIES = ("London", "Paris", "Berlin", "New York", "Austin", "Lisbon", "Madrid", "Oslo")
_EMAIL_STATUSES = ("valid",) * 6 + ("risky", "invalid", "unknown", "pending")


@dataclass(frozen=True)
class LeadShape:
    """What lead number `i` of the bench list looks like (pure, deterministic)."""

    status: str
    email_status: str
    company: str
    tags: tuple[str, ...]
    tier: str
    company_size: int


def lead_shape(i: int) -> LeadShape:
    """Status `replied` on 1% of leads, company RARE_COMPANY on 0.1%, tag `vip` on 5%,
    custom field tier `gold` on 1%, company_size >= 990 on 1%."""
    if i % 100 == 7:
        status = RARE_STATUS
    elif i % 100 < 20:
        status = "contacted"
    elif i % 100 < 25:
        status = "qualified"
    else:
        status = "new"
    company = RARE_COMPANY if i % 1000 == 500 else f"Acme {i % 5000}"
    tags = tuple(t for t, hit in ((TAG, i % 20 == 3), ("webinar", i % 5 == 1),
                                  ("q4-2026", i % 3 == 0)) if hit)
    tier = RARE_TIER if i % 100 == 42 else ("silver" if i % 10 == 1 else "bronze")
    return LeadShape(status, _EMAIL_STATUSES[(i * 7) % len(_EMAIL_STATUSES)], company, tags,
                     tier, (i * 7919) % 1000)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def verdict(measured_ms: float, baseline_ms: float, *, absolute_ms: float | None = None) -> str:
    """'2.1x the bare page; target <= 3x: yes' (and the absolute target when there is one)."""
    ratio = measured_ms / baseline_ms if baseline_ms else float("inf")
    met = ratio <= RATIO_TARGET
    text = f"{ratio:.1f}x the bare page; target <= {RATIO_TARGET:g}x"
    if absolute_ms is not None:
        met = met and measured_ms <= absolute_ms
        text += f" and <= {absolute_ms:g} ms"
    return f"{text}: {'yes' if met else 'NO'}"


# --- the stack ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ListStack:
    """tools.localstack on free ports (no demo import); its embedded AWS's pid for RSS."""

    def __init__(self, log_name: str = "lists-stack.log",
                 extra_env: dict[str, str] | None = None) -> None:
        self.api_port, self.aws_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self._aws_pid: int | None = None
        self.aws_url = f"http://127.0.0.1:{self.aws_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(LEADPIPE_PORT=str(self.api_port), LEADPIPE_AWS_PORT=str(self.aws_port),
                   LEADPIPE_DNS_PORT=str(_free_port()),
                   LEADPIPE_HUBSPOT_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SALESFORCE_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SHEETS_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_TOKEN=TOKEN, LEADPIPE_DEMO="0",
                   LEADPIPE_MAX_UPLOAD_BYTES=str(500 * 1024 * 1024))
        env.update(extra_env or {})
        WORK.mkdir(parents=True, exist_ok=True)
        self.log = (WORK / log_name).open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.localstack"], cwd=ROOT,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"local stack did not start; see .local/bench/{log_name}")

    def aws_pid(self) -> int | None:
        """The embedded AWS child of our stack (found by parent pid and command line)."""
        if self._aws_pid is not None and Path(f"/proc/{self._aws_pid}").exists():
            return self._aws_pid
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid and b"tools.embedded_aws" in cmdline:
                self._aws_pid = int(entry.name)
                return self._aws_pid
        return None

    def aws_rss_mb(self) -> float:
        pid = self.aws_pid()
        if pid is None:
            return 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.url + path, params=params, timeout=120)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _point_at(aws_url: str) -> None:
    """This process's settings and boto3 clients go to the stack's embedded AWS."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(AWS_ENDPOINT_URL=aws_url, AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",  # noqa: S106
                      LEADPIPE_STAGE="local", POWERTOOLS_METRICS_DISABLED="true")
    from chalicelib.config import get_settings  # noqa: PLC0415

    get_settings.cache_clear()


def _say(line: str) -> None:
    print(line, flush=True)


# --- seeding ----------------------------------------------------------------------------
def _leads(list_id: str, start: int, count: int) -> list[Any]:
    from chalicelib.domain.lead import Lead  # noqa: PLC0415

    leads = []
    for i in range(start, start + count):
        shape = lead_shape(i)
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i // 16) % len(_LAST)]
        leads.append(Lead(
            id=f"ld_bench{i:09d}", list_id=list_id, created_at="2026-11-20T10:00:00.000Z",
            updated_at="2026-11-20T10:00:00.000Z", first_name=first, last_name=last,
            email=f"{first.lower()}.{last.lower()}{i}@example{i % 2000}.com",
            phone=f"+1415555{i % 10000:04d}" if i % 2 == 0 else None,
            company=shape.company, job_title=_TITLES[i % len(_TITLES)],
            location=_CITIES[(i // 7) % len(_CITIES)], tags=shape.tags, status=shape.status,
            email_status=shape.email_status,
            custom_fields={"tier": shape.tier, "company_size": str(shape.company_size)},
            source={"type": "file", "import_id": "im_benchlists", "row": i + 2,
                    "filename": "bench-lists.csv"}))
    return leads


def seed(stack: ListStack, leads: int, *, threads: int = 2, max_seconds: float | None = None,
         max_rss_mb: float | None = None,
         progress: Callable[[str], None] | None = None) -> tuple[str, int, float]:
    """A list of up to `leads` leads written as an import writes them, stopping early
    (on a batch boundary) past `max_seconds` or once the embedded AWS's RSS passes
    `max_rss_mb`; (list id, leads written, seconds)."""
    from chalicelib.adapters.dynamo_import_leads import ImportLeadWrites  # noqa: PLC0415
    from chalicelib.adapters.dynamo_lead_index import tally_updates  # noqa: PLC0415
    from chalicelib.bootstrap import services  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415
    from chalicelib.domain.ids import shard_of  # noqa: PLC0415
    from chalicelib.domain.lead_index import ShardTally  # noqa: PLC0415

    created = stack.session.post(stack.url + "/lists", json={"name": "bench lists"}, timeout=30)
    created.raise_for_status()
    list_id = created.json()["id"]
    marked = stack.session.patch(f"{stack.url}/lists/{list_id}", timeout=30,
                                 json={"filterable_fields": list(FILTERABLE)})
    marked.raise_for_status()
    for _ in range(600):  # the (empty) list's fields are marked ready by a background job
        fields = stack.get(f"/lists/{list_id}")["filterable_fields"]
        if all(f["status"] == "ready" for f in fields):
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"filterable fields never became ready: {fields}")
    lst = services().lists.get("default", list_id)
    table = get_settings().table_name
    started = time.perf_counter()

    def write(first: int) -> int:
        writer = ImportLeadWrites()
        batch = _leads(lst.id, first, min(BATCH, leads - first))
        outcomes = writer.save_leads(lst, batch)
        tally = ShardTally.empty()
        for lead, outcome in zip(batch, outcomes, strict=True):
            if outcome.new:
                tally.add(shard_of(lead.id, lst.shards), None, lead)
        updates = tally_updates(table, lst.id, tally)
        if updates:
            writer.client.transact_write_items(TransactItems=updates)
        return sum(o.new for o in outcomes)

    written = 0
    starts = list(range(0, leads, BATCH))
    with ThreadPoolExecutor(threads) as pool:
        # A few batches at a time, so a deadline leaves the first `written` leads exactly.
        for group in range(0, len(starts), 4 * threads):
            for n in pool.map(write, starts[group:group + 4 * threads]):
                written += n
                if written % 50_000 < BATCH:
                    elapsed = time.perf_counter() - started
                    (progress or _say)(f"  seeded {written:,} leads in {elapsed:.0f} s "
                             f"({written / elapsed:,.0f} leads/s); embedded AWS RSS "
                             f"{stack.aws_rss_mb():,.0f} MB")
            if max_seconds is not None and time.perf_counter() - started > max_seconds:
                break
            if max_rss_mb is not None and stack.aws_rss_mb() > max_rss_mb:
                break
    if written != min(leads, len(starts[:group + 4 * threads]) * BATCH):
        raise SystemExit(f"seeded {written:,} leads: some were not new")
    return lst.id, written, time.perf_counter() - started


# --- measuring --------------------------------------------------------------------------
def timed(fn: Callable[[], Any], repeats: int = REPEATS, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def bare_page(list_id: str) -> Callable[[], Any]:
    from chalicelib.adapters.dynamo_models import shard_pk  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415

    client = boto3.client("dynamodb")
    table = get_settings().table_name

    def query() -> Any:
        page = client.query(TableName=table, Limit=PAGE,
                            KeyConditionExpression="pk = :pk AND begins_with(sk, :l)",
                            ExpressionAttributeValues={":pk": {"S": shard_pk(list_id, 0)},
                                                       ":l": {"S": "L#"}})
        assert len(page["Items"]) == PAGE, "the bare page is not full"
        return page
    return query


def bare_get(list_id: str) -> Callable[[], Any]:
    """One GetItem (a shard counter): the embedded AWS's cost of a request, for reading ratios."""
    from chalicelib.adapters.dynamo_models import COUNTER_SK, shard_pk  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415

    client = boto3.client("dynamodb")
    table = get_settings().table_name
    key = {"pk": {"S": shard_pk(list_id, 0)}, "sk": {"S": COUNTER_SK}}
    return lambda: client.get_item(TableName=table, Key=key)


class ReadMeter:
    """Items DynamoDB returned to one client, by operation (a botocore after-call hook)."""

    def __init__(self, client: Any) -> None:
        self.items: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        client.meta.events.register("after-call.dynamodb", self._count)

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        self.items[model.name] += items_in(parsed)

    def reset(self) -> None:
        self.items.clear()
        self.requests.clear()


def items_in(parsed: dict[str, Any]) -> int:
    """Items in one parsed DynamoDB response (Query/Scan Items, BatchGet Responses, GetItem)."""
    if "Items" in parsed:
        return len(parsed["Items"])
    if "Responses" in parsed:
        return sum(len(items) for items in parsed["Responses"].values())
    return 1 if "Item" in parsed else 0


def items_read(list_id: str) -> Callable[[dict[str, str], bool], tuple[int, int, str]]:
    """A function running a request's LeadSearch here: (items read, items returned, detail)."""
    from chalicelib.adapters.dynamo_lead_queries import DynamoLeadIndex  # noqa: PLC0415
    from chalicelib.adapters.dynamo_repository import DynamoRepository  # noqa: PLC0415
    from chalicelib.bootstrap import services  # noqa: PLC0415
    from chalicelib.domain.lead_filter import LeadFilter  # noqa: PLC0415
    from chalicelib.services.lead_search import LeadSearch  # noqa: PLC0415

    lst = services().lists.get("default", list_id)
    index, repo = DynamoLeadIndex(), DynamoRepository()
    index._client = repo._client = boto3.client("dynamodb")
    meter = ReadMeter(index.client)
    search = LeadSearch(repo, index)

    def run(params: dict[str, str], count: bool) -> tuple[int, int, str]:
        meter.reset()
        items, _ = search.page(lst, LeadFilter.parse(params), PAGE, None)
        if count:
            search.count(lst, LeadFilter.parse(params))
        detail = ", ".join(f"{op} {meter.requests[op]}x/{meter.items[op]} items"
                           for op in sorted(meter.requests))
        return sum(meter.items.values()), len(items), detail
    return run


def measure(stack: ListStack, list_id: str, leads: int) -> list[Row]:
    rows: list[Row] = []
    bare = timed(bare_page(list_id))
    bare_ms = median_ms(bare)
    rows.append(("bare Query of one page (baseline)", f"{bare_ms:.1f} ms",
                 f"{PAGE} leads of one shard, boto3 straight to the embedded AWS, median of "
                 f"{REPEATS}", "the baseline of every row below"))
    floor_ms = median_ms(timed(bare_get(list_id)))
    rows.append(("bare GetItem of one item (for reading the ratios)", f"{floor_ms:.1f} ms",
                 f"one shard counter, median of {REPEATS}",
                 f"the bare page costs {bare_ms / floor_ms:.1f}x a request to the embedded AWS"))
    print(rows[-2], rows[-1], flush=True)
    reads = items_read(list_id)
    path = f"/lists/{list_id}/leads"
    status = {"status": RARE_STATUS}
    figures: list[tuple[str, dict[str, str], bool, float | None]] = [
        (f"status filter matching 1% (status={RARE_STATUS}), first page of {PAGE}",
         status, False, None),
        (f"search q={COMPANY_QUERY} (company \"{RARE_COMPANY}\", 0.1%), first page",
         {"q": COMPANY_QUERY}, False, SEARCH_TARGET_MS),
        (f"tag filter (tag={TAG}, 5%), first page of {PAGE}", {"tag": TAG}, False, None),
        (f"custom field filter cf.tier={RARE_TIER} (1%), first page of {PAGE}",
         {"cf.tier": RARE_TIER}, False, None),
        (f"custom field range cf.company_size.gte={SIZE_FROM} (1%), first page of {PAGE}",
         {"cf.company_size.gte": str(SIZE_FROM)}, False, None),
        (f"status filter matching 1% with count=true, first page of {PAGE}",
         status, True, None),
    ]
    for label, params, count, absolute in figures:
        expected = _expected(params, leads)
        query = {**params, "limit": str(PAGE), **({"count": "true"} if count else {})}
        body = stack.get(path, **query)
        got = len(body["items"])
        if got != min(PAGE, expected) or (count and body.get("count") != expected):
            raise SystemExit(f"{label}: {got} items, count {body.get('count')}, "
                             f"expected {min(PAGE, expected)} of {expected}")
        ms = median_ms(timed(functools.partial(stack.get, path, **query)))
        read, returned, detail = reads(params, count)
        note = verdict(ms, bare_ms, absolute_ms=absolute)
        if absolute is None and not count:
            note = f"{ms / bare_ms:.1f}x the bare page (no target)"
        elif count:
            note = f"{ms / bare_ms:.1f}x the bare page (no target); count {body['count']:,}"
        rows.append((f"{label} (API, median of {REPEATS})", f"{ms:.1f} ms", f"{bare_ms:.1f} ms",
                     f"{note}; {read / max(returned, 1):.2f} items read per item returned "
                     f"({read} for {returned}: {detail})"))
        print(rows[-1], flush=True)
    stats = stack.get(f"/lists/{list_id}/stats")
    if stats["leads"] != leads or stats["by_status"][RARE_STATUS] != _expected(status, leads):
        raise SystemExit(f"stats disagree with the seeded list: {stats}")
    ms = median_ms(timed(lambda: stack.get(f"/lists/{list_id}/stats")))
    rows.append((f"GET /lists/{{id}}/stats (API, median of {REPEATS})", f"{ms:.1f} ms",
                 f"{bare_ms:.1f} ms", f"{verdict(ms, bare_ms)}; leads {stats['leads']:,}, "
                 f"{stats['distinct_tags']} tags"))
    print(rows[-1], flush=True)
    return rows


def _expected(params: dict[str, str], leads: int) -> int:
    """How many of the seeded leads a bench filter matches (from lead_shape)."""
    shapes: Iterator[LeadShape] = (lead_shape(i) for i in range(leads))
    if "status" in params:
        return sum(s.status == params["status"] for s in shapes)
    if "tag" in params:
        return sum(params["tag"] in s.tags for s in shapes)
    if "cf.tier" in params:
        return sum(s.tier == params["cf.tier"] for s in shapes)
    if "cf.company_size.gte" in params:
        return sum(s.company_size >= int(params["cf.company_size.gte"]) for s in shapes)
    return sum(s.company == RARE_COMPANY for s in shapes)


def run(leads: int = 100_000, *, threads: int = 2, max_seconds: float | None = None,
        max_rss_mb: float | None = None) -> list[Row]:
    stack = ListStack()
    try:
        _point_at(stack.aws_url)
        list_id, written, seconds = seed(stack, leads, threads=threads,
                                     max_seconds=max_seconds, max_rss_mb=max_rss_mb)
        short = "" if written == leads else f" (seeding stopped at its budget: {leads:,} asked)"
        leads = written
        rss = stack.aws_rss_mb()
        rows: list[Row] = [(
            f"lists: seeding {leads:,} leads{short} (save_leads + tallies, straight into the "
            "embedded AWS)", f"{seconds:.0f} s ({leads / seconds:,.0f} leads/s)",
            f"embedded AWS RSS {rss:,.0f} MB", f"bench process peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")]
        print(rows[-1], flush=True)
        return rows + measure(stack, list_id, leads)
    finally:
        stack.stop()


def table(rows: list[Row]) -> str:
    lines = ["| figure | measured | baseline | ratio / target met? |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe list benchmark (filters, search, stats)")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2, help="seeding threads")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="stop seeding after this long and measure the list so far")
    parser.add_argument("--max-rss-mb", type=float, default=None,
                        help="stop seeding once the embedded AWS's RSS passes this")
    parser.add_argument("--write-doc", action="store_true",
                        help="also write the table into docs/bench-lists.md")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.leads, threads=args.threads, max_seconds=args.max_seconds,
               max_rss_mb=args.max_rss_mb)
    text = (f"make bench (lists), {time.strftime('%Y-%m-%d')}, "
            f"{time.perf_counter() - started:.0f} s in all\n\n{table(rows)}\n")
    print()
    print(text)
    (WORK / f"bench-lists-{args.leads}.md").write_text(text)
    if args.write_doc:
        (ROOT / "docs" / "bench-lists.md").write_text(f"# List figures (issue 12)\n\n{text}")


if __name__ == "__main__":
    main()

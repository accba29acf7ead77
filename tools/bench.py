"""`make bench`: import and verification figures, each beside its baseline from the same run.

1. Row pipeline, one core: our read + dedupe + normalise + validate per row,
   beside bare csv.reader and the naive DictReader + phonenumbers +
   email-validator loop, on the same generated messy file.
2. End to end through the local stack (upload, analyse, split, fan out,
   validate, save), beside a bare BatchWriteItem of as many items into the
   same embedded AWS; then a re-import. DynamoDB requests and write units per
   1,000 rows are counted at the worker's client.
3. Splitter memory: peak RSS while splitting 50 MB and 200 MB CSVs.
   Then many leads a request (tools/bench_requests.py): a batch of 1,000
   new leads and of 1,000 duplicates, and a bulk action on 1,000 ids, beside
   the same done one lead a request.
4. Email verification (tools/bench_verification.py): 100k emails over 2,000
   domains against a loopback DNS server adding 20 ms, beside the naive
   per-email validate_email(check_deliverability=True); and, in 2., the time
   until every lead of the first import has its verdict.
5. HubSpot syncs (tools/bench_sync.py, issue 11): a first sync of 50,000
   contacts from a seeded loopback HubSpot sandbox (its requests counted)
   beside a CSV import of the same rows, then an incremental run after 300
   contacts changed; in the same stack, started reading that sandbox.
6. Webhook fan-out (tools/bench_webhooks.py, issue 14): 10,000 deliveries to a
   loopback receiver through the local stack's queue and worker, deliveries/s
   and p99 delay from event to delivery, beside bare POSTs from one client.
7. Events in (tools/bench_events.py, issue 14): 10,000 outreach events through
   POST /events (500 a request), events/s and DynamoDB requests and write units
   per event at the API's client, then the same events again (duplicates),
   beside single-lead PATCHes of the same status changes.

Machines here are noisy: read the ratios. Figures print as a table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import phonenumbers
import requests
from email_validator import EmailNotValidError, validate_email

from tools.sample_data import HEADER, write_csv

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".local" / "bench"
TOKEN = "lp_bench_" + "b" * 30
# Issue 12, item 7: the same figure measured on the code before the embedded-AWS
# speed patches (tools/moto_speed.py etc.), for the before/after line.
ITEM7_BEFORE = "10.79x (641.4 s / 59.5 s), 2026-11-26, commit acc58b5"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- 1. row pipeline ---------------------------------------------------------------
def bare_csv(path: Path) -> int:
    with path.open(encoding="cp1252", newline="") as handle:
        return sum(1 for _ in csv.reader(handle, delimiter=";")) - 1


def naive(path: Path) -> int:
    n = 0
    with path.open(encoding="cp1252", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            n += 1
            if row["Téléphone"]:
                try:
                    number = phonenumbers.parse(row["Téléphone"], "US")
                    if phonenumbers.is_valid_number(number):
                        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                except phonenumbers.NumberParseException:
                    pass
            with contextlib.suppress(EmailNotValidError):
                validate_email(row["E-mail"], check_deliverability=False)
    return n


def ours(path: Path) -> int:
    """What the splitter and the chunk workers do to each row, minus AWS I/O."""
    from chalicelib.domain.column_mapping import (  # noqa: PLC0415
        auto_map,
        mapping_dict,
        unique_headers,
    )
    from chalicelib.domain.file_format import FileFormat  # noqa: PLC0415
    from chalicelib.domain.imports import convert_row, mapped_columns, split_chunks  # noqa: PLC0415
    from chalicelib.domain.row_reader import iter_rows, split_header  # noqa: PLC0415

    n = 0
    with path.open("rb") as stream:
        raw, rows = split_header(iter_rows(stream, FileFormat("csv", "cp1252", ";")))
        headers = unique_headers(raw)
        columns = mapped_columns(headers, mapping_dict(auto_map(headers)))
        identity_index = next(i for i, t in columns if t == "email")
        for chunk in split_chunks(rows, width=len(headers), identity_index=identity_index,
                                  identity="email", region="US", chunk_rows=1000):
            for number, cells, earlier in chunk:
                n += 1
                if earlier is None:
                    convert_row(number, cells, columns, len(headers), "email", "US")
    return n


def timed(fn: Any, path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    rows = fn(path)
    return rows, time.perf_counter() - started


# --- 2. end to end ------------------------------------------------------------------
class Stack:
    def __init__(self, stats: Path, extra_env: dict[str, str] | None = None) -> None:
        self.api_port, self.aws_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(LEADPIPE_PORT=str(self.api_port), LEADPIPE_AWS_PORT=str(self.aws_port),
                   LEADPIPE_DNS_PORT=str(_free_port()),
                   LEADPIPE_HUBSPOT_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SALESFORCE_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SHEETS_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_TOKEN=TOKEN, LEADPIPE_MAX_UPLOAD_BYTES=str(500 * 1024 * 1024),
                   LEADPIPE_STATS_FILE=str(stats), LEADPIPE_DEMO="0",
                   # The one-request-a-lead baselines would trip the workspace limit.
                   LEADPIPE_RATE_LIMIT_PER_MINUTE="0")
        env.update(extra_env or {})  # e.g. a provider URL: set ones win over the sandboxes'
        self.log = (WORK / "stack.log").open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.localstack"], cwd=ROOT,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.headers = {"Authorization": f"Bearer {TOKEN}"}
        for _ in range(200):
            try:
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise SystemExit("local stack did not start; see .local/bench/stack.log")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        response = self.request(method, path, **kw)
        response.raise_for_status()
        return response.json()

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers, timeout=120, **kw)

    def wait_verified(self, import_id: str) -> dict[str, Any]:
        """Poll until no saved lead of the import is pending verification."""
        while True:
            job: dict[str, Any] = self.call("GET", f"/imports/{import_id}")
            if job["verification"]["pending"] == 0:
                return job
            time.sleep(0.5)

    def run_import(self, list_id: str, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        job = self.call("POST", f"/lists/{list_id}/imports", json={"filename": path.name})
        with path.open("rb") as handle:
            requests.post(job["upload"]["url"], data=job["upload"]["fields"],
                          files={"file": (path.name, handle)}, timeout=600).raise_for_status()
        job = self.wait(job["id"], {"ready", "failed"})
        analysed = time.perf_counter()
        self.call("POST", f"/imports/{job['id']}/start", json={})
        job = self.wait(job["id"], {"completed", "completed_with_errors", "failed"})
        done = time.perf_counter()
        job["_upload_analyse_s"] = analysed - started
        job["_run_s"] = done - analysed
        job["_total_s"] = done - started
        return job

    def wait(self, import_id: str, statuses: set[str]) -> dict[str, Any]:
        while True:
            job: dict[str, Any] = self.call("GET", f"/imports/{import_id}")
            if job["status"] in statuses:
                return job
            time.sleep(0.5)


def file_domains(path: Path) -> set[str]:
    """Distinct domains of the valid emails in a sample file (what DNS must be asked)."""
    from chalicelib.domain.deliverability import lookup_domain  # noqa: PLC0415

    with path.open(encoding="cp1252", newline="") as handle:
        return {d for row in csv.DictReader(handle, delimiter=";")
                if (d := lookup_domain(row["E-mail"] or ""))}


def floor(stack: Stack, items: int) -> float:
    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{stack.aws_port}",
                          region_name="us-east-1", aws_access_key_id="t",
                          aws_secret_access_key="t")  # noqa: S106 (the embedded AWS)
    started = time.perf_counter()
    for start in range(0, items, 25):
        client.batch_write_item(RequestItems={"leadpipe-local-data": [
            {"PutRequest": {"Item": {
                "pk": {"S": f"FLOOR#{i % 16}"}, "sk": {"S": f"L#{i:08d}"},
                "email": {"S": f"person{i}@example.com"}, "first_name": {"S": "Ada"},
                "last_name": {"S": "Lovelace"}, "phone": {"S": "+14155550134"},
                "company": {"S": "Acme Corp"}, "status": {"S": "new"}}}}
            for i in range(start, min(items, start + 25))]})
    return time.perf_counter() - started


def meter(stats: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(stats.read_text())
        return data
    except (OSError, ValueError):
        return {"requests": {}, "seconds": {}, "write_units": 0.0}


def time_by_operation(before: dict[str, Any], after: dict[str, Any]) -> str:
    spent = {op: after.get("seconds", {}).get(op, 0.0) - before.get("seconds", {}).get(op, 0.0)
             for op in after.get("seconds", {})}
    return ", ".join(f"{op} {sec:.0f} s" for op, sec in
                     sorted(spent.items(), key=lambda kv: -kv[1]) if sec >= 0.5)


def per_thousand(before: dict[str, Any], after: dict[str, Any], rows: int) -> tuple[float, float]:
    req = sum(after["requests"].values()) - sum(before["requests"].values())
    wcu = after["write_units"] - before["write_units"]
    return req * 1000 / rows, wcu * 1000 / rows


# --- 3. splitter memory ---------------------------------------------------------------
_SPLIT_CHILD = """
import sys
from chalicelib.domain.file_format import FileFormat
from chalicelib.domain.imports import split_chunks
from chalicelib.domain.row_reader import iter_rows, split_header
import json
rows = 0
with open(sys.argv[1], "rb") as stream:
    _, data = split_header(iter_rows(stream, FileFormat("csv", "cp1252", ";")))
    for chunk in split_chunks(data, width=10, identity_index=2, identity="email",
                              region="US", chunk_rows=1000):
        json.dumps(chunk)  # what the splitter serialises for each chunk object
        rows += len(chunk)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(rows, hwm)
"""


def split_memory(path: Path) -> tuple[int, float]:
    out = subprocess.run([sys.executable, "-c", _SPLIT_CHILD, str(path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]) / 1024


def make_file(name: str, target_bytes: int) -> Path:
    path = WORK / name
    if not path.exists():
        rows = max(1000, target_bytes // 141)  # ~141 bytes a generated row
        write_csv(path, rows)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe import benchmarks")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-verification", action="store_true")
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--sync-contacts", type=int, default=50_000)
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--export-leads", type=int, default=1_000_000)
    parser.add_argument("--skip-lists", action="store_true")
    parser.add_argument("--list-leads", type=int, default=100_000)
    parser.add_argument("--skip-webapp", action="store_true")
    parser.add_argument("--webapp-leads", type=int, default=100_000)
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument("--webhook-deliveries", type=int, default=10_000)
    parser.add_argument("--skip-events", action="store_true")
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, str, str, str]] = []

    sample = WORK / f"messy-{args.rows}.csv"
    write_csv(sample, args.rows)
    print(f"generated {sample.name}: {args.rows} rows, {sample.stat().st_size:,} bytes, "
          f"columns {';'.join(HEADER)}", flush=True)

    if not args.skip_verification:
        from tools.bench_verification import run as verification_rows  # noqa: PLC0415

        results += verification_rows()

    n, bare_s = timed(bare_csv, sample)
    _, naive_s = timed(naive, sample)
    _, ours_s = timed(ours, sample)
    results += [
        ("row pipeline (one core)", f"{n / ours_s:,.0f} rows/s",
         f"naive {n / naive_s:,.0f} rows/s; bare csv.reader {n / bare_s:,.0f} rows/s",
         f"{naive_s / ours_s:.2f}x naive (target >= 1.5x)")]
    print(results[-1], flush=True)

    if not args.skip_e2e:
        stats = WORK / "worker-stats.json"
        stats.unlink(missing_ok=True)
        from tools import bench_sync  # noqa: PLC0415

        # The stack's children read LEADPIPE_HUBSPOT_API_URL at start: the
        # seeded HubSpot sandbox of the sync figures must be serving first.
        hubspot = None if args.skip_sync else bench_sync.start_hubspot(args.sync_contacts)
        stack = Stack(stats, extra_env=bench_sync.hubspot_env(hubspot) if hubspot else None)
        try:
            floor_s = floor(stack, args.rows)
            results.append(("floor: bare BatchWriteItem", f"{floor_s:.1f} s",
                            f"{args.rows:,} items into the same embedded AWS",
                            f"{args.rows / floor_s:,.0f} items/s"))
            lst = stack.call("POST", "/lists", json={"name": "bench"})
            before = meter(stats)
            first = stack.run_import(lst["id"], sample)
            verified_at = time.perf_counter()
            first = {**first, **stack.wait_verified(first["id"])}
            verify_s = time.perf_counter() - verified_at
            time.sleep(1.5)
            middle = meter(stats)
            again = stack.run_import(lst["id"], sample)
            time.sleep(1.5)
            after = meter(stats)
            from tools.bench_requests import run as request_rows  # noqa: PLC0415

            many_a_request = request_rows(stack)
            syncs = bench_sync.run(stack, hubspot) if hubspot else []
        finally:
            stack.stop()
            if hubspot:
                hubspot.stop()
        dns_stats = json.loads((ROOT / ".local" / "dns-stats.json").read_text())
        domains = file_domains(sample)
        v = first["verification"]
        results.append((
            "end to end: every saved lead verified (make run's DNS server)",
            f"{first['_total_s'] + verify_s:.1f} s from upload ({verify_s:.1f} s after the "
            f"import completed)",
            f"valid {v['valid']}, risky {v['risky']}, invalid {v['invalid']}, unknown "
            f"{v['unknown']}, pending {v['pending']}",
            f"DNS names asked {dns_stats['names']:,} = distinct domains of the file's emails "
            f"{len(domains):,}: {'yes' if dns_stats['names'] == len(domains) else 'NO'}; "
            f"{dns_stats['queries']:,} queries, {dns_stats['asked_twice']} asked twice"))
        print(results[-1], flush=True)
        verified_s = first["_total_s"] + verify_s
        results.append((
            "end to end: upload to every lead imported and verified, over the floor (issue 12)",
            f"{verified_s / floor_s:.2f}x floor ({verified_s:.1f} s / {floor_s:.1f} s)",
            f"before the embedded-AWS patches: {ITEM7_BEFORE}",
            "target <= 4x; docs/local-stack-performance.md"))
        print(results[-1], flush=True)
        for label, job, b, a in (("first import", first, before, middle),
                                 ("re-import (all duplicates)", again, middle, after)):
            req, wcu = per_thousand(b, a, args.rows)
            c = job["counts"]
            results.append((
                f"end to end: {label}", f"{job['_total_s']:.1f} s "
                f"({args.rows / job['_total_s']:,.0f} rows/s)",
                f"upload+analyse {job['_upload_analyse_s']:.1f} s, split+validate+save "
                f"{job['_run_s']:.1f} s; saved {c['saved']}, duplicates {c['duplicates']}, "
                f"invalid {c['invalid']}",
                f"{job['_total_s'] / floor_s:.2f}x floor; {req:.0f} DynamoDB requests and "
                f"{wcu:.0f} WCU per 1,000 rows; worker time in DynamoDB calls: "
                f"{time_by_operation(b, a)}"))
            print(results[-1], flush=True)
        results += many_a_request + syncs

    if not args.skip_memory:
        for name, size in (("split-50mb.csv", 50 * 1024 * 1024),
                           ("split-200mb.csv", 200 * 1024 * 1024)):
            path = make_file(name, size)
            rows, peak = split_memory(path)
            results.append((f"splitter memory, {name}",
                            f"peak RSS {peak:,.0f} MB",
                            f"{path.stat().st_size / 1e6:,.0f} MB, {rows:,} rows",
                            "target <= 150 MB, flat as the file grows"))
            print(results[-1], flush=True)

    if not args.skip_exports:  # issue 12: an export of 1M leads (tools/bench_exports.py)
        from tools.bench_exports import run as export_rows  # noqa: PLC0415

        results += export_rows(args.export_leads)

    if not args.skip_lists:  # issue 12: filters, search, stats (tools/bench_lists.py)
        from tools.bench_lists import run as list_rows  # noqa: PLC0415

        results += list_rows(args.list_leads)

    if not args.skip_webapp:  # issue 13: the web app in Chromium (tools/bench_webapp.py)
        from tools.bench_webapp import run as webapp_rows  # noqa: PLC0415

        results += webapp_rows(args.webapp_leads)

    if not args.skip_webhooks:  # issue 14: webhook fan-out (tools/bench_webhooks.py)
        from tools.bench_webhooks import run as webhook_rows  # noqa: PLC0415

        results += webhook_rows(args.webhook_deliveries)

    if not args.skip_events:  # issue 14: events in (tools/bench_events.py)
        from tools.bench_events import run as event_rows  # noqa: PLC0415

        results += event_rows(args.events)

    print()
    print(f"make bench, {time.strftime('%Y-%m-%d')}")
    print("| figure | measured | beside | ratio / note |")
    print("|---|---|---|---|")
    for row in results:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

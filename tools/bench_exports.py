"""Export figures (issue 12): a 1M-lead list exported as CSV and xlsx through the real job.

The leads are written straight into a fresh embedded AWS (BatchWriteItem of
the items the repository writes: its own model conversion, plus the shard
counters), not imported: the figure is the export's. Each export then runs in
a worker child process playing Lambda (the event pump over the app's jobs
handler, 40 s budget a message) whose peak RSS is its own: flat memory is the
claim. Beside it, in the same run, the baseline: a bare paged Query walk of
the same leads (the reads any export must do). The exported file is
downloaded from its presigned URL and its rows counted.

    python -m tools.bench_exports --leads 1000000      (make bench calls run())
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".local" / "bench"
WORKSPACE = "bench-exports"
Row = tuple[str, str, str, str]


def _env(aws_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=aws_url, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",  # noqa: S106
               LEADPIPE_STAGE="local", POWERTOOLS_METRICS_DISABLED="true")
    return env


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lead_items(list_id: str, shards: int, start: int, count: int,
                workspace: str) -> list[dict[str, Any]]:
    """Leads as the repository stores them (its own model conversion)."""
    # A private helper on purpose: the bench must write exactly the repository's items.
    from chalicelib.adapters.dynamo_lead_items import lead_to_model  # noqa: PLC0415
    from chalicelib.domain.ids import new_id  # noqa: PLC0415
    from chalicelib.domain.lead import Lead  # noqa: PLC0415

    items = []
    for i in range(start, start + count):
        lead = Lead(id=new_id("ld"), list_id=list_id, created_at="2026-11-20T10:00:00.000Z",
                    updated_at="2026-11-20T10:00:00.000Z", first_name=f"Ada{i % 997}",
                    last_name="Lovelace", email=f"person{i}@example{i % 2000}.com",
                    phone=f"+1415555{i % 10000:04d}", company=f"Acme {i % 5000}",
                    job_title="Head of Engines", location="London, UK",
                    notes="Met at the expo" if i % 10 == 0 else None,
                    tags=("vip",) if i % 7 == 0 else (), status="new", email_status="valid",
                    custom_fields={"score": str(i % 100)} if i % 3 == 0 else {})
        item: dict[str, Any] = lead_to_model(lead, shards, workspace).serialize()
        items.append(item)
    return items


def seed(aws_url: str, leads: int) -> tuple[str, float]:
    """A list of `leads` leads written straight into the embedded AWS; (list id, seconds)."""
    os.environ.update(_env(aws_url))
    from chalicelib.adapters.dynamo_models import COUNTER_SK, shard_pk  # noqa: PLC0415
    from chalicelib.bootstrap import services  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415
    from chalicelib.domain.ids import shard_of  # noqa: PLC0415

    get_settings.cache_clear()
    settings = get_settings()
    lst = services().lists.create(WORKSPACE, {"name": "export bench"})
    client = boto3.client("dynamodb")
    counts = [0] * lst.shards
    started = time.perf_counter()

    def write(start: int) -> list[int]:
        items = _lead_items(lst.id, lst.shards, start, min(5000, leads - start),
                            lst.workspace)
        shards = [0] * lst.shards
        for first in range(0, len(items), 25):
            pending: dict[str, Any] = {settings.table_name: [
                {"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending)["UnprocessedItems"]
        for item in items:
            shards[shard_of(item["lead_id"]["S"], lst.shards)] += 1
        return shards

    with ThreadPoolExecutor(4) as pool:
        for shards in pool.map(write, range(0, leads, 5000)):
            counts = [a + b for a, b in zip(counts, shards, strict=True)]
            done = sum(counts)
            if done % 100_000 < 5000:
                print(f"  seeded {done:,} leads", flush=True)
    for shard, n in enumerate(counts):
        client.put_item(TableName=settings.table_name, Item={
            "pk": {"S": shard_pk(lst.id, shard)}, "sk": {"S": COUNTER_SK}, "n": {"N": str(n)}})
    return lst.id, time.perf_counter() - started


def bare_walk(list_id: str, shards: int = 16) -> tuple[int, float]:
    """The baseline: every lead of the list read by paged Query, nothing else."""
    from chalicelib.adapters.dynamo_models import shard_pk  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415

    client = boto3.client("dynamodb")
    started, rows = time.perf_counter(), 0
    for shard in range(shards):
        kwargs: dict[str, Any] = {
            "TableName": get_settings().table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :l)",
            "ExpressionAttributeValues": {":pk": {"S": shard_pk(list_id, shard)},
                                          ":l": {"S": "L#"}}}
        while True:
            page = client.query(**kwargs)
            rows += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return rows, time.perf_counter() - started


def worker(list_id: str, fmt: str) -> None:
    """The child: start the export, pump the jobs queue as Lambda would, print the figures."""
    from app import app  # noqa: PLC0415
    from chalicelib.bootstrap import services  # noqa: PLC0415
    from tools.event_pump import EventPump, quiet_aws_sdk_logs  # noqa: PLC0415

    quiet_aws_sdk_logs()
    pump = EventPump(app, boto3.client("sqs"), wait_seconds=0)
    exports = services().exports
    started = time.perf_counter()
    export = exports.start(WORKSPACE, list_id, {"format": fmt})
    rss_before = peak_rss_mb()
    while export["status"] == "running":
        pump.drain(max_rounds=10_000)
        export = exports.get(WORKSPACE, export["id"])
    seconds = time.perf_counter() - started
    print(json.dumps({"export": export, "seconds": seconds, "rss_before_mb": rss_before,
                      "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM of its memory map).

    Not getrusage's ru_maxrss: Linux keeps that across fork and exec, so a
    child started by a parent holding 200 MB reports the parent's 200 MB
    before doing anything (what earlier runs of this bench printed).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_rows(url: str, fmt: str) -> tuple[int, int]:
    """(data rows, bytes) of the downloaded file, streamed."""
    path = WORK / f"export-bench.{fmt}"
    with requests.get(url, stream=True, timeout=600) as got, path.open("wb") as out:
        got.raise_for_status()
        for chunk in got.iter_content(1024 * 1024):
            out.write(chunk)
    size = path.stat().st_size
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
    else:
        rows = 0
        with zipfile.ZipFile(path) as book:
            for name in book.namelist():
                if name.startswith("xl/worksheets/"):
                    with book.open(name) as sheet:
                        rows -= 1  # the header
                        while chunk := sheet.read(1 << 20):
                            # A row's tag never spans a read: it is cut only at "<row ".
                            rows += chunk.count(b"<row ")
    path.unlink()
    return rows, size


def run(leads: int = 1_000_000, formats: tuple[str, ...] = ("csv", "xlsx")) -> list[Row]:
    WORK.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    aws_url = f"http://127.0.0.1:{port}"
    log = (WORK / "export-moto.log").open("w")
    aws = subprocess.Popen([sys.executable, "-m", "tools.embedded_aws", "--host", "127.0.0.1",
                            "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    results: list[Row] = []
    try:
        for _ in range(100):
            try:
                requests.get(aws_url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        os.environ.update(_env(aws_url))
        from chalicelib.config import get_settings  # noqa: PLC0415
        from tools.provision import provision  # noqa: PLC0415

        get_settings.cache_clear()
        provision(get_settings(), dynamodb_client=boto3.client("dynamodb"),
                  s3_client=boto3.client("s3"), sqs_client=boto3.client("sqs"),
                  kms_client=boto3.client("kms"))
        list_id, seed_s = seed(aws_url, leads)
        print(f"seeded {leads:,} leads in {seed_s:.0f} s", flush=True)
        walked, walk_s = bare_walk(list_id)
        results.append((f"export baseline: bare paged Query walk of {leads:,} leads",
                        f"{walk_s:.1f} s", f"{walked:,} items read",
                        f"{walked / walk_s:,.0f} items/s"))
        print(results[-1], flush=True)
        for fmt in formats:
            done = subprocess.run([sys.executable, "-m", "tools.bench_exports", "--worker",
                                  list_id, "--format", fmt], cwd=ROOT, env=_env(aws_url),
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"export worker failed:\n{done.stderr[-3000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            export, seconds = figures["export"], figures["seconds"]
            rows, size = count_rows(export["download_url"], fmt) \
                if export["status"] == "completed" else (0, 0)
            results.append((
                f"export of {leads:,} leads as {fmt} (job, local stack)",
                f"{seconds:.1f} s ({export['rows'] / seconds:,.0f} rows/s)",
                f"{export['status']}; {rows:,} rows in the file ({'=' if rows == leads else '!='}"
                f" {leads:,}), {size / 1e6:,.0f} MB; worker peak RSS "
                f"{figures['peak_rss_mb']:,.0f} MB ({figures['rss_before_mb']:,.0f} MB before)",
                f"{seconds / walk_s:.1f}x the bare walk; target peak RSS <= 150 MB"))
            print(results[-1], flush=True)
    finally:
        aws.terminate()
        aws.wait(timeout=30)
        log.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe export benchmark")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--format", action="append", choices=("csv", "xlsx"))
    parser.add_argument("--worker", metavar="LIST_ID", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, (args.format or ["csv"])[0])
        return
    rows = run(args.leads, tuple(args.format or ("csv", "xlsx")))
    print("| figure | measured | beside | ratio / note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

"""Done-when check (issue 12): an import with 300k rejected rows gives a downloadable error report.

Against a running local stack (`--url` and `--token`, or LEADPIPE_API_URL /
LEADPIPE_TOKEN) or, by default, one it starts on free ports: a CSV of N rows
(default 300,000) whose emails are all invalid goes into an email-identity
list through the real import API (create with auto_start, presigned POST
upload), the import is waited for, then `GET /imports/{id}/errors` must answer
303 to a presigned URL, whose download must hold the header and one row per
rejected row.

    python -m tools.check_big_report [--rows N] [--url URL --token TOKEN]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import requests

from tools.api_client import LeadpipeApi

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".local" / "bench"
DONE = {"completed", "completed_with_errors", "failed"}


def write_rejected_csv(path: Path, rows: int) -> int:
    """A CSV whose every row is rejected in an email-identity list (the email is invalid)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["email", "first_name", "last_name", "company"])
        for i in range(rows):
            out.writerow([f"not-an-email-{i}", f"Ada{i % 997}", "Lovelace", f"Acme {i % 5000}"])
    return path.stat().st_size


def count_csv_rows(path: Path) -> int:
    """Records in a CSV file, header included (quoted newlines counted as one record)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle))


def check(api: LeadpipeApi, rows: int) -> dict[str, object]:
    WORK.mkdir(parents=True, exist_ok=True)
    source = WORK / f"rejected-{rows}.csv"
    source_bytes = write_rejected_csv(source, rows)
    lst = api.call("POST", "/lists", json={"name": f"big report check {time.time():.0f}",
                                           "identity": "email"})
    started = time.perf_counter()
    job = api.call("POST", f"/lists/{lst['id']}/imports",
                   json={"filename": source.name, "auto_start": True})
    api.upload(job["upload"], source)
    job = api.wait_import(job["id"], DONE, timeout=3600)
    import_s = time.perf_counter() - started
    counts = job["counts"]
    print(f"import {job['id']}: {job['status']} in {import_s:.1f} s; counts {counts}", flush=True)

    asked = time.perf_counter()
    answer = api.session.get(f"{api.url}/imports/{job['id']}/errors", allow_redirects=False,
                             timeout=300)
    errors_s = time.perf_counter() - asked
    location = answer.headers.get("Location", "")
    report = WORK / f"rejected-{rows}-report.csv"
    fetched = time.perf_counter()
    if answer.status_code == 303:
        # A presigned URL: no Authorization header (S3 would refuse a second credential).
        with requests.get(location, stream=True, timeout=600) as got, report.open("wb") as out:
            got.raise_for_status()
            for chunk in got.iter_content(1 << 20):
                out.write(chunk)
    else:
        report.write_bytes(answer.content)
    download_s = time.perf_counter() - fetched
    records = count_csv_rows(report)
    figures: dict[str, object] = {
        "rows": rows, "source_bytes": source_bytes, "status": job["status"],
        "invalid": counts.get("invalid"), "saved": counts.get("saved"),
        "import_s": round(import_s, 1), "errors_status": answer.status_code,
        "errors_s": round(errors_s, 2), "download_s": round(download_s, 2),
        "report_bytes": report.stat().st_size, "report_records": records,
        "presigned": location.split("?", 1)[0] if location else None}
    figures["ok"] = (answer.status_code == 303 and records == rows + 1
                     and counts.get("invalid") == rows)
    source.unlink()
    report.unlink()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--url", default=os.environ.get("LEADPIPE_API_URL"))
    parser.add_argument("--token", default=os.environ.get("LEADPIPE_TOKEN"))
    args = parser.parse_args()
    stack = None
    if not args.url:
        from tools.bench_lists import TOKEN, ListStack  # noqa: PLC0415

        stack = ListStack("report-stack.log")
        args.url, args.token = stack.url, TOKEN
    try:
        figures = check(LeadpipeApi(args.url, args.token), args.rows)
    finally:
        if stack is not None:
            stack.stop()
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    print("OK: a downloadable error report with every rejected row" if figures["ok"]
          else "FAILED", flush=True)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

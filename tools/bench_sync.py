"""HubSpot syncs through the local stack (issue 11's figures).

Issue 11 asks: a first HubSpot sync of 50,000 contacts costs exactly
ceil(50,000 / page size) API requests plus token calls, at a rate within
1.5x of importing the same rows from a CSV file; an incremental run after 300
contacts changed makes at most 2 search requests and processes only those 300.

The stack's own sandboxes (`python -m tools.sandboxes`) hold 200 sample
contacts, so this bench serves a HubSpot sandbox of its own, in this process,
seeded with `--contacts` contacts, and the stack is started pointing at it
(`LEADPIPE_HUBSPOT_API_URL`, which wins over the stack's sandboxes): start it
with `start_hubspot()` before the `Stack`, give the stack `hubspot_env()`, then
`run(stack, sandbox)`. Requests are counted in the sandbox's request log.

1. First sync: POST /lists, /connections (the sandbox's private-app token),
   /lists/{id}/syncs, /syncs/{id}/run, then GET /imports/{run} until it
   finishes; timed from the run request to the finished import. Beside it the
   same rows (the sync's columns and values, the sync's mapping, mode
   overwrite) written to a CSV file and imported into another list, timed
   from the import's creation (upload and analysis included) to finished.
2. Incremental run: 300 contacts changed in the sandbox, the log cleared,
   the sync run again: search requests, rows processed, time.

Each import's leads are verified in the background; the bench waits until
none is pending before the next step, so one step's verification does not
slow the next. `python -m tools.bench_sync [--contacts N]` runs these alone
on a stack of its own.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path
from typing import Any

import requests

from tools.bench import WORK, Stack
from tools.sandboxes.credentials import HUBSPOT_PRIVATE_APP_TOKEN
from tools.sandboxes.hubspot import LIST_MAX, HubSpotSandbox

CONTACTS = 50_000
CHANGED = 300
LIST_PATH = "/crm/v3/objects/contacts"
SEARCH_PATH = LIST_PATH + "/search"
TOKEN_PATH = HubSpotSandbox.oauth_path
LOCATION_PARTS = ("city", "state", "country")  # what a HubSpot run's location column joins
FINISHED = {"completed", "completed_with_errors", "failed"}
VERIFY_WAIT_S = 900.0

Row = tuple[str, str, str, str]


def start_hubspot(contacts: int = CONTACTS) -> HubSpotSandbox:
    """A HubSpot sandbox on a free loopback port, seeded, accepting the private-app token."""
    sandbox = HubSpotSandbox(private_app_tokens=[HUBSPOT_PRIVATE_APP_TOKEN])
    sandbox.seed(contacts)
    sandbox.start()
    return sandbox


def hubspot_env(sandbox: HubSpotSandbox) -> dict[str, str]:
    """What the stack's children need to read HubSpot from `sandbox` (and not its own)."""
    return {"LEADPIPE_HUBSPOT_API_URL": sandbox.url,
            "LEADPIPE_HUBSPOT_AUTHORIZE_URL": f"{sandbox.url}/oauth/authorize"}


def _wait_finished(stack: Stack, import_id: str) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = stack.call("GET", f"/imports/{import_id}")
        if job["status"] in FINISHED:
            return job
        time.sleep(0.25)


def _wait_verified(stack: Stack, import_id: str) -> float:
    """Seconds until no saved lead of the import awaits its verdict (bounded)."""
    started = time.perf_counter()
    while time.perf_counter() - started < VERIFY_WAIT_S:
        job: dict[str, Any] = stack.call("GET", f"/imports/{import_id}")
        if (job.get("verification") or {}).get("pending", 0) == 0:
            break
        time.sleep(0.5)
    return time.perf_counter() - started


def _wait_released(stack: Stack, sync_id: str) -> None:
    """Until the sync's last run has been recorded and its lease freed."""
    for _ in range(240):
        sync: dict[str, Any] = stack.call("GET", f"/syncs/{sync_id}")
        if not sync.get("running_import_id") and (sync.get("last_run") or {}).get(
                "status") in FINISHED:
            return
        time.sleep(0.25)
    raise SystemExit(f"sync {sync_id} still holds its lease; see .local/bench/stack.log")


def _run_sync(stack: Stack, sync_id: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    answer: dict[str, Any] = stack.call("POST", f"/syncs/{sync_id}/run", json={})
    job = _wait_finished(stack, answer["import_id"])
    return job, time.perf_counter() - started


def _counts(job: dict[str, Any]) -> str:
    c = job["counts"]
    return (f"total_rows {job['total_rows']:,}: saved {c['saved']:,}, updated {c['updated']:,}, "
            f"unchanged {c['unchanged']:,}, duplicates {c['duplicates']:,}, "
            f"invalid {c['invalid']:,}")


def _list_requests(sandbox: HubSpotSandbox) -> tuple[int, int]:
    """(live listing requests, archived listing requests) in the sandbox's log."""
    pages = [r for r in sandbox.requests if r.method == "GET" and r.path == LIST_PATH]
    archived = sum(1 for r in pages if r.query.get("archived") == ["true"])
    return len(pages) - archived, archived


def write_csv(sandbox: HubSpotSandbox, columns: list[str], path: Path) -> int:
    """The sandbox's live contacts as the rows a sync reads (same columns, same values)."""
    with sandbox.lock:
        contacts = [c for c in sandbox.contacts.values() if c.archived_ms is None]
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(columns)
        for contact in contacts:
            values = contact.values()
            row = []
            for column in columns:
                if column == "location":
                    row.append(", ".join(v for p in LOCATION_PARTS
                                         if (v := (values.get(p) or "").strip())))
                elif column == "crm_id":
                    row.append(contact.id)
                elif column == "tags":
                    row.append("")
                else:
                    row.append(values.get(column) or "")
            out.writerow(row)
    return len(contacts)


def _import_csv(stack: Stack, list_id: str, path: Path,
                mapping: dict[str, Any]) -> dict[str, Any]:
    """Stack.run_import with the sync's mapping and mode given at start."""
    started = time.perf_counter()
    job = stack.call("POST", f"/lists/{list_id}/imports", json={"filename": path.name})
    with path.open("rb") as handle:
        requests.post(job["upload"]["url"], data=job["upload"]["fields"],
                      files={"file": (path.name, handle)}, timeout=600).raise_for_status()
    job = stack.wait(job["id"], {"ready", "failed"})
    analysed = time.perf_counter()
    stack.call("POST", f"/imports/{job['id']}/start",
               json={"mapping": mapping, "mode": "overwrite"})
    job = _wait_finished(stack, job["id"])
    done = time.perf_counter()
    job["_upload_analyse_s"] = analysed - started
    job["_run_s"] = done - analysed
    job["_total_s"] = done - started
    return job


def run(stack: Stack, sandbox: HubSpotSandbox) -> list[Row]:
    """Issue 11's sync figures; `stack` must read HubSpot from `sandbox` (hubspot_env)."""
    rows: list[Row] = []
    n = sum(1 for c in sandbox.contacts.values() if c.archived_ms is None)
    sync_list = stack.call("POST", "/lists", json={"name": "bench hubspot sync"})["id"]
    csv_list = stack.call("POST", "/lists", json={"name": "bench hubspot csv"})["id"]
    sandbox.clear_log()
    connection = stack.call("POST", "/connections", json={
        "provider": "hubspot", "name": "bench", "access_token": HUBSPOT_PRIVATE_APP_TOKEN})
    connect_calls = len(sandbox.requests)
    sync = stack.call("POST", f"/lists/{sync_list}/syncs",
                      json={"connection_id": connection["id"], "object": "contacts"})
    sandbox.clear_log()

    # 1. The first run: every live contact listed, then the archived listing.
    first, first_s = _run_sync(stack, sync["id"])
    live, archived = _list_requests(sandbox)
    tokens = sandbox.count("POST", TOKEN_PATH)
    searches = sandbox.count("POST", SEARCH_PATH)
    other = len(sandbox.requests) - live - archived - tokens - searches
    print(f"first sync: {first['status']} in {first_s:.1f} s; {_counts(first)}", flush=True)
    sync_verify_s = _wait_verified(stack, first["id"])
    _wait_released(stack, sync["id"])

    # The baseline: the same rows from a CSV file, into another list.
    columns = [str(c) for c in (first.get("file") or {}).get("columns") or []]
    mapping: dict[str, Any] = stack.call("GET", f"/syncs/{sync['id']}")["mapping"]
    path = WORK / f"hubspot-{n}.csv"
    write_csv(sandbox, columns, path)
    baseline = _import_csv(stack, csv_list, path, mapping)
    print(f"CSV import: {baseline['status']} in {baseline['_total_s']:.1f} s; "
          f"{_counts(baseline)}", flush=True)
    csv_verify_s = _wait_verified(stack, baseline["id"])

    expected = math.ceil(n / LIST_MAX)
    sync_rate = first["total_rows"] / first_s
    csv_rate = baseline["total_rows"] / baseline["_total_s"]
    ratio = first_s / baseline["_total_s"]
    rows.append((
        f"first HubSpot sync, {n:,} contacts (loopback sandbox)",
        f"{first_s:.1f} s ({sync_rate:,.0f} rows/s) from POST /syncs/{{id}}/run to "
        f"{first['status']}; {_counts(first)}",
        f"CSV of the same rows (same columns and mapping, mode overwrite), another list: "
        f"{baseline['_total_s']:.1f} s ({csv_rate:,.0f} rows/s; upload+analyse "
        f"{baseline['_upload_analyse_s']:.1f} s, split+validate+save {baseline['_run_s']:.1f} s)"
        f"; {_counts(baseline)}",
        f"{ratio:.2f}x the CSV import's time (target <= 1.5x; {first_s / baseline['_run_s']:.2f}x "
        f"its split+validate+save alone); verification afterwards {sync_verify_s:.0f} s / "
        f"{csv_verify_s:.0f} s"))
    print(rows[-1], flush=True)
    verdict = "yes" if live == expected and tokens == 0 and other == 0 else "NO"
    rows.append((
        f"first HubSpot sync: API requests, {n:,} contacts",
        f"{live + archived + tokens + other} requests: {live} list pages + {archived} archived "
        f"listing + {tokens} token calls + {other} other; {searches} searches",
        f"ceil({n:,} / {LIST_MAX}) = {expected} list pages; token calls 0 with a private-app "
        f"token (creating the connection made {connect_calls} calls)",
        f"list pages = ceil(N / page size): {verdict}; +1 request for the archived listing "
        f"the adapter makes on a first run (deletions), so {expected + 1:,} in all"))
    print(rows[-1], flush=True)

    # 2. An incremental run after CHANGED contacts changed in HubSpot.
    with sandbox.lock:
        ids = [c.id for c in sandbox.contacts.values()
               if c.archived_ms is None and c.properties.get("email")]
    step = max(1, len(ids) // CHANGED)
    changed = ids[::step][:CHANGED]
    for index, contact_id in enumerate(changed):
        sandbox.update_contact(contact_id, jobtitle=f"Bench title {index}")
    sandbox.clear_log()
    again, again_s = _run_sync(stack, sync["id"])
    searches = sandbox.count("POST", SEARCH_PATH)
    live, archived = _list_requests(sandbox)
    total = len(sandbox.requests)
    print(f"incremental sync: {again['status']} in {again_s:.1f} s; {_counts(again)}", flush=True)
    _wait_verified(stack, again["id"])
    _wait_released(stack, sync["id"])
    ok = searches <= 2 and again["total_rows"] == len(changed)
    rows.append((
        f"incremental HubSpot sync, {len(changed)} of {n:,} contacts changed",
        f"{again_s:.1f} s from POST /syncs/{{id}}/run to {again['status']}; "
        f"{searches} search requests ({total} requests in all, {live + archived} list pages); "
        f"{_counts(again)}",
        f"target: at most 2 search requests (200 results a page) and "
        f"total_rows = {len(changed)}",
        f"{'met' if ok else 'NOT met'}; the first run took {first_s / again_s:.0f}x as long"))
    print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe HubSpot sync figures (issue 11)")
    parser.add_argument("--contacts", type=int, default=CONTACTS,
                        help=f"contacts in the HubSpot sandbox (default {CONTACTS:,})")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sandbox = start_hubspot(args.contacts)
    print(f"HubSpot sandbox {sandbox.url}: {args.contacts:,} contacts seeded in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    try:
        stack = Stack(WORK / "sync-stats.json", extra_env=hubspot_env(sandbox))
        try:
            rows = run(stack, sandbox)
        finally:
            stack.stop()
    finally:
        sandbox.stop()
    print()
    print(f"make bench (HubSpot syncs), {time.strftime('%Y-%m-%d')}; "
          f"{time.perf_counter() - started:.0f} s in all")
    print("| figure | measured | beside | ratio / note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

"""Many leads a request, through the local stack (issue 10, item 8).

Each figure beside its baseline from the same run, the one-lead-a-request
path a client would otherwise take: 1,000 new leads in one batch beside 1,000
`POST /leads`; 1,000 duplicates in one batch beside 1,000 duplicate
`POST /leads` (409 each); a bulk action on 1,000 `lead_ids` beside 1,000
`PATCH`es. A batch or bulk request answers within its budget (5 s): the
figure is the time to the answer and, if it was 202, until the work was done.

`python -m tools.bench_requests` runs these alone on a stack of its own.
"""

from __future__ import annotations

import time
from typing import Any

from tools.bench import WORK, Stack

N = 1000


def _leads(prefix: str) -> list[dict[str, str]]:
    return [{"email": f"{prefix}{i}@example.com", "first_name": f"P{i}"} for i in range(N)]


def _batch(stack: Stack, list_id: str, leads: list[dict[str, str]]) -> tuple[float, float,
                                                                                dict[str, Any]]:
    """(seconds to the answer, seconds until every outcome is known, the final outcome)."""
    started = time.perf_counter()
    body: dict[str, Any] = stack.call("POST", f"/lists/{list_id}/leads/batch",
                                      json={"leads": leads})
    answered = time.perf_counter() - started
    while body.get("status") == "running":
        time.sleep(0.2)
        body = stack.call("GET", f"/lists/{list_id}/leads/batch/{body['batch_id']}")
    return answered, time.perf_counter() - started, body


def _one_by_one(stack: Stack, list_id: str, leads: list[dict[str, str]]) -> float:
    started = time.perf_counter()
    for lead in leads:
        stack.request("POST", f"/lists/{list_id}/leads", json=lead)
    return time.perf_counter() - started


def _tagged(stack: Stack, list_id: str, tag: str) -> int:
    total, cursor = 0, ""
    while True:
        page = stack.call("GET", f"/lists/{list_id}/leads?tag={tag}&limit=200{cursor}")
        total += len(page["items"])
        if not page["next_cursor"]:
            return total
        cursor = f"&cursor={page['next_cursor']}"


def run(stack: Stack) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    batch_list = stack.call("POST", "/lists", json={"name": "bench batch"})["id"]
    single_list = stack.call("POST", "/lists", json={"name": "bench single"})["id"]
    leads = _leads("person")
    answer_s, new_s, new = _batch(stack, batch_list, leads)
    single_s = _one_by_one(stack, single_list, leads)
    rows.append(("1,000 new leads in one batch", f"{new_s:.2f} s (answered in {answer_s:.2f} s)",
                 f"1,000 POST /leads: {single_s:.2f} s",
                 f"{single_s / new_s:.1f}x faster; created {new['created']}"))
    answer_s, dup_s, dup = _batch(stack, batch_list, leads)
    single_dup_s = _one_by_one(stack, single_list, leads)
    rows.append(("1,000 duplicates in one batch", f"{dup_s:.2f} s (answered in {answer_s:.2f} s)",
                 f"1,000 duplicate POST /leads (409): {single_dup_s:.2f} s",
                 f"{single_dup_s / dup_s:.1f}x faster; duplicates {dup['duplicates']} "
                 "(was 27 s before the batched path)"))
    ids = [r["lead_id"] for r in new["results"]]
    started = time.perf_counter()
    bulk = stack.request("POST", f"/lists/{batch_list}/leads/bulk",
                         json={"action": "add_tags", "tags": ["bench"], "lead_ids": ids})
    answered = time.perf_counter() - started
    # The background part goes through the ids in order: the last one tagged
    # means all are (checked by a count once done). One GetItem a look.
    while "bench" not in stack.call("GET", f"/lists/{batch_list}/leads/{ids[-1]}")["tags"]:
        time.sleep(0.2)
    bulk_s = time.perf_counter() - started
    assert _tagged(stack, batch_list, "bench") == N
    single_ids = [lead["id"] for lead in stack.call(
        "GET", f"/lists/{single_list}/leads?limit=200")["items"]]
    started = time.perf_counter()
    for lead_id in single_ids:
        stack.request("PATCH", f"/lists/{single_list}/leads/{lead_id}", json={"tags": ["b"]})
    patch_s = (time.perf_counter() - started) * N / max(1, len(single_ids))
    rows.append(("bulk add_tags on 1,000 lead_ids",
                 f"answered {bulk.status_code} in {answered:.2f} s; all tagged in {bulk_s:.2f} s",
                 f"1,000 PATCH (timed on {len(single_ids)}, scaled): {patch_s:.2f} s",
                 f"{patch_s / bulk_s:.1f}x faster (was 15 s in one request)"))
    return rows


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    stack = Stack(WORK / "requests-stats.json")
    try:
        rows = run(stack)
    finally:
        stack.stop()
    print(f"make bench (requests), {time.strftime('%Y-%m-%d')}")
    print("| figure | measured | beside | ratio / note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

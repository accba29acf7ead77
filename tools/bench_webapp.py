"""Web app figures (issue 13): a 100k-lead list in a real browser, beside the bare API call.

A fresh local stack gets one list of N leads written as an import writes them
(tools/bench_lists.seed). The distribution's Chromium, driven by Playwright,
opens the printed sign-in link; then, median of 20 each:

- open the list: from the Lists screen, the list's address is set and the
  clock runs until the page's first 50 leads are on screen (the first and
  the fiftieth lead of the API's first page both shown); the baseline is the
  very request the app made for that page, sent with `requests` in the same run;
- search: the box "Search leads" gets a company fragment (one input event, as a
  paste or a fast typist's last keystroke) and the clock runs until the first
  page of results is on screen; baseline: the same API request.

Times are measured in the page (performance.now() around a MutationObserver
that waits for the rows), so Playwright's own round trips are not counted.
The app's own JS and CSS are sized as served: gzip, as the server sends them.

    python -m tools.bench_webapp [--leads N]      (make bench calls run())
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tools.bench_lists import TOKEN, ListStack, _point_at, seed, table

ROOT = Path(__file__).resolve().parents[1]
WEBAPP = ROOT / "chalicelib" / "webapp"
CHROMIUM = "/usr/lib/chromium/chromium"
REPEATS = 20
SEARCH = "zephyr"  # matches "Zephyrine Labs", 0.1% of the seeded leads
Row = tuple[str, str, str, str]

# Sets the address (or the search box) and resolves the milliseconds until
# every text in `expect` is inside <main>.
_TIMED = """
async ([action, value, expect]) => {
  const shown = () => {
    const text = document.querySelector("main").textContent;
    return expect.every((t) => text.includes(t));
  };
  const started = performance.now();
  if (action === "hash") {
    location.hash = value;
  } else {
    const box = document.querySelector(value[0]);
    box.value = value[1];
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }
  await new Promise((resolve) => {
    if (shown()) { resolve(); return; }
    const watcher = new MutationObserver(() => {
      if (shown()) { watcher.disconnect(); resolve(); }
    });
    watcher.observe(document.querySelector("main"),
                    {childList: true, subtree: true, characterData: true});
  });
  return performance.now() - started;
}
"""


def asset_bytes() -> tuple[int, int]:
    """(raw, gzip) bytes of the app's own JS and CSS, as the server sends them."""
    from chalicelib.domain.web_assets import make_asset  # noqa: PLC0415

    raw = zipped = 0
    for path in sorted(WEBAPP.rglob("*")):
        if path.suffix in (".js", ".css"):
            asset = make_asset(path.name, path.read_bytes())
            raw, zipped = raw + len(asset.body), zipped + len(asset.gzipped)
    return raw, zipped


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples)


def _api_ms(session: requests.Session, url: str) -> list[float]:
    samples = []
    for _ in range(2):
        session.get(url, timeout=60).raise_for_status()
    for _ in range(REPEATS):
        started = time.perf_counter()
        session.get(url, timeout=60).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _verdict(app_ms: float, api_ms: float) -> str:
    ratio = app_ms / api_ms
    met = ratio <= 1.5 and app_ms < 1000
    return (f"{ratio:.2f}x the API call; target <= 1.5x and < 1 s: "
            f"{'met' if met else 'NOT met'}")


def _label(lead: dict[str, Any]) -> str:
    return str(lead["email"])


def measure(stack: ListStack, list_id: str, leads: int) -> list[Row]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from tools.localstack import sign_in_link  # noqa: PLC0415

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    rows: list[Row] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url) if "/leads?" in r.url else None)
        page.goto(sign_in_link(stack.url, TOKEN))
        page.get_by_role("button", name="Sign out").wait_for()

        def lists_screen() -> None:
            page.evaluate("location.hash = '#/lists'")
            page.get_by_role("heading", name="Lists").wait_for()
            page.wait_for_load_state("networkidle")

        first = stack.get(f"/lists/{list_id}/leads", limit=50)["items"]
        expect_page = [_label(first[0]), _label(first[-1])]
        opens: list[float] = []
        for i in range(REPEATS + 2):
            lists_screen()
            seen.clear()
            ms = page.evaluate(_TIMED, ["hash", f"#/lists/{list_id}", expect_page])
            if i >= 2:  # two warm-ups, as the API baseline has
                opens.append(ms)
        page_url = _app_request(seen, "the list's first page")
        api_open = _api_ms(session, page_url)

        found = stack.get(f"/lists/{list_id}/leads", limit=50, q=SEARCH)["items"]
        expect_search = [_label(found[0]), _label(found[-1])]
        box = "input[aria-label='Search leads'], input#search-leads, input[type='search']"
        searches: list[float] = []
        for i in range(REPEATS + 2):
            page.evaluate(_TIMED, ["input", [box, ""], expect_page])
            page.wait_for_load_state("networkidle")
            seen.clear()
            ms = page.evaluate(_TIMED, ["input", [box, SEARCH], expect_search])
            if i >= 2:
                searches.append(ms)
        search_url = _app_request([u for u in seen if "q=" in u], "the search")
        api_search = _api_ms(session, search_url)
        browser.close()

    for name, app, api, url in (("open a list: first page of 50 shown", opens, api_open, page_url),
                                (f"search q={SEARCH}: first page shown", searches, api_search,
                                 search_url)):
        app_ms, api_ms = _median_ms(app), _median_ms(api)
        rows.append((f"web app, {leads:,}-lead list: {name} (median of {REPEATS})",
                     f"{app_ms:.1f} ms (p90 {sorted(app)[int(len(app) * 0.9) - 1]:.0f} ms)",
                     f"bare API call {api_ms:.1f} ms (`{urlsplit(url).path}?"
                     f"{urlsplit(url).query}`)", _verdict(app_ms, api_ms)))
    raw, zipped = asset_bytes()
    rows.append(("web app: its own JS and CSS, as served", f"{zipped / 1024:.1f} KB gzip",
                 f"{raw / 1024:.1f} KB uncompressed",
                 f"target < 150 KB compressed: {'met' if zipped < 150 * 1024 else 'NOT met'}"))
    return rows


def _app_request(urls: list[str], what: str) -> str:
    if not urls:
        raise SystemExit(f"the app made no leads request for {what}")
    # The app's page request (not its count): the one without count=true, if any.
    pages = [u for u in urls if "count=true" not in u] or urls
    return pages[-1]


def run(leads: int = 100_000, *, progress: Callable[[str], None] = print) -> list[Row]:
    stack = ListStack("webapp-stack.log", extra_env={"LEADPIPE_RATE_LIMIT_PER_MINUTE": "0"})
    try:
        _point_at(stack.aws_url)
        list_id, written, seconds = seed(stack, leads, progress=progress)
        progress(f"seeded {written:,} leads in {seconds:.0f} s")
        return measure(stack, list_id, written)
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="leadpipe web app benchmark")
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args.leads)
    print(f"\nmake bench (web app), {time.strftime('%Y-%m-%d')}, "
          f"{time.perf_counter() - started:.0f} s in all\n\n{table(rows)}\n")


if __name__ == "__main__":
    main()

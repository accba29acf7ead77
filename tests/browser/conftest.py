"""Browser tests: the distribution's Chromium, driven by Playwright, against the real local stack.

One stack (as `make run` starts it, demo import included) and one browser for
the whole directory; each test gets a fresh browser context (its own session
storage, so its own sign-in). Screenshots of each screen go to
`.local/screenshots/` (README shows three of them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.test_local_stack import ROOT, TOKEN, Stack, started_stack
from tools.localstack import sign_in_link

CHROMIUM = os.environ.get("LEADPIPE_CHROMIUM", "/usr/lib/chromium/chromium")
SHOTS = ROOT / ".local" / "screenshots"
# Two cores shared with the whole local stack: a screen may take a few seconds
# under load. Waiting longer changes no outcome, only how long a failure takes.
expect.set_options(timeout=20_000)


def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="package")  # stopped before the next directory's tests start
def stack() -> Iterator[Stack]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with started_stack("browser-stack.log") as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """What the page said on its console and the CSP violations it reported."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    ctx.set_default_timeout(30_000)  # clicks, waits and downloads, under the same load
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(context: BrowserContext, stack: Stack, console: Console) -> Page:
    """A page signed in through the link `make run` prints."""
    opened = context.new_page()
    opened.on("console", console)
    opened.goto(sign_in_link(stack.url, TOKEN))
    opened.get_by_role("button", name="Sign out").wait_for()
    return opened


def shot(page: Page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


class Api:
    """The public API, for a test's set-up and its checks on what the screens did."""

    def __init__(self, stack: Stack) -> None:
        self.url = stack.url
        self.headers = stack.headers()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = requests.request(method, self.url + path, json=body, params=params or None,
                                    headers=self.headers, timeout=30)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body)


@pytest.fixture(scope="package")
def api(stack: Stack) -> Api:
    return Api(stack)

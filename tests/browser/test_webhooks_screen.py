"""The Webhooks screen in a browser: endpoints with their events and state, creating one (the
secret shown once, with a copy button and a warning), the API's refusal at the URL field,
disable / enable, deliveries with Redeliver, and delete after a confirmation."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_table import app_errors


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook-{time.time_ns() % 100_000}"
    finally:
        server.shutdown()
        server.server_close()


def open_webhooks(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()


def test_create_shows_the_secret_once_then_deliveries_redeliver_disable_and_delete(
        page: Page, api: Api, console: Console, receiver: str):
    open_webhooks(page)
    # WHEN the URL is refused THEN the API's reason is at the field
    page.get_by_label("Endpoint URL").fill("http://10.1.2.3/hook")
    page.get_by_role("checkbox", name="lead.created").check()
    page.get_by_role("button", name="Create endpoint").click()
    url_field = page.get_by_label("Endpoint URL")
    expect(url_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#webhook-url-error")).to_be_visible()
    assert not [w for w in api.get("/webhooks")["items"] if w["url"] == "http://10.1.2.3/hook"]

    # WHEN it is a loopback receiver (allowed locally) THEN it is created, the secret shown once
    url_field.fill(receiver)
    page.get_by_role("button", name="Create endpoint").click()
    dialog = page.get_by_role("dialog", name="Endpoint created")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("it will not be shown again")
    secret = dialog.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    expect(dialog.get_by_role("button", name="Copy secret")).to_be_visible()
    dialog.get_by_role("button", name="I have stored it").click()
    expect(dialog).to_be_hidden()
    hook = next(w for w in api.get("/webhooks")["items"] if w["url"] == receiver)
    assert hook["events"] == ["lead.created"] and hook["enabled"] is True
    assert "secret" not in hook
    card = page.locator(f'li.webhook[data-webhook-id="{hook["id"]}"]')
    expect(card).to_contain_text("Events: lead.created")
    expect(card.locator(".webhook-state")).to_have_text("Enabled")
    expect(page.get_by_text(secret)).to_have_count(0)

    # GIVEN a subscribed event happened THEN its delivery shows as the API lists it
    list_id = api.post("/lists", {"name": f"Hooked {time.time_ns() % 100_000:05d}"})["id"]
    api.post(f"/lists/{list_id}/leads", {"first_name": "Hook", "email": "hook@example.com"})
    deadline = time.monotonic() + 60
    deliveries: list = []
    while time.monotonic() < deadline:
        deliveries = api.get(f"/webhooks/{hook['id']}/deliveries")["items"]
        if deliveries and deliveries[0]["status"] in ("succeeded", "failed", "retrying"):
            break
        time.sleep(1)
    assert deliveries, "no delivery was recorded"
    card.get_by_role("button", name=f"Deliveries to {receiver}").click()
    row = card.locator(f'tr[data-delivery-id="{deliveries[0]["id"]}"]')
    expect(row).to_contain_text("lead.created")
    expect(row.locator(".delivery-status")).to_have_text(deliveries[0]["status"].capitalize())
    expect(row.locator("td.num")).to_have_text(str(deliveries[0]["attempts"]))
    if not api.get(f"/webhooks/{hook['id']}/deliveries")["next_cursor"]:
        expect(card.get_by_role("button", name="Load older deliveries")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "webhooks")
    row.get_by_role("button", name=re.compile("^Redeliver lead.created")).click()
    expect(page.get_by_text("Delivery queued again.")).to_be_visible()

    # disable, then enable
    card.get_by_role("button", name=f"Disable {receiver}").click()
    expect(card.locator(".webhook-state")).to_have_text("Disabled")
    expect(card.locator(".disabled-reason")).to_be_visible()
    changed = api.get(f"/webhooks/{hook['id']}")
    assert changed["enabled"] is False and changed["disabled_reason"] == "disabled_by_user"
    card.get_by_role("button", name=f"Enable {receiver}").click()
    expect(card.locator(".webhook-state")).to_have_text("Enabled")
    assert api.get(f"/webhooks/{hook['id']}")["enabled"] is True

    # a phone-sized screen shows it without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # delete asks first; Cancel keeps it, confirming deletes it
    card.get_by_role("button", name=f"Delete {receiver}").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert any(w["id"] == hook["id"] for w in api.get("/webhooks")["items"])
    card.get_by_role("button", name=f"Delete {receiver}").click()
    page.get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_text("Endpoint deleted.")).to_be_visible()
    expect(card).to_have_count(0)
    assert not any(w["id"] == hook["id"] for w in api.get("/webhooks")["items"])
    assert not app_errors(console), console.errors

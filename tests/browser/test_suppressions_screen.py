"""The Suppressions screen in a browser: the API's refusal at the field, adding an entry
(shown masked, newest first) that the API then enforces, "already suppressed" for the same
value again, removal after a confirmation letting the person in again, "Load more", the
empty state, and a phone-sized screen."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

import requests
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_table import app_errors, make_list


def open_suppressions(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Suppressions").click()
    expect(page.get_by_role("heading", name="Suppressions", level=1)).to_be_visible()


def all_suppressions(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get("/suppressions", limit=200, cursor=cursor)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def add_lead(api: Api, list_id: str, lead: dict[str, Any]) -> requests.Response:
    """POST /lists/{id}/leads as it is answered (the Api helper refuses a 4xx)."""
    return requests.post(f"{api.url}/lists/{list_id}/leads", json=lead, headers=api.headers,
                         timeout=30)


def rows(page: Page):
    return page.locator("table.suppressions tbody tr")


def test_an_added_suppression_is_refused_by_the_api_until_it_is_removed(
        page: Page, api: Api, console: Console):
    tag = time.time_ns() % 1_000_000_000
    domain = f"stop-{tag}.example"
    email = f"stop.me@{domain}"
    masked = f"s***@{domain}"
    list_id = make_list(api, [], "Suppressed")
    open_suppressions(page)
    form = page.get_by_role("form", name="Add a suppression")
    value = form.get_by_label("Value")
    reason = form.get_by_label("Reason code (optional)")

    # WHEN the value is not an email THEN the API's reason shows at the field
    expect(form.get_by_label("Kind")).to_have_value("email")
    value.fill("not an email")
    form.get_by_role("button", name="Add suppression").click()
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#suppression-value-error")).to_be_visible()
    expect(page.locator("#suppression-value-error")).not_to_be_empty()
    # WHEN the reason is not a code THEN it is said at the reason field, nothing is stored
    value.fill(f"  Stop.Me@{domain.upper()} ")
    reason.fill("Asked Us")
    form.get_by_role("button", name="Add suppression").click()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#suppression-reason-error")).to_contain_text("reason is a code")
    expect(value).not_to_have_attribute("aria-invalid", "true")
    assert not [s for s in all_suppressions(api) if s["value"] == masked]

    # WHEN it is fixed THEN the entry is stored and shows first, masked
    reason.fill("asked_us")
    form.get_by_role("button", name="Add suppression").click()
    expect(form.get_by_role("status")).to_have_text(f"Suppressed {masked}.")
    stored = [s for s in all_suppressions(api) if s["value"] == masked]
    assert len(stored) == 1 and stored[0]["kind"] == "email" and stored[0]["reason"] == "asked_us"
    first = rows(page).first
    expect(first).to_have_attribute("data-suppression-id", stored[0]["id"])
    expect(first).to_contain_text(masked)
    expect(first).to_contain_text("Email")
    expect(first).to_contain_text("Asked us")
    expect(page.get_by_text(email)).to_have_count(0)
    # AND the API refuses the person in any list
    refused = add_lead(api, list_id, {"first_name": "Stop", "email": email})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "suppressed"

    # WHEN the same person is added again (written otherwise) THEN it says so, one entry stays
    value.fill(email.upper())
    form.get_by_role("button", name="Add suppression").click()
    expect(form.get_by_role("status")).to_contain_text(f"Already suppressed: {masked}")
    expect(form.get_by_role("status")).to_contain_text("Nothing changed.")
    assert len([s for s in all_suppressions(api) if s["value"] == masked]) == 1
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "suppressions")

    # WHEN removing is cancelled THEN it stays; confirmed THEN it is gone and the lead gets in
    remove = page.get_by_role("button", name=f"Remove suppression {masked}")
    remove.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(masked)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert [s for s in all_suppressions(api) if s["value"] == masked]
    remove.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove suppression", exact=True).click()
    expect(page.get_by_text(f"Suppression of {masked} removed.")).to_be_visible()
    expect(page.locator(f'tr[data-suppression-id="{stored[0]["id"]}"]')).to_have_count(0)
    assert not [s for s in all_suppressions(api) if s["value"] == masked]
    admitted = add_lead(api, list_id, {"first_name": "Stop", "email": email})
    assert admitted.status_code == 201, admitted.text
    assert [lead["email"] for lead in api.get(f"/lists/{list_id}/leads")["items"]] == [email]
    assert not app_errors(console), console.errors


def test_domains_page_newest_first_with_load_more_and_fit_a_phone(page: Page, api: Api,
                                                                   console: Console):
    tag = time.time_ns() % 1_000_000_000
    made = [api.post("/suppressions", {"domain": f"page-{tag}-{i:02d}.example", "reason": "paging"})
            for i in range(27)]
    try:
        open_suppressions(page)
        # THEN a page of 25, the newest first; the two oldest come with "Load more"
        expect(rows(page)).to_have_count(25)
        expect(rows(page).first).to_have_attribute("data-suppression-id", made[-1]["id"])
        expect(rows(page).first).to_contain_text(f"page-{tag}-26.example")
        expect(rows(page).first).to_contain_text("Email domain")
        oldest = page.locator(f'tr[data-suppression-id="{made[0]["id"]}"]')
        expect(oldest).to_have_count(0)
        page.get_by_role("button", name="Load more").click()
        expect(oldest).to_contain_text(f"page-{tag}-00.example")
        assert rows(page).count() > 25

        # the kind select tells the value field what to expect
        form = page.get_by_role("form", name="Add a suppression")
        form.get_by_label("Kind").select_option(label="Phone")
        expect(form.get_by_label("Value")).to_have_attribute("type", "tel")
        page.set_viewport_size({"width": 390, "height": 800})
        expect(page.get_by_role("button", name="Add suppression")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        for entry in made:
            api.call("DELETE", f"/suppressions/{entry['id']}")
    assert not app_errors(console), console.errors


def test_an_empty_list_says_what_suppression_does(page: Page):
    def no_entries(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(json={"items": [], "next_cursor": None})
        else:
            route.continue_()

    page.route(lambda url: urlparse(url).path.endswith("/suppressions"), no_entries)
    open_suppressions(page)
    expect(page.get_by_role("heading", name="No one is suppressed")).to_be_visible()
    expect(page.locator(".empty")).to_contain_text("never added to any of this workspace's lists")
    expect(page.locator("table.suppressions")).to_be_hidden()
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(page.get_by_role("button", name="Add suppression")).to_be_enabled()

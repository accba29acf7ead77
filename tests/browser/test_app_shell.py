"""The app shell in a browser: sign in by link and by token, sign out, the lists screen,
the security headers the browser enforces."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.e2e.test_local_stack import TOKEN, Stack


def test_sign_in_link_keeps_the_token_out_of_the_url_and_sign_out_forgets_it(
        page: Page, stack: Stack):
    # GIVEN the page opened by the printed link
    # THEN the token left the address bar (history) and sits in session storage only
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('leadpipe.token')") == TOKEN
    assert page.evaluate("localStorage.length") == 0
    expect(page.get_by_role("heading", name="Lists")).to_be_visible()
    # WHEN the person signs out
    page.get_by_role("button", name="Sign out").click()
    # THEN the token is forgotten and the sign-in form shows
    expect(page.get_by_label("Workspace token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('leadpipe.token')") is None
    shot(page, "sign-in")


def test_sign_in_with_a_wrong_token_says_what_to_do_then_a_right_one_works(
        context: BrowserContext, stack: Stack):
    page = context.new_page()
    page.goto(f"{stack.url}/app/")
    page.get_by_label("Workspace token").fill("lp_wrong_" + "y" * 30)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    page.get_by_label("Workspace token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Lists")).to_be_visible()


def test_lists_screen_creates_renames_duplicates_and_deletes(page: Page, api: Api,
                                                               console: Console):
    name = f"Browser list {time.time_ns()}"
    page.get_by_role("button", name="New list").click()
    page.get_by_label("List name").fill(name)
    page.get_by_label("Phone region", exact=False).select_option("GB")
    page.get_by_role("button", name="Create list").click()
    # created: the app opens the new list
    expect(page).to_have_url(re.compile(r"#/lists/ls_"))
    list_id = page.url.rsplit("/", 1)[1]
    created = api.get(f"/lists/{list_id}")
    assert created["name"] == name and created["default_region"] == "GB"

    page.get_by_role("link", name="Lists").first.click()
    row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
    expect(row.get_by_text("valid", exact=False).first).to_be_visible()
    shot(page, "lists")

    page.get_by_role("button", name=f"Rename {name}").click()
    page.get_by_label("List name").fill(name + " renamed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name=name + " renamed", exact=True)).to_be_visible()
    assert api.get(f"/lists/{list_id}")["name"] == name + " renamed"

    page.get_by_role("button", name=f"Duplicate {name} renamed").click()
    page.get_by_role("button", name="Duplicate", exact=True).click()
    expect(page.get_by_role("link", name=f"{name} renamed (copy)", exact=True)).to_be_visible()

    page.get_by_role("button", name=f"Delete {name} renamed (copy)").click()
    page.get_by_role("button", name="Delete list").click()
    expect(page.get_by_role("link", name=f"{name} renamed (copy)", exact=True)).to_have_count(0)
    names = [lst["name"] for lst in api.get("/lists", limit=200)["items"]]
    assert f"{name} renamed (copy)" not in names and f"{name} renamed" in names
    # (the browser notes a 404 if a deleted list's summary was still being read)
    assert not [e for e in console.errors if not e.startswith("Failed to load resource")], \
        console.errors


def test_pages_carry_a_strict_policy_and_files_are_cached_and_compressed(stack: Stack):
    index = requests.get(f"{stack.url}/app/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp and index.headers["X-Frame-Options"] == "DENY"
    assert index.headers["Content-Encoding"] == "gzip"
    script = requests.get(f"{stack.url}/app/js/main.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript")
    again = requests.get(f"{stack.url}/app/js/main.js",
                         headers={"If-None-Match": script.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and not again.content
    assert requests.get(f"{stack.url}/app", allow_redirects=False,
                        timeout=10).headers["Location"] == "app/"
    assert requests.get(f"{stack.url}/app/..%2Fapp.py", timeout=10).status_code == 404

"""The lead panel's "Also in" in a browser: the person's other leads across the workspace's
lists (each its list's name linking to that lead opened in its list, with its status), "Not
in any other list" when alone, and "Copy to list" with the API's refusals said in words."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_panel import panel_of
from tests.browser.test_lead_table import app_errors, make_list, open_list


def also_in(page: Page):
    return panel_of(page).get_by_role("region", name="Also in")


def only_lead(api: Api, list_id: str) -> str:
    items = api.get(f"/lists/{list_id}/leads")["items"]
    assert len(items) == 1, items
    return items[0]["id"]


def test_a_lead_in_two_lists_shows_the_other_one_and_links_to_the_lead_there(
        page: Page, api: Api, console: Console):
    email = f"ada-{time.time_ns() % 1_000_000_000}@also.example"
    first = make_list(api, [{"first_name": "Ada", "last_name": "Lovelace", "email": email}],
                      "Also A")
    second = make_list(api, [{"first_name": "Ada", "last_name": "Lovelace", "email": email,
                              "status": "qualified"}], "Also B")
    first_lead, second_lead = only_lead(api, first), only_lead(api, second)
    first_name, second_name = (api.get(f"/lists/{x}")["name"] for x in (first, second))

    # WHEN the lead of the first list is opened
    open_list(page, first, f"?lead={first_lead}")
    section = also_in(page)
    expect(section.get_by_role("heading", name="Also in")).to_be_visible()
    # THEN the other list shows with the lead's status there, and not this list itself
    link = section.get_by_role("link", name=second_name)
    expect(link).to_have_attribute("href", f"#/lists/{second}?lead={second_lead}")
    entry = section.locator(f'li[data-lead-id="{second_lead}"]')
    expect(entry.locator(".badge")).to_have_text("Qualified")
    expect(entry).to_contain_text("No activity yet")
    expect(section.get_by_role("link", name=first_name)).to_have_count(0)

    # WHEN its list's name is followed THEN that lead opens in its list, pointing back
    link.click()
    expect(page).to_have_url(re.compile(rf"#/lists/{second}\?lead={second_lead}$"))
    expect(page.get_by_role("heading", name=second_name, level=1)).to_be_visible()
    expect(panel_of(page).get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(also_in(page).get_by_role("link", name=first_name)).to_have_attribute(
        "href", f"#/lists/{first}?lead={first_lead}")

    # a lead found in no other list says so
    alone = make_list(api, [{"first_name": "Solo", "email": f"solo-{time.time_ns()}@also.example"}],
                      "Alone")
    open_list(page, alone, f"?lead={only_lead(api, alone)}")
    expect(also_in(page).get_by_text("Not in any other list")).to_be_visible()
    assert not app_errors(console), console.errors


def test_copy_to_list_adds_the_lead_and_says_why_a_copy_is_refused(
        page: Page, api: Api, console: Console):
    email = f"grace-{time.time_ns() % 1_000_000_000}@also.example"
    source = make_list(api, [{"first_name": "Grace", "last_name": "Hopper", "email": email,
                              "company": "Navy", "status": "contacted"}], "Original")
    target = make_list(api, [], "Second list")
    blocked = make_list(api, [], "Third list")
    lead_id = only_lead(api, source)
    target_name, blocked_name = (api.get(f"/lists/{x}")["name"] for x in (target, blocked))
    open_list(page, source, f"?lead={lead_id}")
    section = also_in(page)
    expect(section.get_by_text("Not in any other list")).to_be_visible()
    # the lead's own list is not offered
    source_name = api.get(f"/lists/{source}")["name"]
    choices = section.get_by_label("List to copy to")
    expect(choices.locator("option", has_text=target_name)).to_have_count(1)
    expect(choices.locator("option", has_text=source_name)).to_have_count(0)

    # WHEN it is copied to the other list THEN that list holds it and "Also in" shows it
    choices.select_option(label=target_name)
    section.get_by_role("button", name="Copy to list").click()
    expect(section.get_by_role("status")).to_have_text(f"Copied to {target_name}.")
    copies = api.get(f"/lists/{target}/leads")["items"]
    assert [(c["email"], c["company"], c["status"]) for c in copies] == [
        (email, "Navy", "contacted")]
    expect(section.get_by_role("link", name=target_name)).to_have_attribute(
        "href", f"#/lists/{target}?lead={copies[0]['id']}")
    people = api.get("/people", email=email)["items"]
    assert sorted(p["list_id"] for p in people) == sorted([source, target])
    expect(section.get_by_text("Not in any other list")).to_have_count(0)
    page.get_by_role("button", name="Dismiss").click()
    page.evaluate("window.scrollTo(0, 0)")
    section.evaluate("element => { element.parentElement.scrollTop = element.offsetTop - 80; }")
    shot(page, "lead-also-in")

    # WHEN it is copied there again THEN the duplicate is said, nothing is added
    section.get_by_role("button", name="Copy to list").click()
    status = section.get_by_role("status")
    expect(status).to_contain_text(
        f"Not copied: {target_name} already holds this person (same email)")
    expect(status.get_by_role("link", name="Open that lead")).to_have_attribute(
        "href", f"#/lists/{target}?lead={copies[0]['id']}")
    assert len(api.get(f"/lists/{target}/leads")["items"]) == 1

    # WHEN the person is suppressed THEN a copy is refused, and said so
    entry = api.post("/suppressions", {"email": email})
    try:
        choices.select_option(label=blocked_name)
        section.get_by_role("button", name="Copy to list").click()
        expect(status).to_contain_text("this person is on the suppression list")
        expect(status.get_by_role("link", name="See the suppressions")).to_be_visible()
        assert api.get(f"/lists/{blocked}/leads")["items"] == []
    finally:
        api.call("DELETE", f"/suppressions/{entry['id']}")
    assert not app_errors(console), console.errors

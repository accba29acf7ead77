"""The lead table in a browser: leads with their badges, search as you type, filters kept
in the URL, "select all N matching" with a bulk status change, add a lead, export CSV,
every value shown as text, and a phone-sized screen."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot

XSS = "<img src=x onerror=alert(1)>"


def make_list(api: Api, leads: list[dict[str, Any]], label: str = "Leads") -> str:
    """A fresh list holding `leads` (created through the batch endpoint)."""
    list_id = api.post("/lists", {"name": f"{label} {time.time_ns() % 100_000:05d}"})["id"]
    for start in range(0, len(leads), 500):
        batch = api.post(f"/lists/{list_id}/leads/batch", {"leads": leads[start:start + 500]})
        deadline = time.monotonic() + 30
        while batch.get("status") == "running" and time.monotonic() < deadline:
            time.sleep(0.3)
            batch = api.get(f"/lists/{list_id}/leads/batch/{batch['batch_id']}")
    return list_id


def all_leads(api: Api, list_id: str, **filters: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(f"/lists/{list_id}/leads", limit=200, cursor=cursor, **filters)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def open_list(page: Page, list_id: str, query: str = "") -> None:
    page.goto(page.url.split("#")[0] + f"#/lists/{list_id}{query}")
    expect(page.get_by_role("searchbox", name="Search leads")).to_be_visible()


def app_errors(console: Console) -> list[str]:
    """Console errors other than the browser's own note of an expected 4xx answer."""
    return [e for e in console.errors if not e.startswith("Failed to load resource")]


def rows(page: Page):
    return page.locator("table.leads tbody tr")


def test_table_shows_leads_with_badges_and_search_finds_part_of_a_company(
        page: Page, api: Api, console: Console):
    # GIVEN a list of three leads, one of them qualified and tagged
    list_id = make_list(api, [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example",
         "company": "Analytical Engines", "job_title": "Engineer", "phone": "+14155550101",
         "status": "qualified", "tags": ["vip"]},
        {"first_name": "Grace", "last_name": "Hopper", "email": "grace@initech.example",
         "company": "Initech Software", "job_title": "Admiral"},
        {"first_name": "Alan", "last_name": "Turing", "email": "alan@bletchley.example",
         "company": "Bletchley Park"},
    ], "Spring campaign")
    # WHEN the person opens it
    open_list(page, list_id)
    # THEN every lead shows with its status and verification badges, tags and the count
    expect(rows(page)).to_have_count(3)
    ada = page.locator("tr", has_text="Ada Lovelace")
    expect(ada.locator(".badge.status-qualified")).to_have_text("Qualified")
    expect(ada.locator(".badge[class*='email-']")).to_be_visible()
    expect(ada.locator(".tag")).to_have_text("vip")
    expect(ada).to_contain_text("Analytical Engines")
    expect(page.locator(".match-count")).to_have_text("3 leads")
    for name in ("Add lead", "Export CSV"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_attribute(
        "href", f"#/lists/{list_id}/import")
    expect(page.get_by_role("link", name="Past imports")).to_have_attribute(
        "href", f"#/lists/{list_id}/imports")
    shot(page, "lead-table")

    # WHEN they type part of a company name
    page.get_by_role("searchbox", name="Search leads").press_sequentially("Initec", delay=30)
    # THEN only that lead shows, and the search is in the URL so a reload keeps it
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Grace Hopper")
    expect(page.locator(".match-count")).to_have_text("1 lead matches")
    expect(page).to_have_url(re.compile(r"\?q=Initec$"))
    page.reload()
    expect(page.get_by_role("searchbox", name="Search leads")).to_have_value("Initec")
    expect(rows(page)).to_have_count(1)

    # WHEN a search matches nothing THEN the empty state says what to do
    page.get_by_role("searchbox", name="Search leads").fill("zzzznothing")
    expect(page.get_by_text("No lead matches; clear the filters")).to_be_visible()
    page.get_by_role("button", name="Clear the filters").click()
    expect(rows(page)).to_have_count(3)
    assert not console.errors, console.errors


# Answers to a search for "A" come 1.5 s late, after the answer to the newer "Ada".
SLOW_SEARCH = """
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  if (new URL(String(args[0])).searchParams.get("q") === "A") {
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return response;
};
"""


def test_an_older_slower_search_answer_never_replaces_a_newer_one(page: Page, api: Api):
    list_id = make_list(api, [
        {"first_name": "Ada", "email": "ada@order.example"},
        {"first_name": "Alan", "email": "alan@order.example"},
        {"first_name": "Grace", "email": "grace@order.example"}], "Order")
    page.add_init_script(SLOW_SEARCH)
    open_list(page, list_id)
    page.reload()  # the script runs in a new document (the token stays in the session)
    assert "realFetch" in page.evaluate("window.fetch.toString()")
    box = page.get_by_role("searchbox", name="Search leads")
    box.press_sequentially("A")
    page.wait_for_timeout(400)  # the search for "A" is sent (and held back)
    box.press_sequentially("da")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Ada")
    page.wait_for_timeout(2000)  # the late answer for "A" arrives: it must not show
    expect(rows(page)).to_have_count(1)
    expect(page.locator(".match-count")).to_have_text("1 lead matches")


def test_an_empty_list_says_to_import_or_add_a_lead(page: Page, api: Api):
    list_id = api.post("/lists", {"name": f"Empty {time.time_ns()}"})["id"]
    open_list(page, list_id)
    expect(page.get_by_text("Import a file or add a lead")).to_be_visible()
    expect(page.get_by_role("link", name="Import a file")).to_be_visible()


def test_select_all_matching_sets_the_status_of_every_matching_lead_on_every_page(
        page: Page, api: Api, console: Console):
    # GIVEN 65 leads tagged "hot" (two pages of 50) and 10 tagged "cold"
    leads = [{"first_name": f"Hot{i}", "email": f"hot{i}@bulk.example", "company": "Hot Co",
              "tags": ["hot"]} for i in range(65)]
    leads += [{"first_name": f"Cold{i}", "email": f"cold{i}@bulk.example", "company": "Cold Co",
               "tags": ["cold"]} for i in range(10)]
    list_id = make_list(api, leads, "Bulk")
    open_list(page, list_id)
    expect(page.locator(".match-count")).to_have_text("75 leads")
    # WHEN the person filters on the tag, selects this page then all matching
    page.get_by_label("Tag", exact=True).fill("hot")
    expect(page.locator(".match-count")).to_have_text("65 leads match")
    expect(rows(page)).to_have_count(50)
    expect(page).to_have_url(re.compile(r"\?tag=hot$"))
    page.get_by_role("checkbox", name="Select all on this page").check()
    expect(page.get_by_text("50 selected")).to_be_visible()
    page.get_by_role("button", name="Select all 65 matching").click()
    expect(page.get_by_text("65 selected")).to_be_visible()
    # AND sets their status
    page.get_by_label("New status for the selected leads").select_option("qualified")
    page.get_by_role("button", name="Set status").click()
    # THEN every matching lead changed (the second page too), and no other
    expect(page.get_by_text("65 leads updated")).to_be_visible()
    everyone = all_leads(api, list_id)
    assert len(everyone) == 75
    for lead in everyone:
        expected = "qualified" if "hot" in lead["tags"] else "new"
        assert lead["status"] == expected, lead
    # and the table, refreshed, shows it
    expect(rows(page).first.locator(".badge.status-qualified")).to_be_visible()
    # pages: Next then Previous
    page.get_by_role("button", name="Next").click()
    expect(rows(page)).to_have_count(15)
    page.get_by_role("button", name="Previous").click()
    expect(rows(page)).to_have_count(50)
    assert not console.errors, console.errors


def test_a_filterable_custom_field_is_a_filter_too(page: Page, api: Api):
    # GIVEN a list whose "tier" custom field is filterable (ready at once on an empty list)
    list_id = api.post("/lists", {"name": f"Tiers {time.time_ns() % 100_000:05d}"})["id"]
    api.call("PATCH", f"/lists/{list_id}", {"filterable_fields": [{"key": "tier", "type": "text"}]})
    batch = api.post(f"/lists/{list_id}/leads/batch", {"leads": [
        {"first_name": f"T{i}", "email": f"t{i}@tier.example",
         "custom_fields": {"tier": "gold" if i < 2 else "silver"}} for i in range(5)]})
    deadline = time.monotonic() + 30  # a loaded machine may finish the batch in the background
    while batch.get("status") == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
        batch = api.get(f"/lists/{list_id}/leads/batch/{batch['batch_id']}")
    assert [f["status"] for f in api.get(f"/lists/{list_id}")["filterable_fields"]] == ["ready"]
    open_list(page, list_id)
    page.get_by_label("Tier", exact=True).fill("gold")
    expect(page.locator(".match-count")).to_have_text("2 leads match")
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"\?cf\.tier=gold$"))


def test_bulk_tags_and_delete_on_selected_rows(page: Page, api: Api):
    list_id = make_list(api, [{"first_name": f"Row{i}", "email": f"row{i}@tags.example"}
                              for i in range(4)], "Tags")
    open_list(page, list_id)
    page.get_by_role("checkbox", name="Select Row1").check()
    page.get_by_role("checkbox", name="Select Row2").check()
    page.get_by_label("Tags (comma-separated)").fill("event, 2026")
    page.get_by_role("button", name="Add tags").click()
    expect(page.get_by_text("2 leads updated")).to_be_visible()
    tagged = {lead["first_name"]: lead["tags"] for lead in all_leads(api, list_id)}
    assert tagged == {"Row0": [], "Row1": ["event", "2026"], "Row2": ["event", "2026"],
                      "Row3": []}
    page.get_by_role("checkbox", name="Select Row3").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete leads").click()
    expect(page.get_by_text("1 lead deleted")).to_be_visible()
    expect(rows(page)).to_have_count(3)
    assert sorted(lead["first_name"] for lead in all_leads(api, list_id)) == [
        "Row0", "Row1", "Row2"]


def test_add_lead_shows_the_api_error_at_the_field_then_adds_it(page: Page, api: Api,
                                                                  console: Console):
    list_id = make_list(api, [{"first_name": "Existing", "email": "taken@add.example"}], "Add")
    open_list(page, list_id)
    page.get_by_role("button", name="Add lead").click()
    dialog = page.get_by_role("dialog", name="Add a lead")
    dialog.get_by_label("First name").fill("Katherine")
    dialog.get_by_label("Last name").fill("Johnson")
    dialog.get_by_label("Email").fill("katherine@@nasa")
    dialog.get_by_label("Company").fill("NASA")
    dialog.get_by_role("button", name="Add lead").click()
    # THEN the API's error shows at the email field, which is marked invalid
    email = dialog.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    described = email.get_attribute("aria-describedby")
    expect(dialog.locator(f"#{described}")).to_be_visible()
    # WHEN the email is taken THEN the dialog says which lead exists
    email.fill("taken@add.example")
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog.get_by_text("already exists")).to_be_visible()
    expect(dialog.get_by_role("button", name="Open the existing lead")).to_be_visible()
    # WHEN it is fixed THEN the lead is added and shows in the table
    email.fill("katherine@nasa.example")
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("tr", has_text="Katherine Johnson")).to_contain_text("NASA")
    added = [lead for lead in all_leads(api, list_id) if lead["email"] == "katherine@nasa.example"]
    assert len(added) == 1 and added[0]["company"] == "NASA"
    assert not app_errors(console), console.errors


def test_export_csv_downloads_the_leads_matching_the_filter(page: Page, api: Api):
    leads = [{"first_name": f"Exp{i}", "email": f"exp{i}@export.example",
              "status": "contacted" if i % 2 else "new"} for i in range(6)]
    list_id = make_list(api, leads, "Export")
    open_list(page, list_id, "?status=contacted")
    expect(page.get_by_label("Status", exact=True)).to_have_value("contacted")
    expect(rows(page)).to_have_count(3)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Export CSV").click()
    path = info.value.path()
    with open(path, encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(io.StringIO(handle.read())))
    assert sorted(row["email"] for row in exported) == [
        "exp1@export.example", "exp3@export.example", "exp5@export.example"]
    assert {row["status"] for row in exported} == {"contacted"}


def test_a_lead_named_like_html_shows_as_text(page: Page, api: Api, console: Console):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    list_id = make_list(api, [{"first_name": XSS, "email": "xss@safe.example", "company": XSS,
                               "tags": [XSS]}], "XSS")
    open_list(page, list_id)
    row = rows(page).first
    expect(row.get_by_role("rowheader")).to_have_text(XSS)
    expect(row.locator(".tag")).to_have_text(XSS)
    row.click()
    expect(page.get_by_role("complementary", name="Lead details").get_by_role(
        "heading", level=2)).to_have_text(XSS)
    assert page.locator("main img").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    assert not console.errors, console.errors


def test_phone_sized_screen_shows_the_table_and_the_panel_covers_it(page: Page, api: Api,
                                                                      console: Console):
    list_id = make_list(api, [{"first_name": "Small", "last_name": "Screen",
                               "email": "small@phone.example", "company": "Pocket"}], "Phone")
    page.set_viewport_size({"width": 390, "height": 844})
    open_list(page, list_id)
    expect(page.get_by_role("button", name="Add lead")).to_be_visible()
    row = page.locator("tr", has_text="Small Screen")
    expect(row).to_be_visible()
    # nothing wider than the screen but the table's own scroller
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row.click()
    panel = page.get_by_role("complementary", name="Lead details")
    expect(panel.get_by_role("button", name="Save")).to_be_visible()
    box = panel.bounding_box()
    assert box and box["width"] >= 385 and box["x"] <= 1
    shot(page, "lead-panel-phone")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(row).to_be_focused()
    assert not console.errors, console.errors

"""The lead panel in a browser: opens from a row (click or Enter), edits every field in place
with the API's per-field errors at the field, sends only what changed, status and tags at
once, notes and the activity timeline newest first; Esc closes it and focus goes back."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_table import app_errors, make_list, open_list


def panel_of(page: Page):
    return page.get_by_role("complementary", name="Lead details")


def one_lead_list(api: Api) -> tuple[str, str]:
    list_id = make_list(api, [{
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example",
        "emails": ["countess@analytical.example"], "company": "Analytical Engines",
        "job_title": "Engineer", "location": "London", "tags": ["vip"],
        "custom_fields": {"tier": "gold", "seats": 12},
    }, {"first_name": "Charles", "last_name": "Babbage", "email": "charles@analytical.example",
        "company": "Analytical Engines"}], "Panel")
    lead_id = next(lead["id"] for lead in api.get(f"/lists/{list_id}/leads")["items"]
                   if lead["first_name"] == "Ada")
    return list_id, lead_id


def test_panel_edit_shows_the_error_at_the_field_then_saves_only_what_changed(
        page: Page, api: Api, console: Console):
    list_id, lead_id = one_lead_list(api)
    open_list(page, list_id)
    # WHEN the person clicks the row
    page.locator("tr", has_text="Ada Lovelace").click()
    panel = panel_of(page)
    expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?lead={lead_id}$"))
    expect(panel.get_by_label("Company")).to_have_value("Analytical Engines")
    expect(panel.get_by_label("tier")).to_have_value("gold")
    expect(panel.get_by_label("Other emails (one a line)")).to_have_value(
        "countess@analytical.example")

    # WHEN an edit is wrong THEN the API's message shows at that field, nothing is saved
    panel.get_by_label("Email", exact=True).fill("ada@@analytical")
    panel.get_by_label("Company").fill("Babbage & Co")
    panel.get_by_role("button", name="Save", exact=True).click()
    email = panel.get_by_label("Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    message = panel.locator(f"#{email.get_attribute('aria-describedby')}")
    expect(message).to_be_visible()
    expect(message).not_to_be_empty()
    assert api.get(f"/lists/{list_id}/leads/{lead_id}")["company"] == "Analytical Engines"

    # WHEN it is fixed (and a custom field, an alternate email changed) THEN it is saved
    email.fill("ada.lovelace@analytical.example")
    panel.get_by_label("tier").fill("platinum")
    panel.get_by_label("Other emails (one a line)").fill(
        "countess@analytical.example\nada@engines.example")
    panel.get_by_label("New custom field name").fill("region")
    panel.get_by_label("New custom field value").fill("EMEA")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Lead saved.")).to_be_visible()
    expect(email).not_to_have_attribute("aria-invalid", "true")
    saved = api.get(f"/lists/{list_id}/leads/{lead_id}")
    assert saved["email"] == "ada.lovelace@analytical.example"
    assert saved["company"] == "Babbage & Co"
    assert saved["emails"] == ["countess@analytical.example", "ada@engines.example"]
    # the untouched custom field kept its type (a number)
    assert saved["custom_fields"] == {"tier": "platinum", "seats": 12, "region": "EMEA"}
    assert saved["location"] == "London" and saved["tags"] == ["vip"]
    # the table row and the timeline follow
    expect(page.locator("tr", has_text="Ada Lovelace")).to_contain_text("Babbage & Co")
    # (the new email's verdict may come in first, above the edit)
    expect(panel.locator(".timeline li.activity-edited").first).to_contain_text("Babbage & Co")
    page.evaluate("window.scrollTo(0, 0)")
    panel.evaluate("element => { element.scrollTop = 0; }")
    shot(page, "lead-panel")
    assert not app_errors(console), console.errors


def test_status_tags_and_notes_apply_at_once_and_the_timeline_is_newest_first(
        page: Page, api: Api, console: Console):
    list_id, lead_id = one_lead_list(api)
    open_list(page, list_id, f"?lead={lead_id}")
    panel = panel_of(page)
    expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    panel.get_by_label("Status", exact=True).select_option("contacted")
    expect(page.get_by_text("Status saved.")).to_be_visible()
    assert api.get(f"/lists/{list_id}/leads/{lead_id}")["status"] == "contacted"
    expect(page.locator("tr", has_text="Ada Lovelace").locator(".status-contacted")).to_be_visible()

    panel.get_by_label("Add a tag").fill("warm")
    panel.get_by_role("button", name="Add tag").click()
    expect(panel.locator(".tags .tag", has_text="warm")).to_be_visible()
    assert api.get(f"/lists/{list_id}/leads/{lead_id}")["tags"] == ["vip", "warm"]
    panel.get_by_role("button", name="Remove tag vip").click()
    expect(panel.locator(".tags .tag", has_text="vip")).to_have_count(0)
    assert api.get(f"/lists/{list_id}/leads/{lead_id}")["tags"] == ["warm"]

    panel.get_by_label("New note").fill("Called; call back on Monday")
    panel.get_by_role("button", name="Add note").click()
    first = panel.locator(".timeline li").first
    expect(first).to_contain_text("Called; call back on Monday")
    activity = api.get(f"/lists/{list_id}/leads/{lead_id}/activity")["items"]
    assert activity[0]["type"] == "note_added"
    kinds = [item["type"] for item in activity]
    assert kinds.index("tags_changed") < kinds.index("status_changed") < kinds.index("created")
    assert not app_errors(console), console.errors


def test_enter_opens_the_panel_and_esc_closes_it_returning_focus_to_the_row(
        page: Page, api: Api, console: Console):
    list_id, lead_id = one_lead_list(api)
    open_list(page, list_id)
    row = page.locator("tr", has_text="Ada Lovelace")
    row.focus()
    page.keyboard.press("Enter")
    panel = panel_of(page)
    expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"\?lead={lead_id}$"))
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(row).to_be_focused()
    expect(page).not_to_have_url(re.compile("lead="))
    # Tab goes on to the row's checkbox; another row opens with Enter too
    page.keyboard.press("Tab")
    expect(page.get_by_role("checkbox", name="Select Ada Lovelace")).to_be_focused()
    page.locator("tr", has_text="Charles Babbage").focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("heading", name="Charles Babbage")).to_be_visible()
    # the close button does the same as Esc
    panel.get_by_role("button", name="Close lead panel").click()
    expect(panel).to_be_hidden()
    assert not app_errors(console), console.errors

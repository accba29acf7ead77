"""Connected sources in a browser, against the real local stack and its sandboxes: connect
HubSpot through its consent page, create a sync and run it, see its runs; import a Google
Sheet through the wizard; connect with a token and disconnect."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_import_wizard import go, wait_for_mapping
from tools.sandboxes import credentials as c

pytestmark = pytest.mark.timeout(300)


def connect_by_consent(page: Page, provider: str) -> None:
    """Press Connect, allow on the provider's (sandbox) consent page; back in the app."""
    page.get_by_role("button", name=f"Connect {provider}", exact=True).click()
    # the tab is on the provider's page now, then the callback sends it back
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(r"/app/#/sources$"))
    expect(page.locator(".toast").filter(has_text=f"{provider} connected")).to_be_visible()
    # still signed in: the token stayed in this tab's session storage
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_refused_consent_comes_back_with_what_to_do(page: Page, api: Api):
    go(page, "#/sources")
    before = len(api.get("/connections")["items"])
    page.get_by_role("button", name="Connect HubSpot", exact=True).click()
    page.get_by_role("button", name="Deny").click()
    expect(page.locator(".toast.error")).to_contain_text("HubSpot was not allowed")
    assert len(api.get("/connections")["items"]) == before


def test_connect_hubspot_then_create_and_run_a_sync(page: Page, api: Api, console: Console):
    list_id = api.post("/lists", {"name": f"From HubSpot {time.time_ns()}"})["id"]
    go(page, "#/sources")
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    # WHEN the person connects HubSpot and allows it on HubSpot's consent page
    connect_by_consent(page, "HubSpot")
    # THEN the connection shows, active
    connections = page.get_by_role("table", name="Connections")
    row = connections.get_by_role("row").filter(has_text="HubSpot").last
    expect(row).to_contain_text("Active")
    hubspot = [x for x in api.get("/connections")["items"] if x["provider"] == "hubspot"]
    assert hubspot and hubspot[-1]["status"] == "active"
    # WHEN a sync is created for a list and run now
    page.get_by_label("List", exact=True).select_option(list_id)
    expect(page.get_by_text("No syncs for this list")).to_be_visible()
    page.get_by_label("Connection", exact=True).select_option(hubspot[-1]["id"])
    page.get_by_label("How often").select_option("rate(1 day)")
    page.get_by_role("button", name="Create sync").click()
    sync_row = page.get_by_role("table", name="Syncs of the list").get_by_role("row").filter(
        has_text="HubSpot contacts")
    expect(sync_row).to_contain_text("Every day")
    sync_row.get_by_role("button", name="Run HubSpot contacts now").click()
    # THEN the run completes and its outcome shows, as the API says
    expect(sync_row).to_contain_text("Completed", timeout=90_000)
    sync = api.get(f"/lists/{list_id}/syncs")["items"][0]
    assert sync["schedule"] == "rate(1 day)" and sync["last_run"]["status"] == "completed"
    expect(sync_row).to_contain_text(f"{sync['last_run']['counts']['saved']} saved")
    sync_row.get_by_role("button", name="Past runs of HubSpot contacts").click()
    expect(page.get_by_role("table", name="Past runs")).to_contain_text("Completed")
    shot(page, "sources")
    assert api.get(f"/lists/{list_id}")["lead_count"] > 0
    # at a phone's width nothing spills sideways (wide tables scroll in their frame)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(sync_row.get_by_role("button", name="Run HubSpot contacts now")).to_be_attached()
    shot(page, "sources-phone")
    assert not console.errors, console.errors


def test_import_a_google_sheet_through_the_wizard(page: Page, api: Api):
    list_name = f"From a sheet {time.time_ns()}"
    list_id = api.post("/lists", {"name": list_name})["id"]
    go(page, "#/sources")
    connect_by_consent(page, "Google Sheets")
    expect(page.get_by_label("Google connection")).to_be_visible()
    page.get_by_label("Into list").select_option(list_id)
    page.get_by_label("Spreadsheet URL or ID").fill(
        f"https://docs.google.com/spreadsheets/d/{c.SAMPLE_SPREADSHEET_ID}/edit")
    page.get_by_role("button", name="Import the sheet").click()
    # the wizard takes over at the mapping once the sheet is read
    wait_for_mapping(page)
    for _ in range(3):
        page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=60_000)
    assert api.get(f"/lists/{list_id}")["lead_count"] > 0


def test_connect_with_a_token_and_disconnect(page: Page, api: Api):
    go(page, "#/sources")
    page.get_by_role("button", name="Connect Salesforce with a token").click()
    page.get_by_label("Connection name").fill("Sales org")
    page.get_by_label("Token type").select_option("refresh_token")
    page.get_by_label("Token", exact=True).fill(c.SALESFORCE_REFRESH_TOKEN)
    page.get_by_role("button", name="Connect", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Sales org")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Disconnect Sales org").click()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Sales org")).to_have_count(0)
    assert "Sales org" not in {x["name"] for x in api.get("/connections")["items"]}
    # a wrong token is refused with the provider's reason, and nothing is stored
    page.get_by_role("button", name="Connect HubSpot with a token").click()
    page.get_by_label("Token type").select_option("refresh_token")
    page.get_by_label("Token", exact=True).fill("not-a-real-token")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator(".toast.error")).to_be_visible()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    assert re.search("#/sources", page.url)

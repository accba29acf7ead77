"""Issue 13's "done when", as a newcomer does it in one sitting, by clicks only.

Opened by the printed link: import the demo file through the wizard into a new
list, find a lead by typing part of a company name, edit it in the panel, set
the status of every lead matching a filter in one action, download the error
report. Every outcome is checked against the public API.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_table import all_leads, app_errors, rows
from tests.e2e.test_local_stack import ROOT

DEMO = ROOT / "samples" / "demo-leads.csv"


def test_a_newcomer_imports_finds_edits_sets_a_status_for_all_matching_and_gets_the_report(
        page: Page, api: Api, console: Console):
    name = f"My first list {time.time_ns() % 100_000:05d}"
    # The wizard, from the Lists screen: a new list, the demo file
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("button", name="Create a new list").click()
    page.get_by_label("List name").fill(name)
    page.get_by_role("button", name="Create list").click()
    page.get_by_label("Choose a file to import").set_input_files(str(DEMO))
    expect(page.get_by_role("heading", name=re.compile("Match your columns"))).to_be_visible(
        timeout=60_000)
    expect(page.get_by_label("Map column E-mail")).to_have_value("email")
    expect(page.get_by_label("Map column Société")).to_have_value("company")
    page.get_by_role("button", name="Next").click()  # the preview
    expect(page.get_by_role("region", name="Validation summary")).to_be_visible()
    page.get_by_role("button", name="Next").click()  # the mode (skip)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=120_000)
    list_id = next(lst["id"] for lst in api.get("/lists", limit=200)["items"]
                   if lst["name"] == name)
    job = api.get(f"/lists/{list_id}/imports")["items"][0]
    assert job["status"] in ("completed", "completed_with_errors")
    assert job["counts"]["saved"] > 100 and job["counts"]["invalid"] > 0

    # The error report, from the summary
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download error report").click()
    report = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert report.count("\n") >= job["counts"]["invalid"] + job["counts"]["duplicates"]
    # the verdicts come in while the person watches
    expect(page.locator("[data-key=pending] strong")).to_have_text("0", timeout=120_000)

    # Find a lead by part of a company name
    page.get_by_role("link", name="Open the list's leads").click()
    page.get_by_role("searchbox", name="Search leads").fill("vandel")
    expect(rows(page).first).to_contain_text("Vandelay Industries")
    expected = len(all_leads(api, list_id, q="vandel"))
    expect(rows(page)).to_have_count(expected)

    # Edit it in the panel
    rows(page).first.click()
    panel = page.get_by_role("complementary", name="Lead details")
    panel.get_by_label("Job title").fill("Head of Imports")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".toast").filter(has_text="saved")).to_be_visible()
    assert [lead["job_title"] for lead in all_leads(api, list_id, q="vandel")].count(
        "Head of Imports") == 1
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)

    # Every lead with a valid email: contacted, in one action over every page
    page.get_by_role("searchbox", name="Search leads").fill("")
    page.get_by_label("Email status").select_option("valid")
    valid = len(all_leads(api, list_id, email_status="valid"))
    assert valid > 50  # more than one page
    expect(page.locator(".match-count")).to_have_text(f"{valid} leads match")
    page.get_by_role("checkbox", name="Select all on this page").check()
    page.get_by_role("button", name=f"Select all {valid} matching").click()
    page.get_by_label("New status for the selected leads").select_option("contacted")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_text(f"{valid} leads updated")).to_be_visible()
    everyone = all_leads(api, list_id)
    assert {lead["status"] for lead in everyone if lead["email_status"] == "valid"} == {
        "contacted"}
    # and no other lead (verification may have marked some "invalid" itself)
    assert "contacted" not in {lead["status"] for lead in everyone
                               if lead["email_status"] != "valid"}
    shot(page, "newcomer-done")
    assert not app_errors(console), console.errors

"""The import wizard in a browser, against the real local stack: pick a list, upload a file
straight to the file store, adjust the mapping, check the preview, choose the mode, start,
watch the progress, read the summary, download the error report; past imports."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot

CSV = (
    "First Name,Last Name,E-mail,Phone,Company,Favourite colour\n"
    "Ada,Lovelace,ada@example.com,+44 20 7946 0018,Analytical Engines,blue\n"
    "Grace,Hopper,grace@example.com,12,US Navy,green\n"       # bad phone: saved with a warning
    "Bad,Row,not-an-email,,Acme,red\n"                        # rejected: invalid email
    "No,Email,,+1 415 555 0134,Acme,\n"                       # rejected: no identity
    "Alan,Turing,alan@example.com,,Bletchley Park,purple\n"
    "Ada,Again,ada@example.com,,Elsewhere,\n"                 # duplicate in the file
)


def new_list(api: Api, name: str) -> str:
    return str(api.post("/lists", {"name": f"{name} {time.time_ns()}"})["id"])


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def go(page: Page, hash_path: str) -> None:
    """Open a screen of the app as a link would (the router follows the fragment)."""
    # Once the screen on show has loaded: the router does not cancel a render under way.
    expect(page.locator("#main > .loading")).to_have_count(0)
    page.evaluate("(hash) => { location.hash = hash; }", hash_path)


def choose(page: Page, path: Path) -> None:
    page.get_by_label("Choose a file to import").set_input_files(str(path))


def wait_for_mapping(page: Page) -> None:
    heading = page.get_by_role("heading", name=re.compile("Match your columns"))
    expect(heading).to_be_visible(timeout=30_000)


def test_a_full_import_through_the_wizard(page: Page, api: Api, tmp_path: Path, console: Console):
    # GIVEN a list and a small CSV with a few bad rows
    list_id = new_list(api, "Wizard")
    go(page, f"#/lists/{list_id}/import")
    expect(page.get_by_role("navigation", name="Import steps")).to_contain_text("Mapping")
    # WHEN the person chooses the file
    choose(page, write(tmp_path, "people.csv", CSV))
    # THEN it is uploaded and analysed, and the mapping step shows what was detected
    wait_for_mapping(page)
    body = page.locator(".wizard-body")
    expect(body.locator(".detected")).to_contain_text("CSV")
    expect(body.locator(".detected")).to_contain_text("utf-8")
    expect(body.locator(".detected")).to_contain_text("Comma")
    expect(page.get_by_label("Map column E-mail")).to_have_value("email")
    company = page.get_by_role("row", name=re.compile("^Company")).first
    expect(company).to_contain_text("Analytical Engines")
    shot(page, "wizard-mapping")
    # WHEN one column's mapping changes
    page.get_by_label("Map column Favourite colour").select_option("notes")
    page.get_by_role("button", name="Next").click()
    # THEN the preview shows the rows with their problems in the cell they concern
    expect(page.get_by_role("heading", name=re.compile("Check the first rows"))).to_be_visible()
    bad_email = body.locator("td.cell-error", has_text="not-an-email")
    expect(bad_email).to_contain_text("@-sign")
    expect(body.locator("td.cell-warning").first).to_contain_text("12")
    expect(body.locator("td.cell-warning").first).to_contain_text("Warning")
    repeat = body.get_by_role("row", name=re.compile("^7 ")).first
    expect(repeat).to_contain_text("Duplicate of row 2")
    expect(page.get_by_role("region", name="Validation summary")).to_contain_text("Invalid")
    expect(body.locator(".notice")).to_contain_text("Favourite colour")
    # AND the preview was made with the changed mapping: the colour shows as the notes
    preview = page.get_by_role("table", name="Preview of the first rows")
    expect(preview.get_by_role("columnheader", name=re.compile("^Notes"))).to_be_visible()
    expect(preview.get_by_role("row", name=re.compile("^2 "))).to_contain_text("blue")
    shot(page, "wizard-preview")
    page.get_by_role("button", name="Next").click()
    # WHEN the mode is chosen and the import started
    page.get_by_label("Fill empty fields").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Start import").click()
    # THEN the progress runs to the summary, whose counts are the API's
    expect(page.get_by_role("progressbar", name="Import progress")).to_be_visible()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=60_000)
    job = api.get(f"/imports/{api.get(f'/lists/{list_id}/imports')['items'][0]['id']}")
    assert job["status"] == "completed" and job["mode"] == "fill_empty"
    assert job["mapping"]["Favourite colour"] == "notes"
    for key, value in job["counts"].items():
        expect(body.locator(f"[data-count={key}] strong")).to_have_text(str(value))
    assert job["counts"]["saved"] == 3 and job["counts"]["invalid"] == 2
    # AND the verification breakdown fills in
    expect(body.get_by_role("heading", name="Email verification")).to_be_visible(timeout=60_000)
    expect(body.locator("[data-key=pending] strong")).to_have_text("0")
    shot(page, "wizard-summary")
    # AND the error report lists the bad rows
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download error report").click()
    download = download_info.value
    assert download.suggested_filename == f"{job['id']}-errors.csv"
    report = Path(download.path()).read_text(encoding="utf-8")
    for expected in ("not-an-email", "missing_identity", "duplicate_in_file"):
        assert expected in report, report
    # AND the list's lead table is one click away
    expect(page.get_by_role("link", name="Open the list's leads")).to_have_attribute(
        "href", f"#/lists/{list_id}")
    leads = api.get(f"/lists/{list_id}/leads", limit=50)["items"]
    assert {lead["notes"] for lead in leads if lead["email"] == "ada@example.com"} == {"blue"}
    assert not console.errors, console.errors


def test_drag_and_drop_and_the_identity_must_be_mapped(page: Page, api: Api):
    list_id = new_list(api, "Drop")
    go(page, f"#/lists/{list_id}/import")
    # WHEN a file is dropped on the drop zone
    page.locator(".drop-zone").wait_for()
    page.evaluate("""(text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
        const zone = document.querySelector(".drop-zone");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                    cancelable: true}));
        }
    }""", CSV)
    wait_for_mapping(page)
    expect(page.locator(".wizard-context")).to_contain_text("dropped.csv")
    # WHEN the identity column is ignored
    page.get_by_label("Map column E-mail").select_option("")
    # THEN Next is blocked and the message says what to do
    expect(page.get_by_role("alert").filter(has_text="Map a column to Email")).to_be_visible()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    # AND two columns on one field are refused too, until fixed
    page.get_by_label("Map column E-mail").select_option("email")
    page.get_by_label("Map column Company").select_option("last_name")
    expect(page.get_by_role("alert").filter(has_text="which takes one column")).to_be_visible()
    page.get_by_label("Map column Company").select_option("company")
    expect(page.get_by_role("button", name="Next")).to_be_enabled()
    # AND at a phone's width the mapping still fits: every dropdown and Next reachable
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Map column Favourite colour").scroll_into_view_if_needed()
    expect(page.get_by_label("Map column Favourite colour")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Next")).to_be_visible()
    shot(page, "wizard-mapping-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # AND the CSV template downloads (the route needs the token: fetched, then saved)
    page.get_by_role("button", name="Back").click()
    with page.expect_download() as template:
        page.get_by_role("button", name="Download CSV template").click()
    assert template.value.suggested_filename == "leadpipe-template.csv"
    assert "email" in Path(template.value.path()).read_text(encoding="utf-8").splitlines()[0]


def test_a_file_that_is_not_a_table_shows_the_apis_error(page: Page, api: Api, tmp_path: Path):
    list_id = new_list(api, "Garbage")
    go(page, f"#/lists/{list_id}/import")
    garbage = write(tmp_path, "garbage.csv", bytes(range(256)) * 40)
    page.get_by_label("Choose a file to import").set_input_files(str(garbage))
    problem = page.get_by_role("alert").filter(has_text="cannot be imported")
    expect(problem).to_be_visible(timeout=30_000)
    job = api.get(f"/lists/{list_id}/imports")["items"][0]
    assert job["status"] == "failed"
    expect(problem).to_contain_text(job["error"]["message"])
    # a wrong kind of file is refused before any upload
    choose(page, write(tmp_path, "notes.pdf", "%PDF-1.4"))
    refused = page.get_by_role("alert").filter(has_text="cannot be imported")
    expect(refused).to_contain_text("Unsupported file type")
    expect(refused).to_contain_text("Supported files: .csv")


def test_the_wizard_starts_by_picking_or_creating_a_list(page: Page, api: Api):
    name = f"Created in the wizard {time.time_ns()}"
    go(page, "#/import")
    page.get_by_role("button", name="Create a new list").click()
    page.get_by_label("List name").fill(name)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name=re.compile("Choose the file"))).to_be_visible()
    expect(page.locator(".wizard-context")).to_contain_text(name)
    # and back: the list is in the picker
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("List", exact=True)).to_contain_text(name)


def test_past_imports_of_a_list(page: Page, api: Api, tmp_path: Path):
    list_id = new_list(api, "History")
    go(page, f"#/lists/{list_id}/imports")
    expect(page.get_by_text("No imports into this list yet")).to_be_visible()
    page.get_by_role("link", name="Import a file").first.click()
    choose(page, write(tmp_path, "history.csv", CSV))
    wait_for_mapping(page)
    # the steps work from the keyboard: Enter on the focused Next
    for _ in range(3):
        page.get_by_role("button", name="Next").focus()
        page.keyboard.press("Enter")
    # a double click starts the import once (the button is busy meanwhile)
    page.get_by_role("button", name="Start import").dblclick()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("alert").filter(has_text="did not start")).to_have_count(0)
    page.get_by_role("link", name="Past imports of this list").click()
    row = page.get_by_role("row", name=re.compile("history.csv"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Completed")
    job = api.get(f"/lists/{list_id}/imports")["items"][0]
    expect(row.locator("[data-count=saved]")).to_have_text(str(job["counts"]["saved"]))
    expect(row.get_by_role("button", name=re.compile("Download error report"))).to_be_visible()
    shot(page, "imports")
    row.get_by_role("link", name=re.compile("Summary")).click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("[data-count=saved] strong")).to_have_text(str(job["counts"]["saved"]))

"""Issue 11's walkthrough on the real local stack (`make run`) with its sandboxes.

A newcomer connects HubSpot and Salesforce, imports a Google Sheet, creates a
1-minute sync, edits a contact in the sandbox CRM and sees the lead change
without pressing anything, then sets a lead's status and sees it in the CRM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.e2e.test_local_stack import Stack, started_stack
from tools.sandboxes import credentials as c

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with started_stack("e2e-connected-sources.log") as running:
        yield running


def until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


def test_connect_import_a_sheet_sync_every_minute_and_write_statuses_back(stack: Stack):
    h = stack.headers()
    api = stack.url
    hubspot = f"http://127.0.0.1:{stack.env['LEADPIPE_HUBSPOT_SANDBOX_PORT']}"
    crm = {"Authorization": f"Bearer {c.HUBSPOT_PRIVATE_APP_TOKEN}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(api + path, json=body, headers=h, timeout=30)
        assert response.status_code in (200, 201, 202), (path, response.text)
        return response.json()  # type: ignore[no-any-return]

    def get(path: str) -> dict[str, Any]:
        return requests.get(api + path, headers=h, timeout=30).json()  # type: ignore[no-any-return]

    # Connect HubSpot (private app token) and Salesforce (refresh token)
    hs = post("/connections", {"provider": "hubspot", "access_token": c.HUBSPOT_PRIVATE_APP_TOKEN})
    sf = post("/connections", {"provider": "salesforce",
                               "refresh_token": c.SALESFORCE_REFRESH_TOKEN})
    assert hs["status"] == sf["status"] == "active" and sf["instance_url"].startswith("http://")
    # Import the sample Google Sheet
    sheet_list = post("/lists", {"name": "From the sheet"})["id"]
    job = post(f"/lists/{sheet_list}/imports", {
        "source": "google_sheets", "spreadsheet_id": c.SAMPLE_SPREADSHEET_ID,
        "access_token": c.GOOGLE_ACCESS_TOKEN, "auto_start": True})
    done = until(lambda: (j := get(f"/imports/{job['id']}"))["status"] in (
        "completed", "completed_with_errors", "failed") and j, 120, "the sheet import")
    assert done["status"] == "completed" and done["counts"]["saved"] > 0, done
    # A 1-minute HubSpot sync that writes statuses back
    lid = post("/lists", {"name": "HubSpot contacts"})["id"]
    sync = post(f"/lists/{lid}/syncs", {"connection_id": hs["id"],
                                        "schedule": "rate(1 minute)",
                                        "write_back_status": True})
    first = until(lambda: (s := get(f"/syncs/{sync['id']}"))["last_run"] and
                  s["last_run"]["status"] == "completed" and s, 200,
                  "the dispatcher's first run")
    assert first["bookmark"]
    leads = get(f"/lists/{lid}/leads?limit=200")["items"]
    assert leads
    lead = next(item for item in leads if item.get("company"))
    contact_id = lead["custom_fields"]["hubspot_id"]
    # Someone edits the contact in HubSpot
    edited = requests.patch(f"{hubspot}/crm/v3/objects/contacts/{contact_id}", headers=crm,
                            json={"properties": {"company": "Edited In HubSpot Ltd"}},
                            timeout=30)
    assert edited.status_code == 200, edited.text
    # ...and the lead follows on its own within two minutes
    until(lambda: get(f"/lists/{lid}/leads/{lead['id']}")["company"] ==
          "Edited In HubSpot Ltd", 150, "the edit to reach the lead")
    # A status set in leadpipe reaches HubSpot
    patched = requests.patch(f"{api}/lists/{lid}/leads/{lead['id']}", headers=h,
                             json={"status": "qualified"}, timeout=30)
    assert patched.status_code == 200, patched.text

    def crm_status() -> str | None:
        contact = requests.get(f"{hubspot}/crm/v3/objects/contacts/{contact_id}",
                               params={"properties": "hs_lead_status"}, headers=crm,
                               timeout=30).json()
        return contact["properties"].get("hs_lead_status")  # type: ignore[no-any-return]

    until(lambda: crm_status() == "OPEN_DEAL", 60, "the status to reach HubSpot")
    # The sync records it once the CRM has answered (a moment after the write)
    until(lambda: (get(f"/syncs/{sync['id']}")["write_back"] or {}).get("written", 0) >= 1,
          30, "the sync to record the write-back")

"""Issue 10, item 7: one text rule for every text a user writes, through the HTTP API and imports.

NUL and other control characters are refused with 400 `invalid_text`;
bidirectional overrides are removed wherever they appear; an imported cell
loses its control characters instead of failing its row.
"""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api
from tests.integration.test_imports import upload, wait_status

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is shown right to left


def _field_codes(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.json_body
    error = response.json_body["error"]
    assert error["code"] == "validation_error"
    return {e["field"]: e["code"] for e in error["details"]["errors"]}


def test_a_nul_in_a_list_name_is_400_and_bidi_overrides_are_removed(api: Api):
    # WHEN a list is named with a NUL, THEN 400 invalid_text and no list
    assert _field_codes(api.post("/lists", {"name": "Q1\u0000"})) == {"name": "invalid_text"}
    assert api.get("/lists").json_body["items"] == []
    # WHEN it is named with a bidi override, THEN the override is gone
    created = api.post("/lists", {"name": f"Q1 {RLO}stcepsorP"})
    assert created.status_code == 201
    assert created.json_body["name"] == "Q1 stcepsorP"
    lid = created.json_body["id"]
    assert _field_codes(api.patch(f"/lists/{lid}", {"name": "bell\u0007"})) == {
        "name": "invalid_text"}
    assert api.patch(f"/lists/{lid}", {"name": f"{RLO}Renamed"}).json_body["name"] == "Renamed"


def test_lead_fields_tags_custom_fields_and_notes_lose_bidi_overrides(api: Api):
    lid = api.new_list()["id"]
    # WHEN a lead is written with bidi overrides in every kind of text
    response = api.post(f"/lists/{lid}/leads", {
        "email": "ada@example.com", "first_name": f"Ada{RLO}", "last_name": f"{RLO}Lovelace",
        "notes": f"first{RLO}\nsecond", "tags": [f"vip{RLO}"],
        "custom_fields": {f"Tier{RLO}": f"{RLO}gold"}})
    assert response.status_code == 201, response.json_body
    lead = response.json_body
    # THEN none is kept
    assert (lead["first_name"], lead["last_name"]) == ("Ada", "Lovelace")
    assert lead["notes"] == "first\nsecond"
    assert lead["tags"] == ["vip"]
    assert lead["custom_fields"] == {"tier": "gold"}
    note = api.post(f"/lists/{lid}/leads/{lead['id']}/notes", {"text": f"called {RLO}twice"})
    assert note.status_code == 201
    assert note.json_body["data"]["text"] == "called twice"
    tagged = api.post(f"/lists/{lid}/leads/bulk", {
        "action": "add_tags", "lead_ids": [lead["id"]], "tags": [f"{RLO}hot"]})
    assert tagged.status_code == 200
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").json_body["tags"] == ["vip", "hot"]


def test_control_characters_in_lead_text_and_notes_are_400(api: Api):
    lid = api.new_list()["id"]
    assert _field_codes(api.post(f"/lists/{lid}/leads", {
        "email": "a@example.com", "first_name": "A\u0000", "tags": ["x\u001b"],
        "custom_fields": {"k": "v\u0085"}})) == {
        "first_name": "invalid_text", "tags[0]": "invalid_text",
        "custom_fields.k": "invalid_text"}
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 0
    lead = api.post(f"/lists/{lid}/leads", {"email": "a@example.com"}).json_body
    path = f"/lists/{lid}/leads/{lead['id']}"
    assert _field_codes(api.patch(path, {"company": "Acme\u0000"})) == {"company": "invalid_text"}
    assert _field_codes(api.post(f"{path}/notes", {"text": "nul\u0000"})) == {
        "text": "invalid_text"}
    kinds = [a["type"] for a in api.get(f"{path}/activity").json_body["items"]]
    assert kinds == ["created"]


def test_imported_cells_lose_control_characters_and_bidi_overrides(api: Api, pump):
    # GIVEN a CSV whose cells hold a bell, an escape and a bidi override
    lid = api.new_list()["id"]
    data = (f"email,first_name,notes,tags\r\n"
            f"a@example.com,Ada{RLO},\"one\u0007\r\ntwo\",vip\u001b\r\n").encode()
    job = upload(api, lid, data, auto_start=True)
    # WHEN it is imported, THEN the row is saved, the characters removed
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors", "failed")
    assert done["status"] == "completed", done
    lead = api.get(f"/lists/{lid}/leads").json_body["items"][0]
    assert (lead["first_name"], lead["notes"], lead["tags"]) == ("Ada", "one\ntwo", ["vip"])

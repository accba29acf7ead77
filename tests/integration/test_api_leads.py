"""The HTTP API through chalice's test client, over in-process moto."""

from __future__ import annotations

import csv
import io

from tests.integration.conftest import Api


def test_health_needs_no_token(client):
    response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok"}


def test_every_other_route_needs_a_token(client, api: Api):
    lst = api.new_list()
    for method, path in [("GET", "/lists"), ("POST", "/lists"),
                         ("GET", f"/lists/{lst['id']}/leads"),
                         ("GET", f"/lists/{lst['id']}/export")]:
        response = getattr(client.http, method.lower())(path)
        assert response.status_code == 401, path
        assert response.json_body["error"]["code"] == "unauthorized"
    bad = client.http.get("/lists", headers={"Authorization": "Bearer lp_nope_nope_nope_nope"})
    assert bad.status_code == 401


def test_list_lifecycle(api: Api):
    # GIVEN a new list with defaults
    lst = api.new_list()
    assert lst["identity"] == "email" and lst["default_region"] == "US"
    assert lst["lead_count"] == 0
    # WHEN it is renamed
    renamed = api.patch(f"/lists/{lst['id']}", {"name": "  Q2   Prospects "})
    # THEN the name is tidied and the list is found under its id and in the index
    assert renamed.status_code == 200 and renamed.json_body["name"] == "Q2 Prospects"
    assert api.get(f"/lists/{lst['id']}").json_body["name"] == "Q2 Prospects"
    ids = [item["id"] for item in api.get("/lists").json_body["items"]]
    assert lst["id"] in ids
    # identity is immutable
    assert api.patch(f"/lists/{lst['id']}", {"identity": "phone"}).status_code == 400


def test_list_pagination(api: Api):
    created = {api.new_list(name=f"L{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        path = "/lists?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path).json_body
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == created and len(seen) == len(created)


def test_add_lead_normalises_and_dedupes(api: Api):
    lst = api.new_list()
    # GIVEN a lead added with messy values
    created = api.post(f"/lists/{lst['id']}/leads", {
        "first_name": " Ada ", "last_name": "Lovelace", "email": "  Ada@Example.COM ",
        "phone": "(415) 555-0134", "linkedin_url": "linkedin.com/in/ada-lovelace/?trk=x",
        "tags": ["vip", "VIP ", "emea"], "custom_fields": {"Deal Size": 1200},
    })
    assert created.status_code == 201, created.json_body
    lead = created.json_body
    assert lead["email"] == "ada@example.com"
    assert lead["phone"] == "+14155550134"
    assert lead["linkedin_url"] == "https://www.linkedin.com/in/ada-lovelace"
    assert lead["first_name"] == "Ada"
    assert lead["status"] == "new" and lead["email_status"] == "pending"
    assert lead["custom_fields"] == {"deal_size": 1200}
    # WHEN the same person is added again with different case and spacing
    again = api.post(f"/lists/{lst['id']}/leads", {"email": "ADA@example.com   "})
    # THEN 409 names the existing lead, and nothing new is stored
    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "duplicate"
    assert again.json_body["error"]["details"]["lead_id"] == lead["id"]
    assert api.get(f"/lists/{lst['id']}").json_body["lead_count"] == 1


def test_identity_is_per_list(api: Api):
    by_phone = api.new_list(identity="phone", default_region="GB")
    a = api.post(f"/lists/{by_phone['id']}/leads", {"phone": "020 7946 0018"})
    assert a.status_code == 201 and a.json_body["phone"] == "+442079460018"
    b = api.post(f"/lists/{by_phone['id']}/leads", {"phone": "+44 20 7946 0018",
                                                     "email": "x@example.com"})
    assert b.status_code == 409
    missing = api.post(f"/lists/{by_phone['id']}/leads", {"email": "y@example.com"})
    assert missing.status_code == 400
    assert missing.json_body["error"]["details"]["errors"][0]["code"] == "missing_identity"
    # the same person in another list is not a duplicate
    other = api.new_list(identity="phone", default_region="GB")
    assert api.post(f"/lists/{other['id']}/leads", {"phone": "020 7946 0018"}).status_code == 201


def test_invalid_lead_is_400_with_every_field_error_and_writes_nothing(api: Api):
    lst = api.new_list()
    response = api.post(f"/lists/{lst['id']}/leads", {
        "email": "not-an-email", "phone": "12", "linkedin_url": "https://example.com/x",
        "status": "sleeping", "colour": "blue", "company": "x" * 1001,
    })
    assert response.status_code == 400
    codes = {e["field"]: e["code"] for e in response.json_body["error"]["details"]["errors"]}
    assert codes["email"] == "invalid_email"
    assert codes["phone"] in ("invalid_phone", "unparseable_phone")
    assert codes["linkedin_url"] == "invalid_linkedin_url"
    assert codes["status"] == "invalid_status"
    assert codes["colour"] == "unknown_field"
    assert codes["company"] == "value_too_long"
    assert api.get(f"/lists/{lst['id']}").json_body["lead_count"] == 0


def test_bad_requests_get_codes_not_500(api: Api):
    lst = api.new_list()
    path = f"/lists/{lst['id']}/leads"
    assert api.post(path, raw=b"{not json").json_body["error"]["code"] == "invalid_json"
    assert api.post(path, raw=b"[1,2]").status_code == 400
    assert api.post(path, {"email": 42}).json_body["error"]["details"]["errors"][0]["code"] \
        == "invalid_type"
    assert api.get(f"{path}?limit=500").json_body["error"]["code"] == "invalid_limit"
    assert api.get(f"{path}?cursor=%%%").json_body["error"]["code"] == "invalid_cursor"
    assert api.get(f"{path}?status=sleeping").status_code == 400
    assert api.get(f"{path}?bogus=1").json_body["error"]["code"] == "unknown_parameter"
    big = b'{"email": "' + b"a" * (7 * 1024 * 1024) + b'"}'
    assert api.post(path, raw=big).status_code == 413


def test_batch_reports_each_lead(api: Api):
    lst = api.new_list()
    api.post(f"/lists/{lst['id']}/leads", {"email": "old@example.com"})
    response = api.post(f"/lists/{lst['id']}/leads/batch", {"leads": [
        {"email": "new@example.com"},
        {"email": "OLD@example.com"},
        {"email": "bad"},
        {"email": " New@Example.com"},
        "not an object",
    ]})
    body = response.json_body
    assert response.status_code == 200
    assert (body["created"], body["duplicates"], body["invalid"]) == (1, 2, 2)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "duplicate", "invalid", "duplicate", "invalid"]
    assert body["results"][3]["lead_id"] == body["results"][0]["lead_id"]
    assert api.get(f"/lists/{lst['id']}").json_body["lead_count"] == 2
    assert api.post(f"/lists/{lst['id']}/leads/batch", {"leads": []}).status_code == 400


def _add(api: Api, list_id: str, **fields):
    response = api.post(f"/lists/{list_id}/leads", fields)
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_search_filters_and_paginates(api: Api):
    lst = api.new_list()
    lid = lst["id"]
    _add(api, lid, email="a@acme.io", first_name="Grace", last_name="Hopper", company="ACME Corp",
         job_title="CTO", location="Berlin", tags=["vip"])
    _add(api, lid, email="b@initech.io", first_name="Alan", company="Initech",
         job_title="Engineer", location="London", status="contacted")
    for i in range(7):
        _add(api, lid, email=f"c{i}@umbrella.io", company="Umbrella")

    def ids(query: str) -> list[str]:
        return [x["email"] for x in api.get(f"/lists/{lid}/leads?{query}").json_body["items"]]

    assert ids("q=grace%20hopper") == ["a@acme.io"]
    assert ids("q=INITECH") == ["b@initech.io"]
    assert ids("company=acme") == ["a@acme.io"]
    assert ids("job_title=engineer&location=london") == ["b@initech.io"]
    assert ids("status=contacted") == ["b@initech.io"]
    assert ids("tag=VIP") == ["a@acme.io"]
    assert ids("email_status=valid") == []
    # pagination walks every lead exactly once
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(f"/lists/{lid}/leads?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        seen.extend(x["id"] for x in page.json_body["items"])
        cursor = page.json_body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 9 and len(set(seen)) == 9


def test_edit_renormalises_records_activity_and_guards_identity(api: Api):
    lid = api.new_list()["id"]
    first = _add(api, lid, email="one@example.com")
    second = _add(api, lid, email="two@example.com", phone="415 555 0134")
    # a new identity that collides → 409 naming the holder
    clash = api.patch(f"/lists/{lid}/leads/{second['id']}", {"email": "ONE@example.com"})
    assert clash.status_code == 409
    assert clash.json_body["error"]["details"]["lead_id"] == first["id"]
    # a real edit re-normalises and frees the old identity
    edited = api.patch(f"/lists/{lid}/leads/{second['id']}",
                       {"email": " Three@Example.com", "phone": None, "status": "replied"})
    assert edited.status_code == 200, edited.json_body
    assert edited.json_body["email"] == "three@example.com"
    assert edited.json_body["phone"] is None
    assert _add(api, lid, email="two@example.com")["email"] == "two@example.com"
    # clearing the identity field is refused
    assert api.patch(f"/lists/{lid}/leads/{second['id']}", {"email": None}).status_code == 400
    # the timeline is newest first
    note = api.post(f"/lists/{lid}/leads/{second['id']}/notes", {"text": "Called, no answer"})
    assert note.status_code == 201
    kinds = [a["type"] for a in api.get(
        f"/lists/{lid}/leads/{second['id']}/activity").json_body["items"]]
    assert kinds[0] == "note_added"
    assert set(kinds) == {"note_added", "edited", "status_changed", "created"}
    assert kinds[-1] == "created"


def test_delete_lead_frees_identity(api: Api):
    lid = api.new_list()["id"]
    lead = _add(api, lid, email="gone@example.com")
    assert api.delete(f"/lists/{lid}/leads/{lead['id']}").status_code == 204
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").status_code == 404
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 0
    assert _add(api, lid, email="gone@example.com")["id"] != lead["id"]


def test_bulk_actions_by_ids_and_filter(api: Api):
    lid = api.new_list()["id"]
    leads = [_add(api, lid, email=f"p{i}@example.com", company="Acme" if i < 3 else "Other")
             for i in range(5)]
    tagged = api.post(f"/lists/{lid}/leads/bulk", {
        "action": "add_tags", "lead_ids": [leads[0]["id"], leads[1]["id"], "ld_missing"],
        "tags": ["hot"]})
    assert tagged.json_body == {"affected": 2, "complete": True}
    status = api.post(f"/lists/{lid}/leads/bulk", {
        "action": "set_status", "filter": {"company": "acme"}, "status": "qualified"})
    assert status.json_body["affected"] == 3
    assert len(api.get(f"/lists/{lid}/leads?status=qualified").json_body["items"]) == 3
    assert len(api.get(f"/lists/{lid}/leads?tag=hot").json_body["items"]) == 2
    removed = api.post(f"/lists/{lid}/leads/bulk", {
        "action": "remove_tags", "filter": {"tag": "hot"}, "tags": ["HOT"]})
    assert removed.json_body["affected"] == 2
    deleted = api.post(f"/lists/{lid}/leads/bulk", {"action": "delete",
                                                    "filter": {"company": "other"}})
    assert deleted.json_body["affected"] == 2
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 3
    bad = api.post(f"/lists/{lid}/leads/bulk", {"action": "set_status", "filter": {}})
    assert bad.status_code == 400


def test_export_csv_is_formula_safe_with_custom_columns(api: Api):
    lid = api.new_list()["id"]
    _add(api, lid, email="x@example.com", first_name="=HYPERLINK(\"http://evil\")",
         phone="+14155550134", custom_fields={"plan": "@SUM(A1)", "seats": 3})
    response = api.get(f"/lists/{lid}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert len(rows) == 1
    assert rows[0]["first_name"].startswith("'=")
    assert rows[0]["plan"] == "'@SUM(A1)"
    assert rows[0]["seats"] == "3"
    assert rows[0]["phone"] == "+14155550134"


def test_workspaces_are_isolated(api: Api, other_api: Api):
    lst = api.new_list()
    lead = _add(api, lst["id"], email="secret@example.com")
    for path in [f"/lists/{lst['id']}", f"/lists/{lst['id']}/leads",
                 f"/lists/{lst['id']}/leads/{lead['id']}", f"/lists/{lst['id']}/export"]:
        response = other_api.get(path)
        assert response.status_code == 404, path
    assert other_api.post(f"/lists/{lst['id']}/leads", {"email": "z@example.com"}).status_code \
        == 404
    assert other_api.delete(f"/lists/{lst['id']}").status_code == 404
    assert lst["id"] not in [x["id"] for x in other_api.get("/lists").json_body["items"]]


def test_delete_list_purges_leads_in_background(api: Api, pump):
    lid = api.new_list()["id"]
    for i in range(3):
        _add(api, lid, email=f"d{i}@example.com")
    assert api.delete(f"/lists/{lid}").status_code == 204
    assert api.get(f"/lists/{lid}").status_code == 404
    # WHEN the jobs queue is delivered
    assert pump.drain() >= 1
    # THEN nothing of the list is left in the table
    from chalicelib.adapters.dynamo_models import _Table, shard_pk

    left = [item for s in range(16) for item in _Table.query(shard_pk(lid, s))]
    assert left == []


def test_duplicate_list_copies_every_lead(api: Api, pump):
    lid = api.new_list(identity="linkedin_url")["id"]
    for i in range(4):
        _add(api, lid, linkedin_url=f"https://www.linkedin.com/in/person-{i}", status="contacted")
    copy = api.post(f"/lists/{lid}/duplicate", {"name": "Copy"})
    assert copy.status_code == 201
    pump.drain()
    copied = api.get(f"/lists/{copy.json_body['id']}")
    assert copied.json_body["lead_count"] == 4
    assert copied.json_body["identity"] == "linkedin_url"
    items = api.get(f"/lists/{copy.json_body['id']}/leads").json_body["items"]
    assert {x["status"] for x in items} == {"contacted"}
    assert {x["list_id"] for x in items} == {copy.json_body["id"]}


PAGED_ROUTES = ("/lists", "/lists/{lid}/leads", "/lists/{lid}/imports",
                "/lists/{lid}/leads/{lead}/activity")


def test_odd_limits_and_deep_json_are_400_not_500(api: Api):
    # Found by the probe of issue 10: Unicode digits and 5,000-digit limits, and
    # JSON nested 2,000 deep, answered 500.
    lst = api.new_list()
    lead = api.post(f"/lists/{lst['id']}/leads", {"email": "deep@example.com"}).json_body
    for route in PAGED_ROUTES:
        path = route.format(lid=lst["id"], lead=lead["id"])
        for limit in ("%C2%B2", "%D9%A3", "1" * 5000, "%EF%BC%95", "+5", " 5"):
            response = api.get(f"{path}?limit={limit}")
            assert response.status_code == 400, (path, limit, response.status_code)
            assert response.json_body["error"]["code"] == "invalid_limit"
    deep = b'{"email": "a@example.com", "custom_fields": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    for path in (f"/lists/{lst['id']}/leads", "/lists", f"/lists/{lst['id']}/leads/batch",
                 f"/lists/{lst['id']}/imports"):
        response = api.post(path, raw=deep)
        assert response.status_code == 400, (path, response.status_code)
        assert response.json_body["error"]["code"] == "invalid_json"
    patched = api.patch(f"/lists/{lst['id']}/leads/{lead['id']}", raw=deep)
    assert patched.status_code == 400 and patched.json_body["error"]["code"] == "invalid_json"

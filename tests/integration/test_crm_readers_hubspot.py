"""HubSpotCrm (chalicelib/adapters/hubspot_crm.py) against the loopback HubSpot sandbox.

Full runs (live then archived listing), incremental search and its 10,000-result
cap, retries of 429/5xx with an injected sleep, error mapping, batch writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from chalicelib.adapters.hubspot_crm import HubSpotCrm
from chalicelib.provider_settings import provider_apps
from chalicelib.services.crm_ports import (
    CrmAuth,
    CrmError,
    CrmQuotaExceeded,
    CrmRecord,
    CrmUnauthorized,
)
from tools.sandboxes.common import RollingWindow
from tools.sandboxes.credentials import HUBSPOT_PRIVATE_APP_TOKEN
from tools.sandboxes.hubspot import HubSpotSandbox
from tools.sandboxes.wire import iso_z

CONTACTS = "/crm/v3/objects/contacts"
SEARCH = CONTACTS + "/search"
BATCH = CONTACTS + "/batch/update"
AUTH = CrmAuth(HUBSPOT_PRIVATE_APP_TOKEN)


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotSandbox]:
    sandbox = HubSpotSandbox(private_app_tokens=[HUBSPOT_PRIVATE_APP_TOKEN])
    monkeypatch.setenv("LEADPIPE_HUBSPOT_API_URL", sandbox.start())
    provider_apps.cache_clear()
    yield sandbox
    sandbox.stop()
    provider_apps.cache_clear()
    assert sandbox.errors == []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def crm(hubspot: HubSpotSandbox, sleeps: list[float]) -> HubSpotCrm:
    return HubSpotCrm(sleep=sleeps.append)


def read_all(crm: HubSpotCrm, since: str | None = None,
             fields: tuple[str, ...] | None = None) -> tuple[list[CrmRecord], int]:
    fields = fields or crm.default_fields("contacts")
    records: list[CrmRecord] = []
    cursor, pages = None, 0
    while True:
        page = crm.page(AUTH, "contacts", fields, since, cursor)
        records.extend(page.records)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return records, pages


def failed(sandbox: HubSpotSandbox) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in sandbox.requests if r.status >= 400]


# -- full runs -----------------------------------------------------------------------------


def test_a_first_run_lists_live_contacts_in_pages_of_100_then_archived_ones_as_deleted(
        crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN 250 contacts, 3 of them archived, and one with no phone at all
    ids = hubspot.seed(250)
    archived = [ids[10], ids[120], ids[249]]
    for contact_id in archived:
        hubspot.archive(contact_id)
    hubspot.update_contact(ids[0], phone="", mobilephone="")
    hubspot.clear_log()
    # WHEN the whole listing is read
    records, _ = read_all(crm)
    # THEN every contact comes once, archived ones as deleted, and the live listing
    # costs exactly ceil(live / 100) requests, the archived one a single request
    assert sorted(r.id for r in records) == sorted(ids)
    assert {r.id for r in records if r.deleted} == set(archived)
    live = len(ids) - len(archived)
    listing = [r for r in hubspot.requests if r.path == CONTACTS]
    assert sum(1 for r in listing if "archived" not in r.query) == math.ceil(live / 100)
    assert sum(1 for r in listing if r.query.get("archived") == ["true"]) == 1
    assert hubspot.count() == math.ceil(live / 100) + 1
    assert all(r.query["limit"] == ["100"] for r in listing)
    first = next(r for r in records if r.id == ids[0])
    contact = hubspot.contacts[ids[0]]
    assert first.modified_at == iso_z(contact.updated_ms)
    assert first.modified_at.endswith("Z") and first.modified_at[10] == "T"
    assert first.fields["phone"] == "" and first.fields["mobilephone"] == ""
    assert first.fields["email"] == contact.properties["email"]
    assert first.fields["hs_object_id"] == ids[0]
    assert set(first.fields) == set(crm.default_fields("contacts"))


def test_a_first_run_reads_only_the_fields_asked_for(crm: HubSpotCrm, hubspot: HubSpotSandbox):
    hubspot.seed(3)
    records, pages = read_all(crm, fields=("email", "hs_lead_status"))
    assert pages == 2  # one live page, one (empty) archived page
    assert all(set(r.fields) == {"email", "hs_lead_status"} for r in records)
    asked = hubspot.requests[0].query["properties"][0].split(",")
    assert asked[:2] == ["email", "hs_lead_status"] and "lastmodifieddate" in asked


def test_an_exactly_full_last_page_costs_no_extra_request(crm: HubSpotCrm,
                                                          hubspot: HubSpotSandbox):
    hubspot.seed(200)
    records, _ = read_all(crm)
    assert len(records) == 200
    assert hubspot.count("GET", CONTACTS) == 2 + 1  # two full pages, one archived


# -- incremental runs ----------------------------------------------------------------------


def test_an_incremental_run_searches_changes_since_the_bookmark_in_two_requests(
        crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN 1,000 contacts of which 300 changed since the bookmark
    ids = hubspot.seed(1000)
    changed = ids[100:400]
    hubspot.update_contact(changed[0], jobtitle="CFO")
    since = iso_z(hubspot.contacts[changed[0]].updated_ms)  # GTE: this one is included
    for contact_id in changed[1:]:
        hubspot.update_contact(contact_id, hs_lead_status="CONNECTED")
    hubspot.clear_log()
    # WHEN
    records, pages = read_all(crm, since=since)
    # THEN only the changed ones, lowest id first, in 2 search requests of 200
    assert [r.id for r in records] == changed
    assert pages == 2 and hubspot.count("POST", SEARCH) == 2 and hubspot.count() == 2
    body = hubspot.requests[0].body
    assert body["limit"] == 200
    assert body["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    assert body["filterGroups"] == [{"filters": [{
        "propertyName": "lastmodifieddate", "operator": "GTE",
        "value": str(hubspot.contacts[changed[0]].updated_ms)}]}]
    assert records[0].fields["jobtitle"] == "CFO"
    assert all(r.fields["hs_lead_status"] == "CONNECTED" for r in records[1:])
    assert not any(r.deleted for r in records)


def test_an_incremental_run_goes_past_the_search_cap_without_a_failed_request(
        crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN 10,250 contacts, all changed since the bookmark
    ids = hubspot.seed(10_250)
    since = iso_z(hubspot.stamp_ms())
    for contact_id in ids:
        hubspot.update_contact(contact_id, city="Oslo")
    hubspot.clear_log()
    # WHEN
    records, pages = read_all(crm, since=since, fields=("city",))
    # THEN every one, once, in ceil(10,250 / 200) requests, none refused
    assert [r.id for r in records] == ids
    assert pages == hubspot.count("POST", SEARCH) == math.ceil(10_250 / 200)
    assert failed(hubspot) == []
    floors = [r.body for r in hubspot.requests if len(r.body["filterGroups"][0]["filters"]) == 2]
    assert len(floors) == 2  # the two pages past the 10,000th result
    assert floors[0]["filterGroups"][0]["filters"][1] == {
        "propertyName": "hs_object_id", "operator": "GT", "value": ids[9_999]}
    assert "after" not in floors[0] and floors[1]["after"] == "200"
    assert max(int(r.body.get("after", 0)) + r.body["limit"] for r in hubspot.requests) <= 10_000


def test_a_search_refused_past_its_cap_goes_on_above_the_last_id_seen(
        crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN a HubSpot whose cap turns out lower than we think (a page is refused)
    ids = hubspot.seed(450)
    since = iso_z(0)
    first = crm.page(AUTH, "contacts", ("email",), since, None)
    hubspot.fail_next(400, {"status": "error", "category": "VALIDATION_ERROR",
                            "message": "paging past the result limit"}, path=SEARCH)
    # WHEN the next pages are read
    records, cursor = list(first.records), first.cursor
    while cursor is not None:
        page = crm.page(AUTH, "contacts", ("email",), since, cursor)
        records.extend(page.records)
        cursor = page.cursor
    # THEN the refused page is asked again above the last id of the page before
    assert [r.id for r in records] == ids
    assert [r.status for r in hubspot.requests] == [200, 400, 200, 200]
    assert hubspot.requests[2].body["filterGroups"][0]["filters"][1]["value"] == ids[199]
    assert "after" not in hubspot.requests[2].body


def test_a_cursor_of_one_kind_of_run_is_refused_by_the_other(crm: HubSpotCrm,
                                                             hubspot: HubSpotSandbox):
    hubspot.seed(150)
    listing = crm.page(AUTH, "contacts", ("email",), None, None)
    with pytest.raises(CrmError) as refused:
        crm.page(AUTH, "contacts", ("email",), "2026-01-01T00:00:00Z", listing.cursor)
    assert refused.value.code == "crm_bad_cursor"
    with pytest.raises(CrmError) as garbage:
        crm.page(AUTH, "contacts", ("email",), None, "not-a-cursor!")
    assert garbage.value.code == "crm_bad_cursor"


# -- retries and errors --------------------------------------------------------------------


def test_a_429_with_retry_after_is_waited_out_for_that_long(
        crm: HubSpotCrm, hubspot: HubSpotSandbox, sleeps: list[float]):
    hubspot.seed(5)
    hubspot.throttle_next(1, retry_after=3)
    records, _ = read_all(crm)
    assert len(records) == 5 and sleeps == [3.0]


def test_a_search_429_without_retry_after_waits_1_s_then_backs_off(
        crm: HubSpotCrm, hubspot: HubSpotSandbox, sleeps: list[float]):
    hubspot.seed(5)
    hubspot.throttle_next(3)
    records, pages = read_all(crm, since="2026-01-01T00:00:00Z")
    assert len(records) == 5 and pages == 1
    assert sleeps == [1.0, 2.0, 4.0]
    assert [r.status for r in hubspot.requests] == [429, 429, 429, 200]


def test_a_429_that_does_not_stop_gives_up_after_five_tries(
        crm: HubSpotCrm, hubspot: HubSpotSandbox, sleeps: list[float]):
    hubspot.throttle_next(10)
    with pytest.raises(CrmError) as refused:
        crm.page(AUTH, "contacts", ("email",), None, None)
    assert refused.value.code == "crm_rate_limited"
    assert sleeps == [1.0, 2.0, 4.0, 8.0] and hubspot.count() == 5


def test_a_burst_limit_is_waited_out(hubspot: HubSpotSandbox, sleeps: list[float]):
    # The sandbox's own rolling limit: the waits move its clock, as real time would.
    hubspot.burst, hubspot.retry_after = RollingWindow(2, 10.0), True
    hubspot.seed(450)

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        hubspot.advance_clock(seconds)

    records, pages = read_all(HubSpotCrm(sleep=sleep), fields=("email",))
    assert len(records) == 450 and pages == 6
    assert sleeps and all(s >= 1 for s in sleeps)


def test_a_daily_limit_is_a_spent_quota_not_retried(
        crm: HubSpotCrm, hubspot: HubSpotSandbox, sleeps: list[float]):
    hubspot.fail_next(429, {"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY",
                            "message": "You have reached your daily limit."})
    with pytest.raises(CrmQuotaExceeded):
        crm.page(AUTH, "contacts", ("email",), None, None)
    assert sleeps == []


def test_a_5xx_is_retried(crm: HubSpotCrm, hubspot: HubSpotSandbox, sleeps: list[float]):
    hubspot.seed(2)
    hubspot.fail_next(502, {"status": "error", "message": "Bad gateway"}, count=2)
    records, _ = read_all(crm)
    assert len(records) == 2 and sleeps == [1.0, 2.0]


def test_an_unknown_token_is_crm_unauthorized(crm: HubSpotCrm, hubspot: HubSpotSandbox):
    with pytest.raises(CrmUnauthorized):
        crm.page(CrmAuth("pat-na1-revoked"), "contacts", ("email",), None, None)
    with pytest.raises(CrmUnauthorized):
        crm.write(CrmAuth("pat-na1-revoked"), "contacts", [("1001", {"city": "Oslo"})])


def test_other_refusals_carry_hubspots_message_and_category(crm: HubSpotCrm,
                                                           hubspot: HubSpotSandbox):
    hubspot.fail_next(403, {"status": "error", "category": "MISSING_SCOPES",
                            "message": "This app hasn't been granted all required scopes"})
    with pytest.raises(CrmError) as refused:
        crm.page(AUTH, "contacts", ("email",), None, None)
    assert refused.value.message == "This app hasn't been granted all required scopes"
    assert refused.value.details["category"] == "MISSING_SCOPES"
    assert refused.value.details["status"] == 403


def test_bad_inputs_are_refused_before_any_request(crm: HubSpotCrm, hubspot: HubSpotSandbox):
    for fields, since, object_name, code in [
            (("email&archived=true",), None, "contacts", "crm_invalid_field"),
            (("email",), "yesterday", "contacts", "crm_invalid_since"),
            (("email",), None, "companies", "crm_unsupported_object")]:
        with pytest.raises(CrmError) as refused:
            crm.page(AUTH, object_name, fields, since, None)
        assert refused.value.code == code
    assert hubspot.count() == 0


# -- writes --------------------------------------------------------------------------------


def test_a_batch_write_reports_the_bad_value_and_writes_the_others(
        crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN 150 updates (two batches), one with a lead status HubSpot does not know
    ids = hubspot.seed(150)
    updates = [(i, {"jobtitle": f"Title {n}", "hs_lead_status": "OPEN"})
               for n, i in enumerate(ids)]
    updates[7] = (ids[7], {"jobtitle": "Bad", "hs_lead_status": "MAYBE"})
    # WHEN
    results = crm.write(AUTH, "contacts", updates)
    # THEN one result per update, in order; only the bad one failed, the others landed
    assert [r.id for r in results] == ids
    assert [r.ok for r in results].count(False) == 1
    assert results[7].code == "INVALID_OPTION" and "MAYBE" in (results[7].message or "")
    assert hubspot.contacts[ids[7]].properties["jobtitle"] != "Bad"
    assert hubspot.contacts[ids[8]].properties["jobtitle"] == "Title 8"
    assert hubspot.contacts[ids[149]].properties["hs_lead_status"] == "OPEN"
    assert hubspot.count("POST", BATCH) == 2 and hubspot.count() == 2
    assert [len(r.body["inputs"]) for r in hubspot.requests] == [100, 50]


def test_a_batch_refused_whole_is_written_one_by_one(crm: HubSpotCrm, hubspot: HubSpotSandbox):
    # GIVEN a HubSpot that refuses the whole batch for one bad value (as the real API may)
    ids = hubspot.seed(4)
    hubspot.fail_next(400, {"status": "error", "category": "VALIDATION_ERROR",
                            "message": "Property values were not valid"}, path=BATCH)
    updates = [(i, {"city": "Oslo"}) for i in ids]
    updates[2] = (ids[2], {"hs_lead_status": "MAYBE"})
    updates.append(("99999", {"city": "Oslo"}))  # no such contact
    updates.append(("../../owners", {"city": "Oslo"}))  # never sent
    # WHEN
    results = crm.write(AUTH, "contacts", updates)
    # THEN the good ones land one at a time, the bad ones are reported
    assert [r.ok for r in results] == [True, True, False, True, False, False]
    assert results[2].code == "INVALID_OPTION"
    assert results[4].code == "OBJECT_NOT_FOUND" and results[5].code == "INVALID_ID"
    assert [hubspot.contacts[i].properties.get("city") for i in (ids[0], ids[1], ids[3])] \
        == ["Oslo"] * 3
    assert hubspot.count("PATCH") == 5


def test_a_missing_contact_in_a_batch_is_reported(crm: HubSpotCrm, hubspot: HubSpotSandbox):
    ids = hubspot.seed(2)
    hubspot.archive(ids[1])
    results = crm.write(AUTH, "contacts", [(ids[0], {"city": "Oslo"}),
                                           (ids[1], {"city": "Oslo"})])
    assert [(r.ok, r.code) for r in results] == [(True, None), (False, "OBJECT_NOT_FOUND")]

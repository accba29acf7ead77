"""SalesforceCrm (chalicelib/adapters/salesforce_crm.py) against the loopback Salesforce sandbox.

queryAll pages and nextRecordsUrl, the since filter, deletions, Contact's
Account.Name, errors and retries, composite writes, and SOQL built only from
checked names.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from chalicelib.adapters.salesforce_crm import SalesforceCrm, soql
from chalicelib.services.crm_ports import (
    CrmAuth,
    CrmError,
    CrmQuotaExceeded,
    CrmRecord,
    CrmUnauthorized,
)
from tools.sandboxes.salesforce import SalesforceSandbox, sf_datetime
from tools.sandboxes.salesforce_records import LEAD_STATUSES
from tools.sandboxes.wire import iso_z

TOKEN = "00Dleadpipe!session"
QUERY_ALL = "/services/data/v61.0/queryAll"
COLLECTION = "/services/data/v61.0/composite/sobjects"


@pytest.fixture
def salesforce() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox(static_tokens=[TOKEN], batch_size=40)
    sandbox.start()
    yield sandbox
    sandbox.stop()
    assert sandbox.errors == []


@pytest.fixture
def auth(salesforce: SalesforceSandbox) -> CrmAuth:
    return CrmAuth(TOKEN, instance_url=salesforce.url)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def crm(salesforce: SalesforceSandbox, sleeps: list[float]) -> SalesforceCrm:
    return SalesforceCrm(sleep=sleeps.append)


def read_all(crm: SalesforceCrm, auth: CrmAuth, object_name: str = "Lead",
             since: str | None = None,
             fields: tuple[str, ...] | None = None) -> tuple[list[CrmRecord], int]:
    fields = fields or crm.default_fields(object_name)
    records: list[CrmRecord] = []
    cursor, pages = None, 0
    while True:
        page = crm.page(auth, object_name, fields, since, cursor)
        records.extend(page.records)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return records, pages


# -- reading -------------------------------------------------------------------------------


def test_a_full_read_follows_next_records_url_oldest_change_first(
        crm: SalesforceCrm, auth: CrmAuth, salesforce: SalesforceSandbox):
    # GIVEN 100 Leads, read 40 a page; one has no email
    ids = salesforce.seed(100)
    salesforce.update(ids[0], Email=None)
    # WHEN
    records, pages = read_all(crm, auth)
    # THEN all of them, by SystemModstamp then Id, in ceil(100 / 40) requests
    assert sorted(r.id for r in records) == sorted(ids)
    assert pages == math.ceil(100 / 40) == len(salesforce.requests)
    assert salesforce.requests[0].path == QUERY_ALL
    assert all(r.path.startswith(QUERY_ALL + "/01g") for r in salesforce.requests[1:])
    stamps = [salesforce.records[r.id].fields["SystemModstamp"] for r in records]
    assert stamps == sorted(stamps)
    assert records[-1].id == ids[0]  # changed last
    assert crm.last_api_usage == (3, 5000)
    lead = salesforce.records[ids[1]].fields
    record = next(r for r in records if r.id == ids[1])
    assert record.modified_at == iso_z(lead["SystemModstamp"])
    assert sf_datetime(lead["SystemModstamp"]).endswith("+0000")  # what the wire said
    assert record.fields["Company"] == lead["Company"] and record.fields["Status"] == lead["Status"]
    assert record.fields["IsDeleted"] == "false" and not record.deleted
    assert records[-1].fields["Email"] == ""
    assert set(record.fields) == set(crm.default_fields("Lead"))
    sent = salesforce.requests[0].query["q"][0]
    assert sent == ("SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Company, Title, "
                    "City, State, Country, Status, SystemModstamp, IsDeleted FROM Lead "
                    "ORDER BY SystemModstamp ASC, Id ASC")


def test_since_reads_only_what_changed_at_or_after_it(crm: SalesforceCrm, auth: CrmAuth,
                                                      salesforce: SalesforceSandbox):
    # GIVEN 60 seeded Leads, then 5 changed a minute later
    ids = salesforce.seed(60)
    salesforce.advance_clock(60)
    changed = ids[10:15]
    salesforce.update(changed[0], Title="CFO")
    since_ms = salesforce.records[changed[0]].fields["SystemModstamp"]
    for record_id in changed[1:]:
        salesforce.update(record_id, Status=LEAD_STATUSES[1])
    # WHEN the bookmark is that first change (in any ISO 8601 spelling)
    since = sf_datetime(since_ms).replace("+0000", "+00:00")
    records, pages = read_all(crm, auth, since=since, fields=("Title", "Status"))
    # THEN only those, in one request, the bookmark floored to the second
    assert [r.id for r in records] == changed and pages == 1
    assert records[0].fields == {"Title": "CFO", "Status": salesforce.records[changed[0]]
                                 .fields["Status"]}
    floored = iso_z(since_ms - since_ms % 1000).replace(".000Z", "Z")
    assert salesforce.requests[0].query["q"][0] == (
        f"SELECT Title, Status, Id, SystemModstamp, IsDeleted FROM Lead WHERE SystemModstamp >= "
        f"{floored} ORDER BY SystemModstamp ASC, Id ASC")


def test_query_all_returns_deleted_records_as_deleted(crm: SalesforceCrm, auth: CrmAuth,
                                                      salesforce: SalesforceSandbox):
    ids = salesforce.seed(30)
    salesforce.delete(ids[3])
    salesforce.delete(ids[20])
    since = iso_z(salesforce.records[ids[3]].fields["SystemModstamp"])
    records, _ = read_all(crm, auth, since=since)
    assert [(r.id, r.deleted) for r in records] == [(ids[3], True), (ids[20], True)]
    assert records[0].fields["IsDeleted"] == "true"


def test_contacts_flatten_account_name(crm: SalesforceCrm, auth: CrmAuth,
                                       salesforce: SalesforceSandbox):
    # GIVEN Contacts, one with no Account
    ids = salesforce.seed(5, "Contact")
    orphan = salesforce.add_contact(FirstName="Ada", LastName="Lovelace", MailingCity="London")
    # WHEN read with the default Contact fields (and a lower-case spelling of one)
    fields = (*crm.default_fields("Contact"), "account.name")
    records, _ = read_all(crm, auth, "Contact", fields=fields)
    # THEN Account.Name is the parent's name, "" with no parent
    by_id = {r.id: r for r in records}
    assert set(by_id) == {*ids, orphan}
    accounts = salesforce.accounts
    for record_id in ids:
        account = accounts[salesforce.records[record_id].fields["AccountId"]]
        assert by_id[record_id].fields["Account.Name"] == account
        assert by_id[record_id].fields["account.name"] == account
    assert by_id[orphan].fields["Account.Name"] == ""
    assert by_id[orphan].fields["MailingCity"] == "London"
    assert "Account.Name" in salesforce.requests[0].query["q"][0]


def test_names_that_are_not_identifiers_never_reach_soql(crm: SalesforceCrm, auth: CrmAuth,
                                                        salesforce: SalesforceSandbox):
    salesforce.seed(3)
    refusals = [
        ("Lead", ("Id FROM User --",), None, "crm_invalid_field"),
        ("Lead", ("Id,Name",), None, "crm_invalid_field"),
        ("Lead", ("Owner.Manager.Name",), None, "crm_invalid_field"),
        ("Lead", ("Email'",), None, "crm_invalid_field"),
        ("Lead WHERE IsDeleted = true", ("Id",), None, "crm_unsupported_object"),
        ("Lead", ("Id",), "2026-01-01 OR Id != null", "crm_invalid_since"),
        ("Lead", ("Id",), "2026-01-01T00:00:00Z ORDER BY Id", "crm_invalid_since"),
    ]
    for object_name, fields, since, code in refusals:
        with pytest.raises(CrmError) as refused:
            crm.page(auth, object_name, fields, since, None)
        assert refused.value.code == code, (object_name, fields, since)
    for cursor in ("https://evil.example/services/data/v61.0/query/01gDn00000000001-40",
                   "/services/data/v61.0/../../id/00D", "/services/data/v61.0/sobjects/User",
                   "/services/data/v61.0/query/01gDn0000000001AAA-40?q=x"):
        with pytest.raises(CrmError) as refused:
            crm.page(auth, "Lead", ("Id",), None, cursor)
        assert refused.value.code == "crm_bad_cursor"
    assert salesforce.requests == []
    assert soql("Lead", ("Id", "id", "Email"), "2026-01-01T01:02:03.999+01:00") == (
        "SELECT Id, Email, SystemModstamp, IsDeleted FROM Lead WHERE SystemModstamp >= "
        "2026-01-01T00:02:03Z ORDER BY SystemModstamp ASC, Id ASC")


def test_a_field_salesforce_does_not_know_is_its_refusal(crm: SalesforceCrm, auth: CrmAuth,
                                                         salesforce: SalesforceSandbox):
    with pytest.raises(CrmError) as refused:
        crm.page(auth, "Lead", ("Id", "Nickname__c"), None, None)
    assert refused.value.code == "crm_error"
    assert refused.value.details["error_code"] == "INVALID_FIELD"
    assert "No such column 'Nickname__c'" in refused.value.message


def test_an_expired_query_locator_says_so(crm: SalesforceCrm, auth: CrmAuth,
                                          salesforce: SalesforceSandbox):
    salesforce.seed(50)
    first = crm.page(auth, "Lead", ("Id",), None, None)
    salesforce.advance_clock(16 * 60)
    with pytest.raises(CrmError) as refused:
        crm.page(auth, "Lead", ("Id",), None, first.cursor)
    assert refused.value.code == "crm_cursor_expired"


# -- errors and retries --------------------------------------------------------------------


def test_an_invalid_session_is_crm_unauthorized(crm: SalesforceCrm,
                                                salesforce: SalesforceSandbox):
    stale = CrmAuth("00Dexpired", instance_url=salesforce.url)
    with pytest.raises(CrmUnauthorized):
        crm.page(stale, "Lead", ("Id",), None, None)
    with pytest.raises(CrmUnauthorized):
        crm.write(stale, "Lead", [("00QDn0000000001AAA", {"Title": "CFO"})])


def test_a_spent_request_limit_is_crm_quota_exceeded(crm: SalesforceCrm, auth: CrmAuth,
                                                     salesforce: SalesforceSandbox,
                                                     sleeps: list[float]):
    salesforce.seed(3)
    crm.page(auth, "Lead", ("Id",), None, None)
    assert crm.last_api_usage == (1, 5000)
    salesforce.exceed_request_limit()
    with pytest.raises(CrmQuotaExceeded):
        crm.page(auth, "Lead", ("Id",), None, None)
    assert crm.last_api_usage == (5001, 5000) and sleeps == []


def test_5xx_and_429_are_retried_with_back_off(crm: SalesforceCrm, auth: CrmAuth,
                                               salesforce: SalesforceSandbox,
                                               sleeps: list[float]):
    salesforce.seed(3)
    salesforce.fail_next(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}], count=2)
    salesforce.fail_next(429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}],
                         headers={"Retry-After": "5"})
    records, _ = read_all(crm, auth, fields=("Id",))
    assert len(records) == 3 and sleeps == [1.0, 2.0, 5.0]
    salesforce.fail_next(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "oops"}], count=9)
    with pytest.raises(CrmError) as refused:
        crm.page(auth, "Lead", ("Id",), None, None)
    assert refused.value.code == "crm_unavailable"
    assert sleeps[3:] == [1.0, 2.0, 4.0, 8.0]


def test_a_token_without_an_instance_url_is_refused(crm: SalesforceCrm):
    with pytest.raises(CrmError) as refused:
        crm.page(CrmAuth(TOKEN), "Lead", ("Id",), None, None)
    assert refused.value.code == "crm_no_instance_url"


# -- writes --------------------------------------------------------------------------------


def test_a_composite_write_reports_a_bad_picklist_value_and_saves_the_others(
        crm: SalesforceCrm, auth: CrmAuth, salesforce: SalesforceSandbox):
    # GIVEN 250 updates (two collections), one with a Status the picklist lacks
    ids = salesforce.seed(250)
    updates = [(i, {"Title": f"Title {n}", "Status": LEAD_STATUSES[1]})
               for n, i in enumerate(ids)]
    updates[42] = (ids[42], {"Title": "Bad", "Status": "Maybe"})
    # WHEN
    results = crm.write(auth, "Lead", updates)
    # THEN one result per update, in order, only the bad one refused
    assert [r.id for r in results] == ids
    assert [r.ok for r in results].count(False) == 1
    assert results[42].code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "Maybe" in (results[42].message or "")
    assert salesforce.records[ids[42]].fields["Title"] != "Bad"
    assert salesforce.records[ids[43]].fields["Title"] == "Title 43"
    assert salesforce.records[ids[249]].fields["Status"] == LEAD_STATUSES[1]
    assert [len(r.body["records"]) for r in salesforce.requests] == [200, 50]
    assert all(r.path == COLLECTION and r.body["allOrNone"] is False
               for r in salesforce.requests)
    assert salesforce.requests[0].body["records"][0]["attributes"] == {"type": "Lead"}


def test_an_empty_value_clears_the_field(crm: SalesforceCrm, auth: CrmAuth,
                                         salesforce: SalesforceSandbox):
    ids = salesforce.seed(2, "Contact")
    salesforce.update(ids[0], MobilePhone="+1 415 555 0100")
    results = crm.write(auth, "Contact", [(ids[0], {"MobilePhone": ""}),
                                          (ids[1], {"LastName": ""}),
                                          ("003Dn0000000zzzAAA", {"Title": "CFO"})])
    assert [(r.ok, r.code) for r in results] == [
        (True, None), (False, "REQUIRED_FIELD_MISSING"), (False, "INVALID_CROSS_REFERENCE_KEY")]
    assert salesforce.records[ids[0]].fields["MobilePhone"] is None


def test_a_write_refuses_names_that_are_not_updatable_fields(crm: SalesforceCrm, auth: CrmAuth,
                                                             salesforce: SalesforceSandbox):
    for name in ("Account.Name", "attributes", "Id", "Title\"", ""):
        with pytest.raises(CrmError) as refused:
            crm.write(auth, "Lead", [("00QDn0000000001AAA", {name: "x"})])
        assert refused.value.code == "crm_invalid_field"
    assert salesforce.requests == []

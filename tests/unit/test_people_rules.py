"""Pure rules of the people index and the suppression list (domain/people.py, suppression.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.lead import Lead
from chalicelib.domain.people import (
    PersonKey,
    parse_person,
    person_attributes,
    person_hash,
    suppression_keys,
)
from chalicelib.domain.suppression import parse_suppression
from chalicelib.services.person_suppression import keys_to_suppress


def _lead(**fields: str) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2026-11-26T00:00:00.000Z",
                updated_at="2026-11-26T00:00:00.000Z", **fields)  # type: ignore[arg-type]


def test_values_are_normalised_before_hashing():
    # GIVEN two spellings of one address WHEN parsed THEN one key
    a = parse_person({"email": " ADA@Example.com"})
    b = parse_person({"email": "ada@example.com"})
    assert a == b and a.hash == person_hash("email", "ada@example.com")
    # kinds never collide: the same text as a domain is another key
    assert person_hash("domain", "example.com") != person_hash("email", "example.com")


def test_exactly_one_value_is_required():
    with pytest.raises(ValidationFailed):
        parse_person({})
    with pytest.raises(ValidationFailed):
        parse_person({"email": "a@b.co", "phone": "+14155550134"})
    with pytest.raises(ValidationFailed):
        parse_person({"email": "not an address"})


def test_suppression_request_takes_a_domain_and_a_reason_code():
    request = parse_suppression({"domain": "@Acme.IO", "reason": "competitor"})
    assert request.key == PersonKey("domain", "acme.io") and request.reason == "competitor"
    assert parse_suppression({"phone": "+1 415 555 0134"}).reason == "manual"
    with pytest.raises(ValidationFailed):
        parse_suppression({"email": "a@b.co", "reason": "Not A Code!"})
    with pytest.raises(ValidationFailed):
        parse_suppression({"email": "a@b.co", "note": "x"})


def test_a_lead_is_checked_by_every_identity_and_its_domain():
    lead = _lead(email="ada@example.com", phone="+14155550134")
    kinds = {k.kind: k.value for k in suppression_keys(lead)}
    assert kinds == {"email": "ada@example.com", "phone": "+14155550134",
                     "domain": "example.com"}


def test_person_attributes_are_hashed_and_scoped_by_workspace():
    lead = _lead(email="ada@example.com")
    attributes = person_attributes("ws-1", lead)
    assert set(attributes) == {"px_email"}
    assert attributes["px_email"] == f"ws-1#{person_hash('email', 'ada@example.com')}"
    assert "ada" not in attributes["px_email"]
    assert person_attributes("ws-2", lead) != attributes


def test_masked_forms_do_not_hold_the_value():
    assert PersonKey("email", "ada@example.com").masked() == "a***@example.com"
    assert PersonKey("phone", "+14155550134").masked() == "***34"
    assert "lovelace" not in PersonKey(
        "linkedin_url", "https://www.linkedin.com/in/lovelace").masked()


def test_a_bounce_suppresses_the_address_an_unsubscription_the_person():
    lead = _lead(email="ada@example.com", phone="+14155550134")
    assert [k.kind for k in keys_to_suppress(lead, "bounced")] == ["email"]
    assert {k.kind for k in keys_to_suppress(lead, "unsubscribed")} == {"email", "phone"}


def test_a_report_cell_is_matched_by_its_normalised_value():
    from chalicelib.domain.people import cell_is

    key = PersonKey("email", "ada@example.com")
    assert cell_is("email", key.hash, " ADA@example.com ")
    assert cell_is("email", key.hash, "'ada@example.com")  # made inert by the report
    assert not cell_is("email", key.hash, "ada@example.co")
    assert not cell_is("email", key.hash, "not an address")
    phone = PersonKey("phone", "+14155550134")
    assert cell_is("phone", phone.hash, "(415) 555-0134", default_region="US")


def test_an_erasure_record_holds_no_personal_data():
    from chalicelib.domain.erasure import Erasure

    record = Erasure("er_1", "ws", "email", "2026-11-26T00:00:00.000Z", "tok_1")
    done = replace(record, leads_deleted=2, lists_touched=2, report_rows_removed=1,
                   exports_removed=1).finished("2026-11-26T00:01:00.000Z")
    assert done.status == "completed" and done.leads_deleted == 2
    assert Erasure.from_record(done.to_record()) == done
    assert set(done.to_api()) == {"id", "kind", "requested_at", "requested_by", "status",
                                  "finished_at", "leads_deleted", "lists_touched",
                                  "report_rows_removed", "import_copies_removed",
                                  "exports_removed", "deliveries_redacted"}

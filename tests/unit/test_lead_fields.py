"""Tests for chalicelib.domain.lead: parse_lead_fields, check_identity, Lead."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.lead import (
    INPUT_FIELDS,
    MAX_ALTERNATES,
    TEXT_FIELDS,
    Lead,
    check_email_status,
    check_identity,
    parse_lead_fields,
)
from chalicelib.domain.text import MAX_CUSTOM_FIELDS, MAX_TAGS, MAX_TEXT_LENGTH

REGION = "US"


def _parse(payload: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    return parse_lead_fields(payload, default_region=REGION, partial=partial)


def _errors(payload: dict[str, Any], *, partial: bool = False) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as info:
        _parse(payload, partial=partial)
    return info.value.errors


def _codes(payload: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    return {e.field: e.code for e in _errors(payload, partial=partial)}


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2024-01-01T00:00:00.000Z",
                updated_at="2024-01-01T00:00:00.000Z", **fields)


# --- full payload -----------------------------------------------------------------------------


def test_full_payload_is_normalised() -> None:
    # GIVEN a create payload with every field, written sloppily
    payload = {
        "first_name": "  Grace ",
        "last_name": "Hop\u202eper",
        "email": "  Grace.Hopper@Example.COM ",
        "phone": "(415) 555-0134 ext. 12",
        "company": "Navy",
        "job_title": "Rear Admiral",
        "linkedin_url": "http://uk.linkedin.com/in/Grace-Hopper/details/?trk=x",
        "location": "Arlington",
        "notes": "line one\r\nline two",
        "tags": ["  VIP ", "vip", "VIP", "cobol   pioneer"],
        "custom_fields": {"Company Size": " 500 ", "score": 9.5, "active": True,
                          "rank": 3, "missing": None},
        "status": "contacted",
    }

    # WHEN it is parsed
    out = _parse(payload)

    # THEN every value is in its stored form
    assert out["first_name"] == "Grace"
    assert out["last_name"] == "Hopper"
    assert out["email"] == "grace.hopper@example.com"
    assert out["phone"] == "+14155550134"
    assert out["phone_extension"] == "12"
    assert out["company"] == "Navy"
    assert out["job_title"] == "Rear Admiral"
    assert out["linkedin_url"] == "https://www.linkedin.com/in/grace-hopper"
    assert out["location"] == "Arlington"
    assert out["notes"] == "line one\nline two"
    # tags: trimmed and whitespace-collapsed; dedupe is case-sensitive, order kept
    assert out["tags"] == ("VIP", "vip", "cobol pioneer")
    # custom field keys normalised, values typed
    assert out["custom_fields"] == {"company_size": "500", "score": 9.5, "active": True,
                                    "rank": 3, "missing": None}
    assert type(out["custom_fields"]["active"]) is bool
    assert type(out["custom_fields"]["rank"]) is int
    assert out["status"] == "contacted"
    assert out["emails"] == ()
    assert out["phones"] == ()


def test_full_parse_fills_absent_fields_with_empty_values() -> None:
    # GIVEN a create payload with only an e-mail
    out = _parse({"email": "a@example.com"})

    # THEN every field is present, absent ones empty; status is not defaulted here
    for name in TEXT_FIELDS:
        assert out[name] is None
    assert out["phone"] is None
    assert out["phone_extension"] is None
    assert out["linkedin_url"] is None
    assert out["tags"] == ()
    assert out["emails"] == ()
    assert out["phones"] == ()
    assert out["custom_fields"] == {}
    assert "status" not in out


def test_blank_strings_become_none() -> None:
    out = _parse({"email": "   ", "phone": " ", "linkedin_url": "", "first_name": " \t "})
    assert out["email"] is None
    assert out["phone"] is None
    assert out["phone_extension"] is None
    assert out["linkedin_url"] is None
    assert out["first_name"] is None


# --- alternates -------------------------------------------------------------------------------


def test_alternate_emails_deduped_and_primary_removed() -> None:
    # GIVEN alternates that repeat each other and the primary in other cases
    out = _parse({
        "email": "Jane@Example.com",
        "emails": ["JANE@example.com", "b@example.com", "B@Example.com", " ", "c@example.com"],
    })

    # THEN the primary is gone from the alternates and each address appears once
    assert out["email"] == "jane@example.com"
    assert out["emails"] == ("b@example.com", "c@example.com")


def test_alternate_phones_deduped_and_primary_removed() -> None:
    out = _parse({
        "phone": "+1 415 555 0134",
        "phones": ["(415) 555-0134", "+44 20 7946 0018", "0044 20 7946 0018", "", "4155550135"],
    })
    assert out["phone"] == "+14155550134"
    assert out["phones"] == ("+442079460018", "+14155550135")


def test_alternate_phone_keeps_extension_rfc3966_style() -> None:
    out = _parse({"phones": ["415-555-0134 ext. 77", "415-555-0134 x77", "+44 20 7946 0018"]})
    assert out["phones"] == ("+14155550134;ext=77", "+442079460018")


def test_primary_phone_with_extension_is_removed_from_alternates() -> None:
    # GIVEN a primary with an extension, repeated in the alternates, plus the bare main line
    out = _parse({"phone": "415-555-0134 x12",
                  "phones": ["415-555-0134 x12", "(415) 555-0134"]})

    # THEN the primary (same number, same extension) is not an alternate; the main line is
    assert (out["phone"], out["phone_extension"]) == ("+14155550134", "12")
    assert out["phones"] == ("+14155550134",)


def test_alternates_without_primary_in_partial_mode_are_only_deduped() -> None:
    out = _parse({"emails": ["A@x.com", "a@x.com"], "phones": ["4155550134", "+14155550134"]},
                 partial=True)
    assert out == {"emails": ("a@x.com",), "phones": ("+14155550134",)}


def test_alternate_emails_over_limit_rejected() -> None:
    emails = [f"p{i}@example.com" for i in range(MAX_ALTERNATES + 1)]
    assert _codes({"emails": emails}, partial=True) == {"emails": "too_many_values"}
    # exactly the limit is fine
    assert len(_parse({"emails": emails[:MAX_ALTERNATES]}, partial=True)["emails"]) == 20


def test_bad_alternates_are_reported_by_index() -> None:
    codes = _codes({"emails": ["ok@example.com", "nope"], "phones": ["4155550134", "abc"]},
                   partial=True)
    assert codes == {"emails[1]": "invalid_email", "phones[1]": "unparseable_phone"}


# --- partial ----------------------------------------------------------------------------------


def test_partial_returns_only_given_keys() -> None:
    out = _parse({"company": " Acme ", "status": "qualified"}, partial=True)
    assert out == {"company": "Acme", "status": "qualified"}


def test_partial_null_clears_fields() -> None:
    # GIVEN a PATCH that nulls fields
    out = _parse({"email": None, "phone": None, "tags": None, "custom_fields": None,
                  "notes": None, "emails": None, "linkedin_url": None}, partial=True)

    # THEN each is cleared, and the phone's extension with it
    assert out == {"email": None, "phone": None, "phone_extension": None, "tags": (),
                   "custom_fields": {}, "notes": None, "emails": (), "linkedin_url": None}


def test_partial_empty_payload_changes_nothing() -> None:
    assert _parse({}, partial=True) == {}


def test_status_null_is_rejected() -> None:
    assert _codes({"status": None}, partial=True) == {"status": "invalid_status"}


# --- errors -----------------------------------------------------------------------------------


def test_every_error_is_collected_at_once() -> None:
    # GIVEN a payload where many fields are wrong in different ways
    payload = {
        "bogus": 1,
        "first_name": 5,
        "notes": "x" * (MAX_TEXT_LENGTH + 1),
        "email": "not-an-email",
        "emails": ["a@example.com"] * (MAX_ALTERNATES + 1),
        "phone": "12",
        "phones": ["abc"],
        "linkedin_url": "https://example.com/in/jane",
        "status": "won",
        "tags": ["t"] * (MAX_TAGS + 1),
        "custom_fields": {f"k{i}": i for i in range(MAX_CUSTOM_FIELDS + 1)},
    }

    # WHEN it is parsed
    codes = _codes(payload)

    # THEN one error per bad field, each with its own code
    assert codes == {
        "bogus": "unknown_field",
        "first_name": "invalid_type",
        "notes": "value_too_long",
        "email": "invalid_email",
        "emails": "too_many_values",
        "phone": "invalid_phone",
        "phones[0]": "unparseable_phone",
        "linkedin_url": "invalid_linkedin_url",
        "status": "invalid_status",
        "tags": "too_many_values",
        "custom_fields": "too_many_custom_fields",
    }


def test_validation_failed_details_list_every_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        _parse({"email": 1, "company": ["x"]})
    exc = info.value
    assert exc.code == "validation_error"
    assert exc.status == 400
    assert exc.details["errors"] == [e.as_dict() for e in exc.errors]
    assert {e["field"] for e in exc.details["errors"]} == {"email", "company"}
    assert all(e["message"] for e in exc.details["errors"])


@pytest.mark.parametrize("name", sorted(INPUT_FIELDS - {"status", "custom_fields"}))
def test_wrong_type_is_invalid_type(name: str) -> None:
    assert _codes({name: 42}, partial=True) == {name: "invalid_type"}


@pytest.mark.parametrize("value", [["ok", 1], "a string", {"a": "b"}])
def test_list_fields_require_arrays_of_strings(value: Any) -> None:
    assert _codes({"tags": value, "emails": value, "phones": value}, partial=True) == {
        "tags": "invalid_type", "emails": "invalid_type", "phones": "invalid_type"}


def test_custom_fields_must_be_an_object() -> None:
    assert _codes({"custom_fields": ["a"]}, partial=True) == {"custom_fields": "invalid_type"}


def test_invalid_tag_reported_by_index() -> None:
    assert _codes({"tags": ["ok", "   ", "x" * 65]}, partial=True) == {
        "tags[1]": "invalid_tag", "tags[2]": "invalid_tag"}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_custom_values_rejected(value: float) -> None:
    assert _codes({"custom_fields": {"Score": value}}, partial=True) == {
        "custom_fields.score": "invalid_type"}


def test_custom_field_value_errors() -> None:
    codes = _codes({"custom_fields": {
        "list": [1], "obj": {"a": 1}, "long": "x" * (MAX_TEXT_LENGTH + 1), "!!!": "v",
    }}, partial=True)
    assert codes == {
        "custom_fields.list": "invalid_type",
        "custom_fields.obj": "invalid_type",
        "custom_fields.long": "value_too_long",
        "custom_fields.!!!": "invalid_custom_field_key",
    }


def test_custom_fields_at_limit_accepted() -> None:
    fields = {f"k{i}": i for i in range(MAX_CUSTOM_FIELDS)}
    assert len(_parse({"custom_fields": fields}, partial=True)["custom_fields"]) == 100


def test_custom_blank_string_becomes_none() -> None:
    assert _parse({"custom_fields": {"a": "  "}}, partial=True) == {"custom_fields": {"a": None}}


@pytest.mark.parametrize("status", ["new", "contacted", "unsubscribed", "invalid"])
def test_known_statuses_accepted(status: str) -> None:
    assert _parse({"status": status}, partial=True) == {"status": status}


@pytest.mark.parametrize("status", ["New", " new", "won", "", 1, ["new"]])
def test_unknown_statuses_rejected(status: Any) -> None:
    assert _codes({"status": status}, partial=True) == {"status": "invalid_status"}


# --- identity, email_status ---------------------------------------------------------------------


@pytest.mark.parametrize("fields", [{}, {"email": None}, {"email": ""}, {"phone": "+14155550134"}])
def test_check_identity_missing(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_identity(fields, "email")
    assert [(e.field, e.code) for e in info.value.errors] == [("email", "missing_identity")]


@pytest.mark.parametrize(("identity", "fields"), [
    ("email", {"email": "a@example.com"}),
    ("phone", {"phone": "+14155550134"}),
    ("linkedin_url", {"linkedin_url": "https://www.linkedin.com/in/a"}),
])
def test_check_identity_present(identity: str, fields: dict[str, Any]) -> None:
    assert check_identity(fields, identity) is None


def test_check_email_status() -> None:
    assert check_email_status("valid") == "valid"
    with pytest.raises(ValidationFailed) as info:
        check_email_status("VALID")
    assert info.value.errors[0].code == "invalid_email_status"


# --- Lead -------------------------------------------------------------------------------------


def test_to_api_uses_plain_json_types_and_hides_version() -> None:
    lead = _lead(email="a@example.com", emails=("b@example.com",), phones=("+14155550134",),
                 tags=("x", "y"), custom_fields={"k": 1}, version=7)
    api = lead.to_api()
    assert "version" not in api
    assert api["emails"] == ["b@example.com"]
    assert api["phones"] == ["+14155550134"]
    assert api["tags"] == ["x", "y"]
    assert api["custom_fields"] == {"k": 1}
    assert isinstance(api["custom_fields"], dict)
    assert api["id"] == "ld_1"
    assert api["status"] == "new"
    assert api["email_status"] == "pending"
    # the API dict is a copy: editing it does not touch the lead
    api["custom_fields"]["k"] = 2
    assert lead.custom_fields == {"k": 1}


def test_with_changes_applies_parsed_changes_and_keeps_the_rest() -> None:
    before = _lead(email="a@example.com", company="Old", tags=("x",), version=3)
    changes = _parse({"company": "New", "tags": ["y"]}, partial=True)

    after = before.with_changes(changes, updated_at="2024-02-02T00:00:00.000Z")

    assert after.company == "New"
    assert after.tags == ("y",)
    assert after.email == "a@example.com"
    assert after.updated_at == "2024-02-02T00:00:00.000Z"
    assert after.created_at == before.created_at
    assert after.version == 3
    assert before.company == "Old"  # frozen original untouched


def test_identity_value() -> None:
    lead = _lead(email="a@example.com", tags=("x",))
    assert lead.identity_value("email") == "a@example.com"
    assert lead.identity_value("phone") is None
    assert lead.identity_value("tags") is None


# --- properties -------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])
FIELD_NAMES = sorted(INPUT_FIELDS)
JUNK_NAMES = ["", "id", "Email", "phone_extension", "version", "email_status", "custom.x"]
ANY_VALUE = st.one_of(st.none(), st.text(), st.integers(), st.lists(st.text()),
                      st.dictionaries(st.text(), st.text()))
ARBITRARY_PAYLOAD = st.dictionaries(st.sampled_from(FIELD_NAMES + JUNK_NAMES), ANY_VALUE)

# Values that usually parse, so the idempotence property sees real emails, phones, URLs.
_GOOD = {
    "first_name": st.sampled_from(["Grace", "  Ada ", "Zoë", "\x00x", ""]) | st.text(),
    "last_name": st.text(),
    "email": st.sampled_from(["Jane@Example.com", "a@bücher.de", "x@xn--bcher-kva.de", " "]),
    "emails": st.lists(st.sampled_from(["Jane@Example.com", "B@x.com", "b@x.com", " "]),
                       max_size=4),
    "phone": st.sampled_from(["(415) 555-0134", "415-555-0134 ext. 12", "+44 20 7946 0018",
                              "0044 20 7946 0018", ""]),
    "phones": st.lists(st.sampled_from(["(415) 555-0134", "415-555-0134 x7",
                                        "+44 20 7946 0018", "4155550135"]), max_size=4),
    "linkedin_url": st.sampled_from(["linkedin.com/in/Jane-Doe/", "//m.linkedin.com/in/j%C3%BC",
                                     "https://www.linkedin.com/in/x_y?trk=1"]),
    "tags": st.lists(st.text(min_size=1, max_size=10), max_size=5),
    "custom_fields": st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                  st.floats(allow_nan=False, allow_infinity=False)),
        max_size=5),
    "status": st.sampled_from(["new", "qualified", "completed"]),
    "company": st.text(), "job_title": st.text(), "location": st.text(), "notes": st.text(),
}
GOOD_PAYLOAD = st.fixed_dictionaries({}, optional=_GOOD)


def _parse_or_none(payload: dict[str, Any], *, partial: bool) -> dict[str, Any] | None:
    """Parse; ValidationFailed gives None, any other exception fails the test."""
    try:
        out = parse_lead_fields(payload, default_region=REGION, partial=partial)
    except ValidationFailed as exc:
        assert exc.errors
        assert all(isinstance(e.field, str) and e.code and e.message for e in exc.errors)
        return None
    assert isinstance(out, dict)
    return out


def _as_input(api: dict[str, Any]) -> dict[str, Any]:
    """The API form of a lead turned back into an input payload."""
    payload = {k: v for k, v in api.items() if k in INPUT_FIELDS}
    if api["phone"] is not None and api["phone_extension"] is not None:
        payload["phone"] = f"{api['phone']} ext. {api['phone_extension']}"
    return payload


@PROPERTY_SETTINGS
@given(payload=ARBITRARY_PAYLOAD | GOOD_PAYLOAD, partial=st.booleans())
def test_parse_returns_dict_or_raises_validation_failed(payload: dict[str, Any],
                                                        partial: bool) -> None:
    out = _parse_or_none(payload, partial=partial)
    if out is not None and partial:
        # partial parses only return what was given (plus the phone's extension)
        assert set(out) <= set(payload) | {"phone_extension"}
    if out is not None and not partial:
        assert set(INPUT_FIELDS) - {"status"} <= set(out)


@PROPERTY_SETTINGS
@given(payload=ARBITRARY_PAYLOAD | GOOD_PAYLOAD)
def test_normalisation_is_idempotent_through_the_api_form(payload: dict[str, Any]) -> None:
    # GIVEN a payload that parses
    out = _parse_or_none(payload, partial=False)
    if out is None:
        return

    # WHEN the lead's API form is parsed again
    api = _lead(**out).to_api()
    again = parse_lead_fields(_as_input(api), default_region=REGION)

    # THEN the same values come back
    expected = {**out, "status": out.get("status", "new")}
    assert again == expected

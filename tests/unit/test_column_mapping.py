"""Automatic mapping of import-file headers onto lead fields, and mapping validation."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.column_mapping import (
    LIST_TARGETS,
    TARGET_FIELDS,
    ColumnMatch,
    auto_map,
    mapping_dict,
    match_key,
    unique_headers,
)
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.mapping_check import validate_mapping
from chalicelib.domain.text import MAX_CUSTOM_FIELDS, normalise_custom_field_key


def targets(headers: list[str]) -> dict[str, str | None]:
    return mapping_dict(auto_map(unique_headers(headers)))


def by_column(headers: list[str]) -> dict[str, ColumnMatch]:
    return {m.column: m for m in auto_map(unique_headers(headers))}


def assert_single_targets_distinct(matches: list[ColumnMatch]) -> None:
    claimed = Counter(m.target for m in matches
                      if m.target is not None and m.target not in LIST_TARGETS)
    assert [t for t, n in claimed.items() if n > 1] == []


# --- normalisation -----------------------------------------------------------------

@pytest.mark.parametrize("header", [
    "E-mail Address", "email_address", "EMAIL ADDRESS", "emailAddress", " Email.Address ",
    "e mail  address",
])
def test_match_key_ignores_case_spacing_punctuation_underscores(header):
    assert match_key(header) == "emailaddress"
    assert targets([header]) == {header.strip(): "email"}


def test_match_key_drops_accents_and_splits_camel_case_and_numbers():
    assert match_key("Prénom") == "prenom"
    assert match_key("linkedinUrl") == "linkedinurl"
    assert match_key("Email2") == "email2"
    assert match_key("\uff23\uff2f\uff2d\uff30\uff21\uff2e\uff39") == "company"  # full-width


# --- realistic exports -------------------------------------------------------------

def test_hubspot_contacts_export():
    headers = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
               "Mobile Phone Number", "Company Name", "Job Title", "City", "State/Region",
               "Country/Region", "LinkedIn Bio", "Lead Status", "Lifecycle Stage",
               "Contact owner", "Create Date", "Last Activity Date"]
    assert targets(headers) == {
        "Record ID": "custom:record_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "phones",
        "Company Name": "company",
        "Job Title": "job_title",
        "City": "location",
        "State/Region": "custom:state_region",
        "Country/Region": "custom:country_region",
        # a text bio, not a profile URL: it would fail URL normalisation on every row
        "LinkedIn Bio": "custom:linkedin_bio",
        "Lead Status": "status",
        "Lifecycle Stage": "custom:lifecycle_stage",
        "Contact owner": "custom:contact_owner",
        "Create Date": "custom:create_date",
        "Last Activity Date": "custom:last_activity_date",
    }


def test_salesforce_leads_export():
    headers = ["Lead ID", "Salutation", "First Name", "Last Name", "Title", "Company / Account",
               "Email", "Phone", "Mobile", "Fax", "Lead Source", "Lead Status", "Rating",
               "Street", "City", "State/Province", "Zip/Postal Code", "Country", "Description",
               "Lead Owner"]
    assert targets(headers) == {
        "Lead ID": "custom:lead_id",
        "Salutation": "custom:salutation",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Company / Account": "company",
        "Email": "email",
        "Phone": "phone",
        "Mobile": "phones",
        "Fax": "custom:fax",
        "Lead Source": "custom:lead_source",
        "Lead Status": "status",
        "Rating": "custom:rating",
        "Street": "custom:street",
        "City": "location",
        "State/Province": "custom:state_province",
        "Zip/Postal Code": "custom:zip_postal_code",
        "Country": "custom:country",
        "Description": "notes",
        "Lead Owner": "custom:lead_owner",
    }


def test_salesforce_contacts_export():
    headers = ["First Name", "Last Name", "Title", "Account Name", "Email", "Phone",
               "Mailing Street", "Mailing City", "Mailing State/Province", "Mailing Country"]
    assert targets(headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Account Name": "company",
        "Email": "email",
        "Phone": "phone",
        "Mailing Street": "custom:mailing_street",
        "Mailing City": "location",
        "Mailing State/Province": "custom:mailing_state_province",
        "Mailing Country": "custom:mailing_country",
    }


def test_apollo_export():
    headers = ["First Name", "Last Name", "Title", "Company", "Company Name for Emails", "Email",
               "Email Status", "Primary Email Source", "Email Confidence",
               "Primary Email Catch-all Status", "Seniority", "Departments", "Contact Owner",
               "Work Direct Phone", "Home Phone", "Mobile Phone", "Corporate Phone",
               "Other Phone", "Stage", "Lists", "Last Contacted", "# Employees", "Industry",
               "Person Linkedin Url", "Website", "Company Linkedin Url", "Facebook Url",
               "Twitter Url", "City", "State", "Country", "Company Address", "Company City",
               "Company State", "Company Country", "Company Phone", "Secondary Email",
               "Tertiary Email"]
    got = targets(headers)
    fields = {c: t for c, t in got.items() if t is not None and not t.startswith("custom:")}
    assert fields == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Company": "company",
        "Email": "email",
        # no plain "Phone": the first phone-like column is the primary
        "Work Direct Phone": "phone",
        "Home Phone": "phones",
        "Mobile Phone": "phones",
        "Corporate Phone": "phones",
        "Other Phone": "phones",
        "Company Phone": "phones",
        "Person Linkedin Url": "linkedin_url",
        "City": "location",
        "Secondary Email": "emails",
        "Tertiary Email": "emails",
    }
    # the company's LinkedIn page and HQ address are not the person's
    assert got["Company Linkedin Url"] == "custom:company_linkedin_url"
    assert got["Company City"] == "custom:company_city"
    assert got["Email Status"] == "custom:email_status"
    assert got["Primary Email Source"] == "custom:primary_email_source"
    assert got["Company Name for Emails"] == "custom:company_name_for_emails"
    assert got["State"] == "custom:state"
    assert got["# Employees"] == "custom:employees"


def test_sales_navigator_exports():
    assert targets(["First Name", "Last Name", "Headline", "Current Company", "Location",
                    "Profile URL"]) == {
        "First Name": "first_name", "Last Name": "last_name", "Headline": "job_title",
        "Current Company": "company", "Location": "location", "Profile URL": "linkedin_url",
    }
    # Phantombuster style: the /in/ URL column beats the Sales Navigator one
    got = targets(["profileUrl", "fullName", "firstName", "lastName", "companyName", "title",
                   "companyId", "companyUrl", "location", "linkedInProfileUrl", "timestamp",
                   "Sales Navigator URL"])
    assert got == {
        "profileUrl": "custom:profileurl", "fullName": "full_name", "firstName": "first_name",
        "lastName": "last_name", "companyName": "company", "title": "job_title",
        "companyId": "custom:companyid", "companyUrl": "custom:companyurl",
        "location": "location", "linkedInProfileUrl": "linkedin_url",
        "timestamp": "custom:timestamp", "Sales Navigator URL": "custom:sales_navigator_url",
    }
    # title beats headline when both exist
    assert targets(["Title", "Headline"]) == {"Title": "job_title", "Headline": "custom:headline"}


def test_lemlist_and_instantly_exports():
    assert targets(["email", "firstName", "lastName", "companyName", "phone", "linkedinUrl",
                    "picture", "icebreaker", "jobTitle", "companyDomain"]) == {
        "email": "email", "firstName": "first_name", "lastName": "last_name",
        "companyName": "company", "phone": "phone", "linkedinUrl": "linkedin_url",
        "picture": "custom:picture", "icebreaker": "custom:icebreaker",
        "jobTitle": "job_title", "companyDomain": "custom:companydomain",
    }
    assert targets(["email", "first_name", "last_name", "company_name", "website",
                    "personalization", "linkedin"]) == {
        "email": "email", "first_name": "first_name", "last_name": "last_name",
        "company_name": "company", "website": "custom:website",
        "personalization": "custom:personalization", "linkedin": "linkedin_url",
    }


@pytest.mark.parametrize(("headers", "expected"), [
    (["Given name", "Surname", "E-mail", "Tel", "Mobile", "Organisation", "Position", "Notes",
      "Tags", "Status"],
     ["first_name", "last_name", "email", "phone", "phones", "company", "job_title", "notes",
      "tags", "status"]),
    (["Forename", "Family name", "Email Address", "Telephone", "Cell", "Organization", "Role",
      "Comments", "Labels", "Lead Status"],
     ["first_name", "last_name", "email", "phone", "phones", "company", "job_title", "notes",
      "tags", "status"]),
    (["Name", "Contact Name"], ["full_name", "custom:contact_name"]),
    (["Full name", "E-mail", "Address"], ["full_name", "email", "location"]),
])
def test_spreadsheet_headers(headers, expected):
    assert list(targets(headers).values()) == expected


@pytest.mark.parametrize(("headers", "expected"), [
    (["Prénom", "Nom", "Courriel", "Téléphone", "Société", "Poste", "Ville"],
     ["first_name", "last_name", "email", "phone", "company", "job_title", "location"]),
    (["Vorname", "Nachname", "E-Mail", "Telefon", "Firma", "Position", "Stadt"],
     ["first_name", "last_name", "email", "phone", "company", "job_title", "location"]),
    (["Nombre", "Apellido", "Correo electrónico", "Teléfono", "Empresa", "Cargo", "Ciudad"],
     ["first_name", "last_name", "email", "phone", "company", "job_title", "location"]),
    (["PRENOM", "NOM", "EMAIL", "TELEPHONE", "SOCIETE"],
     ["first_name", "last_name", "email", "phone", "company"]),
    # context: "Nom" alone is the whole name, "Name" next to "Vorname" is the surname
    (["Nom", "Courriel"], ["full_name", "email"]),
    (["Vorname", "Name", "E-Mail"], ["first_name", "last_name", "email"]),
    (["Nom complet", "Adresse e-mail", "Numéro de téléphone", "Entreprise"],
     ["full_name", "email", "phone", "company"]),
])
def test_non_english_headers(headers, expected):
    assert list(targets(headers).values()) == expected


# --- typos and dangerous look-alikes ---------------------------------------------------

@pytest.mark.parametrize(("header", "target"), [
    ("Emial", "email"), ("Frist Name", "first_name"), ("Compnay", "company"),
    ("Last Nmae", "last_name"), ("Phone Numbr", "phone"), ("Emial Adress", "email"),
    ("Job Tilte", "job_title"), ("Linkedin Ulr", "linkedin_url"), ("Compnay Name", "company"),
])
def test_typos_map_fuzzily(header, target):
    match = by_column([header])[header]
    assert (match.target, match.method) == (target, "fuzzy")
    assert 80 <= match.score < 100


@pytest.mark.parametrize("header", [
    "Emailed At", "Emailed On", "Email Opened", "Email Sent Date", "Email Verified",
    "Email Checked", "Email Bounced", "Email Count", "Emails Sent", "Email Status",
    "Phone Verified", "Phone Validated", "Mobile Verified", "Phone Verified At", "Phone Type",
    "Company Size", "Company Size Range", "Company ID", "Company Domain", "Company Founded",
    "Last Contacted", "Last Contacted Date", "Last Name Updated", "First Seen",
    "Name Verified", "Title Changed At", "Status Date", "Created At", "Updated At", "ID",
    "Contract", "Votes", "Stage", "County", "Stats", "Emailed", "Phoned", "Lead ID",
    "Linkedin Connections", "Company Linkedin Url", "emailed_at", "phoneVerifiedAt",
])
def test_date_flag_and_count_columns_never_map_onto_lead_fields(header):
    match = by_column([header])[header]
    assert match.method == "custom", match
    assert match.target == "custom:" + normalise_custom_field_key(header)


def test_exact_synonym_beats_fuzzy_match():
    got = by_column(["Compnay", "Company"])
    assert got["Company"].target == "company"
    assert got["Compnay"].target == "custom:compnay"
    # for email the loser is an alternate, not a custom field
    assert targets(["Emial", "Email"]) == {"Emial": "emails", "Email": "email"}


# --- conflicts -------------------------------------------------------------------------

def test_two_columns_onto_one_field_leftmost_wins_the_other_is_custom():
    assert targets(["Company", "Organization", "Company Name"]) == {
        "Company": "company", "Organization": "custom:organization",
        "Company Name": "custom:company_name",
    }
    assert targets(["First Name", "first_name", "FIRST NAME"]) == {
        "First Name": "first_name", "first_name": "custom:first_name",
        "FIRST NAME": "custom:first_name_2",
    }


def test_synonym_rank_beats_position():
    # "Current Company" is a weaker company synonym than "Company"
    assert targets(["Current Company", "Company"]) == {
        "Current Company": "custom:current_company", "Company": "company"}


def test_primary_email_and_alternates():
    assert targets(["Work Email", "Email", "Email 2", "Secondary Email", "Other Email"]) == {
        "Work Email": "emails", "Email": "email", "Email 2": "emails",
        "Secondary Email": "emails", "Other Email": "emails",
    }
    # no plain email column: the best qualified one is the primary
    assert targets(["Personal Email", "Work Email"]) == {
        "Personal Email": "email", "Work Email": "emails"}
    assert targets(["Email 2", "Work Email"]) == {"Email 2": "emails", "Work Email": "email"}
    # a plural column is a list and never the primary
    assert targets(["Emails"]) == {"Emails": "emails"}


def test_primary_phone_prefers_exact_phone():
    assert targets(["Mobile Phone", "Phone 2", "Phone Number", "Other Phone"]) == {
        "Mobile Phone": "phones", "Phone 2": "phones", "Phone Number": "phone",
        "Other Phone": "phones",
    }
    assert targets(["Phone 2", "Mobile", "Work Phone"]) == {
        "Phone 2": "phones", "Mobile": "phone", "Work Phone": "phones"}
    assert targets(["Phone 1", "Phone 2", "Phone 3"]) == {
        "Phone 1": "phone", "Phone 2": "phones", "Phone 3": "phones"}


def test_location_picks_one_column_the_others_become_custom():
    assert targets(["City", "State", "Country"]) == {
        "City": "location", "State": "custom:state", "Country": "custom:country"}
    assert targets(["Country", "State", "City", "Location"]) == {
        "Country": "custom:country", "State": "custom:state", "City": "custom:city",
        "Location": "location"}
    assert targets(["Address", "City"]) == {"Address": "custom:address", "City": "location"}
    assert targets(["Country"]) == {"Country": "location"}


def test_list_targets_take_several_columns():
    assert targets(["Tags", "Tag 1", "Tag 2", "Labels"]) == {
        "Tags": "tags", "Tag 1": "tags", "Tag 2": "tags", "Labels": "tags"}


def test_numbered_single_field_columns():
    assert targets(["First Name 1", "First Name 2"]) == {
        "First Name 1": "first_name", "First Name 2": "custom:first_name_2"}
    assert targets(["Address Line 1", "Address Line 2"]) == {
        "Address Line 1": "location", "Address Line 2": "custom:address_line_2"}


def test_duplicate_headers_after_unique_headers():
    headers = unique_headers(["Email", "Email", "Company", "Company", "Notes", "Notes"])
    assert headers == ["Email", "Email (2)", "Company", "Company (2)", "Notes", "Notes (2)"]
    assert mapping_dict(auto_map(headers)) == {
        "Email": "email", "Email (2)": "emails", "Company": "company",
        "Company (2)": "custom:company_2", "Notes": "notes", "Notes (2)": "custom:notes_2",
    }


# --- custom fields -----------------------------------------------------------------------

def test_unmatched_columns_become_distinct_custom_fields():
    got = by_column(["Industry Vertical", "industry-vertical", "Industry_Vertical_2"])
    assert [m.target for m in got.values()] == [
        "custom:industry_vertical", "custom:industry_vertical_2",
        "custom:industry_vertical_2_2"]
    assert {m.method for m in got.values()} == {"custom"}
    assert {m.score for m in got.values()} == {0.0}


def test_header_without_a_valid_key_is_ignored():
    long = "What is your biggest challenge with lead generation this quarter and why?"
    got = by_column(["Email", "!!!", "---", long])
    assert got["!!!"] == ColumnMatch("!!!", None, "ignored", 0.0)
    assert got["---"].method == "ignored"
    assert got[long].method == "ignored"


def test_custom_fields_are_capped_at_what_a_lead_holds():
    headers = ["Email"] + [f"Field {i}" for i in range(MAX_CUSTOM_FIELDS + 10)]
    matches = auto_map(headers)
    assert sum(m.method == "custom" for m in matches) == MAX_CUSTOM_FIELDS
    assert [m.method for m in matches[-10:]] == ["ignored"] * 10
    assert matches[MAX_CUSTOM_FIELDS].target == f"custom:field_{MAX_CUSTOM_FIELDS - 1}"


def test_long_custom_keys_stay_within_the_limit_when_suffixed():
    header = "x" * 64
    got = targets([header, header + "!", header + "?"])
    keys = [t.removeprefix("custom:") for t in got.values() if t]
    assert len(set(keys)) == 3
    assert all(len(k) <= 64 and normalise_custom_field_key(k) == k for k in keys)


# --- unique_headers ----------------------------------------------------------------------

def test_unique_headers_trims_names_blanks_and_suffixes_duplicates():
    assert unique_headers([" Email ", "", "Email", "  ", "Email", "\ufeffName"]) == [
        "Email", "column_2", "Email (2)", "column_4", "Email (3)", "Name"]


def test_unique_headers_never_takes_a_name_a_later_header_has():
    assert unique_headers(["A", "A", "A (2)"]) == ["A", "A (3)", "A (2)"]
    assert unique_headers(["", "column_1"]) == ["column_1 (2)", "column_1"]
    assert unique_headers(["x", "x (2)", "x", "x"]) == ["x", "x (2)", "x (3)", "x (4)"]


def test_unique_headers_is_linear_on_many_duplicates():
    headers = unique_headers(["Email"] * 10_000 + [f"Email ({n})" for n in range(2, 5000)])
    assert len(set(headers)) == len(headers) == 10_000 + 4998
    assert headers[1] == "Email (5000)"


def test_ten_thousand_columns_complete():
    headers = unique_headers(
        ["Email", "First Name", "Phone"]
        + [f"{w} {i}" for i in range(5_000) for w in ("Emial", "Notes")]
        + [f"Q{i} answer" for i in range(5_000)])
    matches = auto_map(headers)
    assert len(matches) == len(headers)
    assert_single_targets_distinct(matches)
    assert matches[0].target == "email"


# --- validate_mapping ---------------------------------------------------------------------

HEADERS = ["Email", "Name", "Phone", "Mobile", "Company Size", "Notes"]


def test_validate_mapping_returns_cleaned_mapping_for_every_header():
    mapping = {"Email": "email", "Name": "full_name", "Mobile": "phones",
               "Company Size": "custom:Company Size", "Notes": None}
    assert validate_mapping(mapping, HEADERS, "email") == {
        "Email": "email", "Name": "full_name", "Phone": None, "Mobile": "phones",
        "Company Size": "custom:company_size", "Notes": None,
    }


def test_validate_mapping_accepts_the_auto_mapping():
    mapping = mapping_dict(auto_map(HEADERS))
    assert validate_mapping(mapping, HEADERS, "email") == mapping
    assert validate_mapping(mapping, HEADERS, "phone") == mapping


def codes(exc: ValidationFailed) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in exc.errors]


def test_validate_mapping_lists_every_problem():
    mapping = {
        "Email": "email",
        "Nope": "notes",
        "Name": "fullname",
        "Phone": 3,
        "Mobile": "custom:!!!",
        "Company Size": "email",
        "Notes": ["notes"],
    }
    with pytest.raises(ValidationFailed) as info:
        validate_mapping(mapping, HEADERS, "linkedin_url")
    assert codes(info.value) == [
        ("mapping.Nope", "unknown_column"),
        ("mapping.Name", "unknown_target_field"),
        ("mapping.Phone", "invalid_type"),
        ("mapping.Mobile", "invalid_custom_field_key"),
        ("mapping.Company Size", "duplicate_target"),
        ("mapping.Notes", "invalid_type"),
        ("mapping", "identity_not_mapped"),
    ]
    assert info.value.details["errors"][4]["message"].startswith(
        "Columns 'Email' and 'Company Size'")


def test_validate_mapping_duplicate_custom_keys_after_normalisation():
    with pytest.raises(ValidationFailed) as info:
        validate_mapping({"Email": "email", "Name": "custom:Size", "Notes": "custom:size"},
                         HEADERS, "email")
    assert codes(info.value) == [("mapping.Notes", "duplicate_target")]


def test_validate_mapping_list_targets_take_several_columns():
    mapping = {"Email": "email", "Phone": "phones", "Mobile": "phones", "Name": "tags",
               "Notes": "tags"}
    assert validate_mapping(mapping, HEADERS, "email")["Mobile"] == "phones"


@pytest.mark.parametrize(("identity", "mapping"), [
    ("email", {"Email": "emails"}),
    ("email", {"Name": "full_name"}),
    ("phone", {"Phone": "phones"}),
    ("linkedin_url", {"Email": "email"}),
])
def test_validate_mapping_identity_must_be_mapped(identity, mapping):
    with pytest.raises(ValidationFailed) as info:
        validate_mapping(mapping, HEADERS, identity)
    assert codes(info.value) == [("mapping", "identity_not_mapped")]


def test_validate_mapping_too_many_custom_fields():
    headers = ["Email"] + [f"f{i}" for i in range(MAX_CUSTOM_FIELDS + 1)]
    mapping = {h: f"custom:{h}" for h in headers[1:]} | {"Email": "email"}
    with pytest.raises(ValidationFailed) as info:
        validate_mapping(mapping, headers, "email")
    assert codes(info.value) == [("mapping", "too_many_custom_fields")]


def test_target_fields_constant():
    assert set(TARGET_FIELDS) >= {"email", "emails", "phone", "phones", "tags", "full_name"}
    assert sorted(LIST_TARGETS) == ["emails", "phones", "tags"]


# --- properties ----------------------------------------------------------------------------

REAL_HEADERS = [
    "Email", "E-mail", "Work Email", "Email 2", "Emial", "Phone", "Mobile", "Phone Number",
    "Other Phone", "First Name", "Frist Name", "Last Name", "Name", "Nom", "Prénom", "Vorname",
    "Company", "Company Name", "Compnay", "Title", "Headline", "City", "State", "Country",
    "Location", "Address", "Notes", "Tags", "Status", "LinkedIn URL", "Profile URL",
    "Emailed At", "Company Size", "column_1", "",
]
HEADER_LISTS = st.lists(st.text() | st.sampled_from(REAL_HEADERS), max_size=50)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HEADER_LISTS)
def test_auto_map_never_doubles_a_single_value_target(raw):
    headers = unique_headers(raw)
    assert len(headers) == len(raw) == len(set(headers))
    matches = auto_map(headers)
    assert [m.column for m in matches] == headers
    assert_single_targets_distinct(matches)
    for m in matches:
        assert m.method in {"synonym", "fuzzy", "custom", "ignored"}
        assert (m.target is None) == (m.method == "ignored")
        if m.target is not None and m.target.startswith("custom:"):
            key = m.target.removeprefix("custom:")
            assert normalise_custom_field_key(key) == key
        else:
            assert m.target is None or m.target in TARGET_FIELDS
    # the auto mapping is always a valid mapping, identity aside
    try:
        validate_mapping(mapping_dict(matches), headers, "email")
    except ValidationFailed as exc:
        assert [e.code for e in exc.errors] == ["identity_not_mapped"]

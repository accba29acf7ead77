"""Rules of email deliverability: DNS facts → domain verdict → email verdict → lead write."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.dns_lookup import parse_nameservers
from chalicelib.domain.activity import Activity, with_current_verdict
from chalicelib.domain.deliverability import (
    DNS_OUTCOMES,
    REASONS,
    DomainFacts,
    DomainVerdict,
    EmailVerdict,
    TtlPolicy,
    classify,
    domain_verdict,
    email_verdict,
    is_disposable,
    is_role_address,
    lookup_domain,
    verdict_for,
)
from chalicelib.domain.import_job import verification_counts
from chalicelib.domain.lead import Lead
from chalicelib.domain.verification import LeadSnapshot, plan_update, verdict_at_save

POLICY = TtlPolicy(min_seconds=3600, max_seconds=86400, unknown_seconds=60)


def _domain(status: str, reason: str, domain: str = "acme.io") -> DomainVerdict:
    return DomainVerdict(domain, status, reason, 1000, 5000)


@pytest.mark.parametrize(("outcome", "status", "reason"), [
    ("mx", "valid", "mx_found"),
    ("a_fallback", "risky", "no_mx_a_fallback"),
    ("null_mx", "invalid", "null_mx"),
    ("no_address", "invalid", "no_mail_server"),
    ("nxdomain", "invalid", "domain_not_found"),
    ("spf_reject_all", "invalid", "spf_reject_all"),
    ("timeout", "unknown", "dns_timeout"),
    ("servfail", "unknown", "dns_servfail"),
])
def test_each_dns_outcome_has_its_verdict(outcome: str, status: str, reason: str) -> None:
    verdict = domain_verdict("acme.io", DomainFacts(outcome, 300), now=1000, policy=POLICY)
    assert (verdict.status, verdict.reason) == (status, reason)
    assert reason in REASONS
    assert verdict.checked_at == 1000


def test_every_outcome_is_mapped_and_an_unknown_one_is_refused() -> None:
    for outcome in DNS_OUTCOMES:
        domain_verdict("x.io", DomainFacts(outcome), now=0, policy=POLICY)
    with pytest.raises(ValueError, match="unknown DNS outcome"):
        domain_verdict("x.io", DomainFacts("maybe"), now=0, policy=POLICY)


@pytest.mark.parametrize(("facts", "seconds"), [
    (DomainFacts("mx", 300), 3600),        # a short DNS TTL is stretched to the floor
    (DomainFacts("mx", 7200), 7200),       # within bounds: the DNS TTL itself
    (DomainFacts("mx", 10**7), 86400),     # a long one is cut to the ceiling
    (DomainFacts("nxdomain"), 3600),       # negative answers: the floor
    (DomainFacts("timeout"), 60),          # failures: briefly, so a retry asks again
    (DomainFacts("servfail"), 60),
])
def test_verdicts_are_fresh_for_the_clamped_ttl(facts: DomainFacts, seconds: int) -> None:
    verdict = domain_verdict("acme.io", facts, now=1000, policy=POLICY)
    assert verdict.expires_at == 1000 + seconds
    assert verdict.fresh(1000 + seconds - 1) and not verdict.fresh(1000 + seconds)


@pytest.mark.parametrize(("email", "domain", "expected"), [
    ("ada@acme.io", _domain("valid", "mx_found"), ("valid", "mx_found")),
    ("ada@acme.io", _domain("risky", "no_mx_a_fallback"), ("risky", "no_mx_a_fallback")),
    ("ada@acme.io", _domain("invalid", "null_mx"), ("invalid", "null_mx")),
    ("ada@acme.io", _domain("unknown", "dns_timeout"), ("unknown", "dns_timeout")),
    # the address tells what DNS cannot
    ("sales@acme.io", _domain("valid", "mx_found"), ("risky", "role_address")),
    ("ada@mailinator.com", _domain("valid", "mx_found", "mailinator.com"),
     ("risky", "disposable_domain")),
    # a dead domain is invalid even for a role or disposable address
    ("info@acme.io", _domain("invalid", "domain_not_found"), ("invalid", "domain_not_found")),
    ("x@yopmail.com", _domain("invalid", "null_mx", "yopmail.com"), ("invalid", "null_mx")),
    # not knowing beats a guess
    ("info@acme.io", _domain("unknown", "dns_servfail"), ("unknown", "dns_servfail")),
    # disposable is the more specific risk
    ("info@mailinator.com", _domain("valid", "mx_found", "mailinator.com"),
     ("risky", "disposable_domain")),
    # decided without DNS
    ("not-an-email", None, ("invalid", "bad_syntax")),
    ("ada@@acme.io", None, ("invalid", "bad_syntax")),
    ("ada@printer.local", None, ("invalid", "special_use_domain")),
    ("ada@host.onion", None, ("invalid", "special_use_domain")),
])
def test_email_verdict(email: str, domain: DomainVerdict | None,
                       expected: tuple[str, str]) -> None:
    verdicts = {domain.domain: domain} if domain else {}
    verdict = verdict_for(email, verdicts)
    assert (verdict.status, verdict.reason) == expected
    if domain is not None:  # the two steps the worker takes give the same
        name, decided = classify(email)
        assert decided is None and name == domain.domain
        assert email_verdict(email, name, domain) == verdict


def test_a_valid_address_without_its_domain_verdict_is_a_bug() -> None:
    with pytest.raises(KeyError):
        verdict_for("ada@acme.io", {})


@pytest.mark.parametrize(("email", "domain"), [
    ("ada@acme.io", "acme.io"), ("ADA@Acme.IO", "acme.io"), ("ada@bücher.de", "bücher.de"),
    ("ada@printer.local", None), ("nope", None), ("a@b@c.io", None),
])
def test_lookup_domain(email: str, domain: str | None) -> None:
    assert lookup_domain(email) == domain


@pytest.mark.parametrize(("email", "role"), [
    ("info@acme.io", True), ("no-reply@acme.io", True), ("no_reply@acme.io", True),
    ("noreply@acme.io", True), ("sales+eu@acme.io", True), ("Support@acme.io", False),
    ("ada@acme.io", False), ("salesforce@acme.io", False), ("information.desk@acme.io", False),
])
def test_role_addresses(email: str, role: bool) -> None:
    # addresses reach this stage normalised (lowercase): "Support" never does
    assert is_role_address(email) is role


@pytest.mark.parametrize(("domain", "disposable"), [
    ("mailinator.com", True), ("eu.mailinator.com", True), ("yopmail.com", True),
    ("gmail.com", False), ("mailinator.com.acme.io", False), ("com", False),
])
def test_disposable_domains_come_from_the_list(domain: str, disposable: bool) -> None:
    assert is_disposable(domain) is disposable


@pytest.mark.parametrize(("text", "expected"), [
    ("", ()), ("system", ()), (" System ", ()),
    ("127.0.0.1:5353", (("127.0.0.1", 5353),)),
    ("10.0.0.2", (("10.0.0.2", 53),)),
    ("[::1]:5300, 10.0.0.2", (("::1", 5300), ("10.0.0.2", 53))),
    ("2001:db8::1", (("2001:db8::1", 53),)),
])
def test_parse_nameservers(text: str, expected: tuple[tuple[str, int], ...]) -> None:
    assert parse_nameservers(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:0", "127.0.0.1:70000", "host:port"])
def test_bad_nameservers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nameservers(text)


# --- planning a lead's write -------------------------------------------------------------
SNAP = LeadSnapshot(email="ada@acme.io", status="new", email_status="pending",
                    email_status_reason=None, version=3)
VALID = EmailVerdict("valid", "mx_found")
INVALID = EmailVerdict("invalid", "null_mx")


def _plan(snapshot: LeadSnapshot | None, verdict: EmailVerdict, identity: str = "email") -> Any:
    return plan_update("ld_1", "ada@acme.io", snapshot, verdict, identity=identity,
                       now_iso="2026-11-22T10:00:00.000Z", now_ms=1_795_000_000_000)


def test_first_verdict_is_one_conditional_write_without_activity() -> None:
    update = _plan(SNAP, VALID)
    assert update is not None
    assert (update.email_status, update.email_status_reason, update.version) == \
        ("valid", "mx_found", 3)
    assert update.lead_status is None and update.activities == []


@pytest.mark.parametrize("snapshot", [
    None,  # deleted meanwhile
    LeadSnapshot("other@acme.io", "new", "pending", None, 4),  # email changed: newer request
    LeadSnapshot("ada@acme.io", "new", "valid", "mx_found", 4),  # already carries it
])
def test_nothing_to_write(snapshot: LeadSnapshot | None) -> None:
    assert _plan(snapshot, VALID) is None


def test_invalid_identity_email_makes_a_new_lead_invalid_with_a_timeline_entry() -> None:
    update = _plan(SNAP, INVALID)
    assert update is not None and update.lead_status == "invalid"
    assert [(a.type, a.data["to"], a.data["by"]) for a in update.activities] == [
        ("status_changed", "invalid", "verification")]


@pytest.mark.parametrize(("identity", "status"), [("phone", "new"), ("email", "replied")])
def test_lead_status_is_left_alone(identity: str, status: str) -> None:
    snapshot = LeadSnapshot("ada@acme.io", status, "pending", None, 1)
    update = _plan(snapshot, INVALID, identity)
    assert update is not None and update.lead_status is None and update.activities == []


@pytest.mark.parametrize(("verdict", "identity", "status"), [
    (VALID, "email", "new"), (EmailVerdict("risky", "role_address"), "email", "new"),
    (INVALID, "phone", "new"), (INVALID, "email", "replied")])
def test_a_known_verdict_is_saved_with_the_lead_when_it_is_all_the_write_would_do(
        verdict: EmailVerdict, identity: str, status: str) -> None:
    # exactly the cases where the background write would change nothing else
    snapshot = LeadSnapshot("ada@acme.io", status, "pending", None, 0)
    update = _plan(snapshot, verdict, identity)
    assert update is not None and update.lead_status is None and update.activities == []
    assert verdict_at_save(verdict, status=status, identity=identity)


@pytest.mark.parametrize(("verdict", "identity"), [
    (INVALID, "email"),  # it also makes the lead invalid, with a timeline entry
    (EmailVerdict("unknown", "dns_timeout"), "email"),  # retried in the background
    (EmailVerdict("unknown", "dns_servfail"), "phone")])
def test_a_verdict_that_needs_the_background_path_is_not_saved_with_the_lead(
        verdict: EmailVerdict, identity: str) -> None:
    assert not verdict_at_save(verdict, status="new", identity=identity)


def test_a_changed_verdict_on_reverification_is_kept_in_the_timeline() -> None:
    snapshot = LeadSnapshot("ada@acme.io", "contacted", "valid", "mx_found", 7)
    update = _plan(snapshot, INVALID)
    assert update is not None
    assert [(a.type, a.data["from"], a.data["to"]) for a in update.activities] == [
        ("verified", "valid", "invalid")]
    # the same plan twice gives the same ids: a redelivery overwrites, never duplicates
    again = _plan(snapshot, INVALID)
    assert again is not None and [a.id for a in again.activities] == \
        [a.id for a in update.activities]


# --- counts and timeline ----------------------------------------------------------------
def test_verification_counts_pending_is_what_has_no_verdict() -> None:
    assert verification_counts(10, {"valid": 5, "invalid": 1, "none": 2}) == {
        "pending": 2, "valid": 5, "risky": 0, "invalid": 1, "unknown": 0, "none": 2}
    # a batch counted before its chunk's saved: never negative
    assert verification_counts(0, {"valid": 3})["pending"] == 0


def _lead(**fields: Any) -> Lead:
    return Lead(id="ld_1", list_id="ls_1", created_at="2026-11-22T09:00:00.000Z",
                updated_at="2026-11-22T09:00:00.000Z", email="ada@acme.io", **fields)


def test_timeline_shows_the_current_verdict_in_time_order() -> None:
    lead = _lead(email_status="valid", email_status_reason="mx_found",
                 email_checked_at="2026-11-22T10:00:00.000Z")
    items = [Activity("ac_2", "ld_1", "note_added", "2026-11-22T11:00:00.000Z"),
             Activity("ac_1", "ld_1", "created", "2026-11-22T09:00:00.000Z")]
    merged = with_current_verdict(items, lead)
    assert [a.type for a in merged] == ["note_added", "verified", "created"]
    assert merged[1].data == {"email": "ada@acme.io", "email_status": "valid",
                              "reason": "mx_found"}


def test_a_stored_verified_entry_stands_for_the_verdict() -> None:
    at = "2026-11-22T10:00:00.000Z"
    lead = _lead(email_status="invalid", email_status_reason="null_mx", email_checked_at=at)
    items = [Activity("ac_3", "ld_1", "verified", at, {"from": "valid", "to": "invalid"})]
    assert with_current_verdict(items, lead) == items
    assert with_current_verdict(items, _lead()) == items  # never checked: nothing to show


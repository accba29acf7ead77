"""Email deliverability: from what DNS says about a domain to a verdict per address.

Pure rules, no I/O. The DNS adapter reports a domain's `DomainFacts` (what the
MX, A/AAAA and TXT look-ups found); `domain_verdict` turns those into a
cacheable `DomainVerdict`; `email_verdict` adds what only the address tells
(role accounts, disposable providers) to give the lead's `email_status`.

Statuses and reason codes (stable, documented in docs/verification.md):

    invalid  bad_syntax, special_use_domain, domain_not_found (NXDOMAIN),
             null_mx (RFC 7505 "MX 0 ."), no_mail_server (no MX, no A/AAAA),
             spf_reject_all (no MX, and "v=spf1 -all": the domain says it sends no mail)
    unknown  dns_timeout, dns_servfail (retried later, a bounded number of times)
    risky    disposable_domain, role_address, no_mx_a_fallback (mail only by the
             RFC 5321 implicit MX: often a parked or web-only domain)
    valid    mx_found
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from chalicelib.domain.email_address import normalise_email
from chalicelib.domain.errors import InvalidValue

# What the DNS adapter can find out about a domain.
DNS_OUTCOMES: Final = (
    "mx", "null_mx", "a_fallback", "no_address", "nxdomain", "spf_reject_all",
    "timeout", "servfail",
)
_OUTCOME_VERDICT: Final = {
    "mx": ("valid", "mx_found"),
    "a_fallback": ("risky", "no_mx_a_fallback"),
    "null_mx": ("invalid", "null_mx"),
    "no_address": ("invalid", "no_mail_server"),
    "nxdomain": ("invalid", "domain_not_found"),
    "spf_reject_all": ("invalid", "spf_reject_all"),
    "timeout": ("unknown", "dns_timeout"),
    "servfail": ("unknown", "dns_servfail"),
}
REASONS: Final = {
    "mx_found": "The domain publishes mail servers (MX)",
    "no_mx_a_fallback": "No MX record: mail would go to the domain's own address (A/AAAA)",
    "disposable_domain": "A disposable (throw-away) email provider",
    "role_address": "A role address (info@, sales@, ...) rather than a person",
    "null_mx": "The domain says it accepts no email (null MX, RFC 7505)",
    "no_mail_server": "The domain has no MX and no A/AAAA record",
    "domain_not_found": "The domain does not exist (NXDOMAIN)",
    "spf_reject_all": "The domain has no MX and declares it sends no email (v=spf1 -all)",
    "special_use_domain": "A special-use domain that can never receive email",
    "bad_syntax": "The address is not a valid email address",
    "dns_timeout": "DNS did not answer in time; checked again later",
    "dns_servfail": "DNS failed to answer (SERVFAIL); checked again later",
}

# Local parts that name a function, not a person: sales teams' lists are full
# of them, and they land in shared inboxes or ticket systems. Compared after
# dropping a "+tag" and the separators "." "-" "_" (so "no-reply", "no_reply"
# and "noreply" are one entry).
ROLE_LOCAL_PARTS: Final = frozenset({
    "abuse", "accounting", "accounts", "admin", "administrator", "billing", "booking",
    "bookings", "careers", "compliance", "contact", "contactus", "customercare",
    "customerservice", "devnull", "dns", "enquiries", "enquiry", "feedback", "finance",
    "help", "helpdesk", "hello", "hostmaster", "hr", "info", "information", "inquiries",
    "inquiry", "invoices", "it", "jobs", "legal", "mail", "mailerdaemon", "marketing",
    "media", "news", "newsletter", "noc", "noreply", "donotreply", "office", "orders",
    "postmaster", "press", "privacy", "recruiting", "recruitment", "reception", "root",
    "sales", "security", "service", "support", "sysadmin", "team", "tech", "webmaster",
    "welcome", "www",
})
_SPECIAL_USE: Final = frozenset(SPECIAL_USE_DOMAIN_NAMES)


@dataclass(frozen=True)
class DomainFacts:
    """What the DNS look-ups found: one of DNS_OUTCOMES, with the answer's TTL."""

    outcome: str
    ttl: int | None = None


@dataclass(frozen=True)
class TtlPolicy:
    """How long a domain verdict is trusted (seconds).

    Answers are kept for their DNS TTL, clamped: below `min_seconds` an import
    of a few minutes would look the same domain up again; above `max_seconds`
    a domain that stopped taking mail would be trusted too long. A failed
    look-up is kept only briefly, so a retry asks DNS again.
    """

    min_seconds: int = 3600
    max_seconds: int = 86400
    unknown_seconds: int = 60

    def seconds_for(self, facts: DomainFacts) -> int:
        if facts.outcome in ("timeout", "servfail"):
            return self.unknown_seconds
        ttl = facts.ttl if facts.ttl is not None else self.min_seconds
        return max(self.min_seconds, min(self.max_seconds, ttl))


@dataclass(frozen=True)
class DomainVerdict:
    domain: str
    status: str
    reason: str
    checked_at: int  # epoch seconds of the look-up
    expires_at: int  # epoch seconds after which the domain is looked up again

    def fresh(self, now: int) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class EmailVerdict:
    status: str
    reason: str


def domain_verdict(domain: str, facts: DomainFacts, *, now: int,
                   policy: TtlPolicy) -> DomainVerdict:
    if facts.outcome not in _OUTCOME_VERDICT:
        raise ValueError(f"unknown DNS outcome {facts.outcome!r}")
    status, reason = _OUTCOME_VERDICT[facts.outcome]
    return DomainVerdict(domain, status, reason, now, now + policy.seconds_for(facts))


def is_special_use(domain: str) -> bool:
    return domain.rsplit(".", 1)[-1] in _SPECIAL_USE


@lru_cache(maxsize=65536)  # a list repeats its domains: decide each once
def is_disposable(domain: str) -> bool:
    # Subdomains of a disposable provider ("x.mailinator.com") count too.
    labels = domain.split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


def is_role_address(email: str) -> bool:
    local = email.rpartition("@")[0].split("+", 1)[0]
    return local.replace(".", "").replace("-", "").replace("_", "") in ROLE_LOCAL_PARTS


def classify(email: str) -> tuple[str | None, EmailVerdict | None]:
    """(the domain DNS must be asked about, None), or (None, the verdict) when the
    address alone decides it.

    Every stored address went through normalise_email, so only its shape is
    checked here: a full syntax check per address would cost more than the
    whole verification of a cached domain.
    """
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or ("@" in local and not local.startswith('"')):
        return None, EmailVerdict("invalid", "bad_syntax")
    if is_special_use(domain):
        return None, EmailVerdict("invalid", "special_use_domain")
    return domain, None


def lookup_domain(raw: str) -> str | None:
    """The domain of an address not yet normalised (an import's cell), for look-up."""
    try:
        return classify(normalise_email(raw))[0]
    except InvalidValue:
        return None


def email_verdict(email: str, name: str, domain: DomainVerdict) -> EmailVerdict:
    """The verdict for an address `classify` sent to DNS, given its domain's verdict.

    Order: what makes mail impossible (invalid) first, then what stops us
    knowing (unknown), then what makes it risky, the most specific risk first.
    """
    if domain.status in ("invalid", "unknown"):
        return EmailVerdict(domain.status, domain.reason)
    if is_disposable(name):
        return EmailVerdict("risky", "disposable_domain")
    if is_role_address(email):
        return EmailVerdict("risky", "role_address")
    return EmailVerdict(domain.status, domain.reason)


def verdict_for(email: str, verdicts: Mapping[str, DomainVerdict]) -> EmailVerdict:
    """classify + email_verdict, with the domain verdicts at hand (a KeyError is a bug)."""
    name, decided = classify(email)
    if decided is not None:
        return decided
    assert name is not None
    return email_verdict(email, name, verdicts[name])

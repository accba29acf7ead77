"""DNS look-ups for email deliverability, with dnspython.

The sequence is email-validator's deliverability check (MX; without MX the
RFC 5321 implicit MX by A then AAAA, then the SPF "v=spf1 -all" test), done
here rather than by calling `validate_email(check_deliverability=True)`
because we need what that function does not give: a reason code per outcome
(null MX vs no address vs NXDOMAIN), the answer's TTL for the cache, and one
look-up per domain instead of one per address.

Our own retry loop (each try bounded by `timeout`) tells a timeout from a
SERVFAIL after the last try; dnspython's lifetime loop would report both as
a timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from chalicelib.domain.deliverability import DomainFacts


@dataclass(frozen=True)
class DnsSettings:
    # (host, port) pairs; empty means the system's resolvers (/etc/resolv.conf).
    nameservers: tuple[tuple[str, int], ...] = ()
    timeout_seconds: float = 2.0
    retries: int = 2
    concurrency: int = 50


def parse_nameservers(text: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host,[v6]:port` → ((host, port), ...); blank or "system" → ()."""
    result: list[tuple[str, int]] = []
    if text.strip().lower() in ("", "system"):
        return ()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.startswith("["):  # [2001:db8::1]:53
            host, _, rest = part[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif part.count(":") == 1:
            host, _, port_text = part.partition(":")
            port = int(port_text)
        else:
            host, port = part, 53
        if not 0 < port < 65536:
            raise ValueError(f"bad port in LEADPIPE_DNS_NAMESERVERS: {part!r}")
        result.append((host, port))
    return tuple(result)


class _Failed(Exception):
    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class DnsLookup:
    def __init__(self, settings: DnsSettings) -> None:
        self._settings = settings
        self._resolver: dns.resolver.Resolver | None = None

    @property
    def resolver(self) -> dns.resolver.Resolver:
        # Built on first use: reading /etc/resolv.conf is I/O.
        if self._resolver is None:
            if self._settings.nameservers:
                resolver = dns.resolver.Resolver(configure=False)
                resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)
                                        for host, port in self._settings.nameservers]
            else:
                resolver = dns.resolver.Resolver()
            resolver.cache = None  # our cache is per domain verdict, shared by workers
            resolver.retry_servfail = False
            self._resolver = resolver
        return self._resolver

    def facts_for_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        """Look the domains up concurrently, at most `concurrency` at a time."""
        names = list(dict.fromkeys(domains))
        if not names:
            return {}
        workers = max(1, min(self._settings.concurrency, len(names)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dns") as pool:
            return dict(zip(names, pool.map(self.facts_for, names), strict=True))

    def facts_for(self, domain: str) -> DomainFacts:
        try:
            name = dns.name.from_unicode(domain, idna_codec=dns.name.IDNA_2008_Practical)
        except (dns.exception.DNSException, UnicodeError, ValueError):
            return DomainFacts("nxdomain")  # not a name DNS could ever hold
        try:
            return self._facts(name)
        except _Failed as failed:
            return DomainFacts(failed.outcome)

    def _facts(self, name: dns.name.Name) -> DomainFacts:
        mx = self._ask(name, dns.rdatatype.MX)
        if mx is None:
            return DomainFacts("nxdomain")
        if mx.rrset is not None:
            exchanges = [str(r.exchange) for r in mx]  # type: ignore[attr-defined]
            if all(e == "." for e in exchanges):
                return DomainFacts("null_mx", mx.rrset.ttl)
            return DomainFacts("mx", mx.rrset.ttl)
        ttl: int | None = None
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            address = self._ask(name, rdtype)
            if address is None:
                return DomainFacts("nxdomain")
            if address.rrset is not None:
                ttl = address.rrset.ttl
                break
        else:
            return DomainFacts("no_address")
        txt = self._ask(name, dns.rdatatype.TXT)
        if txt is not None and txt.rrset is not None:
            for record in txt:
                value = b"".join(record.strings)  # type: ignore[attr-defined]
                if value.strip().lower() == b"v=spf1 -all":
                    return DomainFacts("spf_reject_all", txt.rrset.ttl)
        return DomainFacts("a_fallback", ttl)

    def _ask(self, name: dns.name.Name,
             rdtype: dns.rdatatype.RdataType) -> dns.resolver.Answer | None:
        """The answer (rrset None when the name has no such record); None for NXDOMAIN."""
        outcome = "timeout"
        for _ in range(self._settings.retries + 1):
            try:
                return self.resolver.resolve(name, rdtype, raise_on_no_answer=False,
                                             lifetime=self._settings.timeout_seconds,
                                             search=False)
            except dns.resolver.NXDOMAIN:
                return None
            except dns.resolver.NoNameservers:  # SERVFAIL or REFUSED from every server
                outcome = "servfail"
            except dns.exception.Timeout:
                outcome = "timeout"
        raise _Failed(outcome)

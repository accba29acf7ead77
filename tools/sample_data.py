"""Deterministic messy lead files, like real CRM and spreadsheet exports.

`python -m tools.sample_data OUT.csv --rows 100000` writes a cp1252, semicolon
separated file with quoted newlines, 10% duplicates in varying case and
spacing, 80% of rows with a phone in mixed formats (some broken), and a few
rows with no email or a bad one.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
         "John", "Radia", "Edsger", "Hedy", "Donald", "Sophie", "René", "Zoë", "Åsa", "José",
         "Chloé", "Müller", "Niamh", "Siobhán", "Björn"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
        "Allen", "Backus", "Perlman", "Dijkstra", "Lamarr", "Knuth", "Wilson", "Descartes",
        "O'Brien", "García", "Nuñez", "Øster"]
COMPANIES = ["Acme Corp", "Initech", "Globex", "Umbrella", "Hooli", "Vandelay Industries",
             "Société Générale", "Müller GmbH", "Stark & Wayne", "Wonka, Inc."]
TITLES = ["CTO", "VP Sales", "Head of Growth", "Engineer", "Founder & CEO", "SDR", "Buyer"]
CITIES = ["London", "Paris", "Berlin", "New York, NY", "San Francisco", "Zürich", "Lyon"]
AREAS = [415, 212, 646, 312, 617, 206, 303, 512, 404, 305, 213, 702]
# Where the addresses live: a few big providers, ~2,000 company domains with
# a long tail (as real B2B lists), some disposable providers, and a few
# domains that cannot take mail. `sample_zone()` is the DNS the local stack
# serves for them (there is no internet at run time).
PROVIDERS = [("gmail.com", 16.0), ("outlook.com", 6.0), ("yahoo.com", 4.0),
             ("hotmail.com", 3.0), ("icloud.com", 1.5), ("proton.me", 0.5)]
DISPOSABLE = ["mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com"]
COMPANY_DOMAINS = 1990
ROLE_LOCALS = ["info", "sales", "contact", "hello", "support", "noreply"]
_WORDS = ["acme", "nova", "blue", "peak", "data", "cloud", "north", "bright", "swift", "iron",
          "green", "lumen", "quant", "vertex", "orbit", "solid", "pixel", "delta", "harbor",
          "maple", "atlas", "ember", "cobalt", "summit", "river", "stone", "signal", "prime"]
_TLDS = ["com", "io", "co", "net", "de", "fr", "co.uk", "ai"]
# A company domain's DNS, by share: most publish MX; a few do not take mail.
_COMPANY_KINDS = [("mx", 0.955), ("a_only", 0.015), ("aaaa_only", 0.003), ("null_mx", 0.007),
                  ("nxdomain", 0.01), ("spf_reject_all", 0.005), ("no_address", 0.005)]


def sample_domains() -> list[tuple[str, str, float]]:
    """(domain, DNS kind, weight) of every domain the sample files use; deterministic."""
    rng = random.Random(2026)
    result = [(d, "mx", w) for d, w in PROVIDERS]
    result += [(d, "mx", 0.25) for d in DISPOSABLE]
    seen = {d for d, _, _ in result}
    kinds = [k for k, _ in _COMPANY_KINDS]
    shares = [s for _, s in _COMPANY_KINDS]
    rank = 0
    while rank < COMPANY_DOMAINS:
        name = f"{rng.choice(_WORDS)}{rng.choice(_WORDS)}{rng.randint(1, 99)}.{rng.choice(_TLDS)}"
        if name in seen:
            continue
        seen.add(name)
        rank += 1
        # A long tail: the 10th company has a tenth of the first one's leads.
        result.append((name, rng.choices(kinds, shares)[0], 6.0 / rank))
    return result


def sample_zone() -> dict[str, str]:
    return {domain: kind for domain, kind, _ in sample_domains()}


_DOMAINS = sample_domains()
_DOMAIN_NAMES = [d for d, _, _ in _DOMAINS]
_CUMULATIVE = list(itertools.accumulate(w for _, _, w in _DOMAINS))


_PROVIDER_NAMES = frozenset(d for d, _ in PROVIDERS)


def _domain(rng: random.Random) -> str:
    return rng.choices(_DOMAIN_NAMES, cum_weights=_CUMULATIVE)[0]


HEADER = ["Prénom", "Nom", "E-mail", "Téléphone", "Société", "Poste", "Ville", "LinkedIn",
          "Notes", "Lead Source"]


def _ascii(text: str) -> str:
    # "José" -> "jose", as mail systems and CRMs spell addresses.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.replace("ø", "o") or "x"


def _phone(rng: random.Random, i: int) -> str:
    n = 2_000_000 + i
    area = AREAS[(n // 10_000) % len(AREAS)]
    mid, last = 230 + (n // 10_000) % 700, n % 10_000
    kind = rng.random()
    if kind < 0.30:
        return f"({area}) {mid}-{last:04d}"
    if kind < 0.50:
        return f"+1 {area} {mid} {last:04d}"
    if kind < 0.65:
        return f"{area}.{mid}.{last:04d}"
    if kind < 0.75:
        return f"1{area}{mid}{last:04d}"
    if kind < 0.85:
        return f"+44 20 7{(n % 1000):03d} {last:04d}"
    if kind < 0.92:
        return f"{area}-{mid}-{last:04d} ext. {n % 90 + 10}"
    return rng.choice(["12345", "n/a", "555-CALL-NOW", "+1 (000) 000-0000"])  # broken


def rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    rng = random.Random(seed)
    emitted: list[list[str]] = []
    for i in range(count):
        if emitted and rng.random() < 0.10:
            # a duplicate of an earlier person, spelled differently
            row = list(rng.choice(emitted))
            email = row[2]
            row[2] = rng.choice([email.upper(), f"  {email} ", email.title(), email])
            yield row
            continue
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}.{i}".lower().replace("'", "").replace(" ", "")
        if rng.random() >= 0.01:  # 1% keep an internationalised (SMTPUTF8) local part
            local = _ascii(local)
        domain = _domain(rng)
        if rng.random() < 0.01 and domain not in _PROVIDER_NAMES:
            local = rng.choice(ROLE_LOCALS)  # sales@company: a role address
        email = f"{local}@{domain}"
        if rng.random() < 0.02:
            email = rng.choice(["", "not-an-email", f"{local}@", f"{local}@@example.com"])
        phone = _phone(rng, i) if rng.random() < 0.80 else ""
        notes = rng.choice(["", "", "Met at SaaStr", "Call back in Q3\nprefers email",
                            "Said \"maybe\"; follow up", "=HYPERLINK(\"http://x\")"])
        slug = f"{first}-{last}-{i}".lower().replace("'", "")
        linkedin = rng.choice(["", f"https://www.linkedin.com/in/{slug}/",
                               f"linkedin.com/in/{slug}?trk=x"])
        row = [first, last, email, phone, rng.choice(COMPANIES), rng.choice(TITLES),
               rng.choice(CITIES), linkedin, notes, rng.choice(["Webinar", "Referral", "Ads"])]
        if len(emitted) < 50_000:
            emitted.append(row)
        yield row


def write_csv(path: Path, count: int, *, encoding: str = "cp1252", delimiter: str = ";",
              seed: int = 7) -> None:
    with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed))


def csv_bytes(count: int, **kwargs: object) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows(count, int(str(kwargs.get("seed", 7)))))
    return buffer.getvalue().encode("cp1252", errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--encoding", default="cp1252")
    parser.add_argument("--delimiter", default=";")
    args = parser.parse_args()
    write_csv(args.out, args.rows, encoding=args.encoding, delimiter=args.delimiter)


if __name__ == "__main__":
    main()

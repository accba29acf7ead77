"""Deterministic sample people for the CRM sandboxes' `seed` helpers.

The same seed gives the same people in the same order. Email domains come
from `tools.sample_data`, whose DNS zone the local stack serves, so leads
synced from a sandbox verify against it like imported ones. Some values are
messy on purpose (phones in mixed formats, LinkedIn URLs with tracking, a
few blanks), as CRM data is.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tools.sample_data import sample_domains

FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
         "John", "Radia", "Edsger", "Hedy", "Donald", "Sophie", "René", "Zoë", "Åsa", "José",
         "Chloé", "Niamh", "Siobhán", "Björn", "Priya", "Wei", "Fatima", "Kwame", "Yuki"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
        "Allen", "Backus", "Perlman", "Dijkstra", "Lamarr", "Knuth", "Wilson", "Descartes",
        "O'Brien", "García", "Nuñez", "Øster", "Okafor", "Tanaka", "Sharma", "Chen"]
COMPANIES = ["Acme Corp", "Initech", "Globex", "Umbrella", "Hooli", "Vandelay Industries",
             "Société Générale", "Müller GmbH", "Stark & Wayne", "Wonka, Inc.", "Pied Piper",
             "Soylent", "Cyberdyne Systems", "Tyrell Corp"]
TITLES = ["CTO", "VP Sales", "Head of Growth", "Engineer", "Founder & CEO", "SDR", "Buyer",
          "Marketing Manager", "Procurement Lead", "COO"]
PLACES = [("London", "", "United Kingdom"), ("Paris", "", "France"), ("Berlin", "", "Germany"),
          ("New York", "NY", "United States"), ("San Francisco", "CA", "United States"),
          ("Austin", "TX", "United States"), ("Zürich", "", "Switzerland"),
          ("Toronto", "ON", "Canada"), ("Lyon", "", "France"), ("Seattle", "WA", "United States")]
AREAS = [415, 212, 646, 312, 617, 206, 303, 512, 404, 305]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]

# Seeded records were created and last changed at fixed instants, one every
# 37 s from here, so a seeded sandbox answers the same whatever the day.
SEED_EPOCH_MS = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp() * 1000)
SEED_STEP_MS = 37_000

_DOMAINS = sample_domains()
_DOMAIN_NAMES = [d for d, _, _ in _DOMAINS]
_CUMULATIVE = list(itertools.accumulate(w for _, _, w in _DOMAINS))


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    phone: str
    mobile: str
    company: str
    title: str
    city: str
    state: str
    country: str
    linkedin: str
    created_ms: int
    modified_ms: int
    status_index: int  # picks a lead status from the provider's own picklist
    source: str


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O")  # no decomposition folds these
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.replace("'", "").lower() or "x"


def _phone(rng: random.Random, i: int) -> str:
    area, mid, last = AREAS[i % len(AREAS)], 200 + (i // 10) % 800, (i * 7919) % 10_000
    return rng.choice([f"({area}) {mid}-{last:04d}", f"+1 {area} {mid} {last:04d}",
                       f"{area}.{mid}.{last:04d}", f"+44 20 7{i % 1000:03d} {last:04d}", ""])


def people(count: int, seed: int = 11) -> Iterator[Person]:
    """`count` sample people; the same `seed` gives the same people."""
    rng = random.Random(seed)
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choices(_DOMAIN_NAMES, cum_weights=_CUMULATIVE)[0]
        email = f"{_ascii(first)}.{_ascii(last)}.{i}@{domain}" if rng.random() > 0.02 else ""
        slug = f"{_ascii(first)}-{_ascii(last)}-{i}"
        linkedin = rng.choice([f"https://www.linkedin.com/in/{slug}/", "",
                               f"linkedin.com/in/{slug}?trk=public_profile"])
        city, state, country = rng.choice(PLACES)
        created = SEED_EPOCH_MS + i * SEED_STEP_MS
        # Some were edited after creation: sync by modification time must see them later.
        modified = created + (rng.randrange(1, 3_600_000) if rng.random() < 0.3 else 0)
        yield Person(first=first, last=last, email=email, phone=_phone(rng, i),
                     mobile=_phone(rng, i + 1) if rng.random() < 0.4 else "",
                     company=rng.choice(COMPANIES), title=rng.choice(TITLES), city=city,
                     state=state, country=country, linkedin=linkedin, created_ms=created,
                     modified_ms=modified, status_index=rng.randrange(1000),
                     source=rng.choice(LEAD_SOURCES))

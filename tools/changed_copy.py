"""A deterministic "changed copy" of a sample lead file, for re-import checks.

`python -m tools.changed_copy IN.csv OUT.csv --seed N` reads a file written by
`tools.sample_data.write_csv` (cp1252, `;`; `--encoding`/`--delimiter` for
others) and writes the same rows with, per *person* (a distinct valid email):

- a new job title for 10% of the people (every row of the person; a title
  never seen in the sample, so it always differs from the old one);
- a new phone for 10% of the people (drawn independently; valid numbers that
  are in no sample file, in the sample's mixed formats, some with an
  extension; people without a phone, or with a broken one, get one too);
- 5% new people (fresh unique emails over the sample's domains), interleaved
  at random positions among the original rows.

Everything else is byte for byte as in the original: same header, same rows
in the same order, same encoding, delimiter and line ends. Shares are exact:
round(10% of people) each, round(5% of people) new. The same input and seed
always give the same file.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.column_mapping import auto_map, unique_headers
from chalicelib.domain.imports import identity_key
from tools.sample_data import CITIES, COMPANIES, FIRST, LAST, sample_domains

TITLE_SHARE = 0.10
PHONE_SHARE = 0.10
NEW_PEOPLE_SHARE = 0.05
# None of these is in tools.sample_data.TITLES: a new title always differs.
NEW_TITLES = ["Chief Revenue Officer", "Head of Partnerships", "VP Engineering",
              "Directrice Marketing", "Account Executive", "Product Manager",
              "Responsable Achats", "Data Scientist", "Gérant", "COO"]
_AREAS = [415, 212, 646, 312, 617, 206, 303, 512, 404, 305, 213, 702]
# The sample's exchanges are 230 + (2_000_000 + row) // 10_000 % 700, i.e. 430-...
# for any file under 7M rows; new phones use 800-899 and London 020 8xxx (the
# sample's London numbers are 020 7xxx), so a new phone is never an old one.
_NEW_EXCHANGE = 800
_DOMAINS = sample_domains()
_DOMAIN_NAMES = [d for d, _, _ in _DOMAINS]
_CUMULATIVE = list(itertools.accumulate(w for _, _, w in _DOMAINS))


@dataclass(frozen=True)
class Columns:
    email: int
    phone: int
    job_title: int
    width: int
    targets: dict[str, int]  # every mapped target -> its column


@dataclass
class Changes:
    """What the copy changed, by person key (normalised email)."""

    titles: dict[str, str]
    phones: dict[str, str]
    new_people: list[str]


def find_columns(header: Sequence[str]) -> Columns:
    """Where the email, phone and job title are, as the importer would map them."""
    targets = {m.target: i for i, m in enumerate(auto_map(unique_headers(list(header))))}
    missing = [t for t in ("email", "phone", "job_title") if t not in targets]
    if missing:
        raise ValueError(f"the file has no column for {', '.join(missing)}")
    return Columns(targets["email"], targets["phone"], targets["job_title"], len(header),
                   {t: i for t, i in targets.items() if t is not None})


def person_key(cell: str) -> str | None:
    """The person a row is about (its normalised email), or None for no valid email."""
    return identity_key(cell, "email", "US") if cell.strip() else None


def new_phone(rng: random.Random, k: int) -> str:
    """A valid phone no sample file holds (k-th new one), in one of the sample's formats."""
    area = _AREAS[k % len(_AREAS)]
    mid, last = _NEW_EXCHANGE + (k // 10_000) % 100, k % 10_000
    kind = rng.random()
    if kind < 0.25:
        return f"({area}) {mid}-{last:04d}"
    if kind < 0.45:
        return f"+1 {area} {mid} {last:04d}"
    if kind < 0.60:
        return f"{area}.{mid}.{last:04d}"
    if kind < 0.70:
        return f"1{area}{mid}{last:04d}"
    if kind < 0.80:
        return f"{area}-{mid}-{last:04d}"
    if kind < 0.90:
        return f"+44 20 8{(k // 10_000) % 1000:03d} {last:04d}"
    return f"{area}-{mid}-{last:04d} ext. {k % 90 + 10}"


def _new_person(rng: random.Random, k: int, cols: Columns,
                taken: set[str]) -> tuple[list[str], str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    while True:
        local = f"new.{first}.{last}.{k}".lower().replace("'", "").replace(" ", "")
        local = local.encode("ascii", "ignore").decode() or f"new.{k}"
        domain = rng.choices(_DOMAIN_NAMES, cum_weights=_CUMULATIVE)[0]
        email = f"{local}@{domain}"
        key = person_key(email)
        if key is not None and key not in taken:
            break
        k += 1_000_000  # practically never: the "new." prefix is in no sample email
    row = [""] * cols.width
    row[cols.email] = email
    # Some new people come without a title or a phone, as real rows do.
    row[cols.job_title] = rng.choice(NEW_TITLES) if rng.random() < 0.9 else ""
    row[cols.phone] = new_phone(rng, 500_000 + k) if rng.random() < 0.8 else ""
    # The sample's other columns, where the file has them.
    others = {"first_name": first, "last_name": last, "company": rng.choice(COMPANIES),
              "location": rng.choice(CITIES),
              "custom:lead_source": rng.choice(["Webinar", "Referral", "Ads"])}
    for target, value in others.items():
        if target in cols.targets:
            row[cols.targets[target]] = value
    return row, key


def change_rows(header: Sequence[str], rows: Sequence[Sequence[str]],
                seed: int) -> tuple[list[list[str]], Changes]:
    """The changed copy of `rows` (data rows, header excluded) and what changed."""
    cols = find_columns(header)
    rng = random.Random(seed)
    people: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        key = person_key(row[cols.email]) if cols.email < len(row) else None
        if key is not None:
            people.setdefault(key, []).append(index)
    keys = list(people)
    count = len(keys)
    titled = rng.sample(keys, round(count * TITLE_SHARE))
    phoned = rng.sample(keys, round(count * PHONE_SHARE))
    out = [list(row) for row in rows]
    changes = Changes({}, {}, [])
    for key in titled:
        first = out[people[key][0]]
        old = first[cols.job_title].strip() if cols.job_title < len(first) else ""
        title = rng.choice([t for t in NEW_TITLES if t != old])
        changes.titles[key] = title
        for index in people[key]:
            _set(out[index], cols.job_title, title)
    position = {key: i for i, key in enumerate(keys)}
    for key in phoned:
        phone = new_phone(rng, position[key])
        changes.phones[key] = phone
        for index in people[key]:
            _set(out[index], cols.phone, phone)
    taken = set(keys)
    additions: list[list[str]] = []
    for k in range(round(count * NEW_PEOPLE_SHARE)):
        row, key = _new_person(rng, k, cols, taken)
        taken.add(key)
        changes.new_people.append(key)
        additions.append(row)
    # Interleave: each new row goes before the original row at a random position.
    slots = sorted(rng.randrange(len(out) + 1) for _ in additions)
    merged: list[list[str]] = []
    pending = list(zip(slots, additions, strict=True))
    taken_new = 0
    for index, row in enumerate(out):
        while taken_new < len(pending) and pending[taken_new][0] == index:
            merged.append(pending[taken_new][1])
            taken_new += 1
        merged.append(row)
    merged.extend(row for _, row in pending[taken_new:])
    return merged, changes


def _set(row: list[str], index: int, value: str) -> None:
    row.extend([""] * (index + 1 - len(row)))
    row[index] = value


def read_file(path: Path, *, encoding: str = "cp1252",
              delimiter: str = ";") -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader)
        return header, list(reader)


def write_file(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], *,
               encoding: str = "cp1252", delimiter: str = ";") -> None:
    """As tools.sample_data.write_csv writes: CRLF, minimal quoting, unencodable → '?'."""
    with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_changed_copy(source: Path, target: Path, *, seed: int = 1,
                       encoding: str = "cp1252", delimiter: str = ";") -> Changes:
    header, rows = read_file(source, encoding=encoding, delimiter=delimiter)
    changed, changes = change_rows(header, rows, seed)
    write_file(target, header, changed, encoding=encoding, delimiter=delimiter)
    return changes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.changed_copy",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--encoding", default="cp1252")
    parser.add_argument("--delimiter", default=";")
    args = parser.parse_args(argv)
    changes = write_changed_copy(args.source, args.target, seed=args.seed,
                                 encoding=args.encoding, delimiter=args.delimiter)
    print(f"{args.target}: new titles {len(changes.titles)}, new phones "
          f"{len(changes.phones)}, new people {len(changes.new_people)}")


if __name__ == "__main__":
    main()

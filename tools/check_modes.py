"""Check import modes (skip, fill_empty, overwrite) against a running local stack.

`python -m tools.check_modes --rows 100000` generates the sample
(tools.sample_data) and its changed copy (tools.changed_copy), creates a fresh
list (identity email) and imports the sample with `skip`, then the changed
copy with `fill_empty`, then with `overwrite`. After each import it compares

- the counts the API reports with counts computed here from the files, and
- every lead of the list (paged GET /lists/{id}/leads) field by field with the
  leads computed here,

prints a table (import, mode, expected and actual counts, leads mismatching,
elapsed time) and exits 1 on any mismatch. Between the first two imports it
clears, through the API, the job title of a few people (some of whom the
changed copy gives a new title): the sample gives everyone a title, and
fill_empty must fill what a lead lacks.

The rows are read and normalised with the product's own reader, mapping and
row conversion (a row becomes lead fields as any import row does); the merge
of a row into an existing lead and the counting are this module's own,
written from the contract and never imported from the product:

- a row that is not usable (convert_row not ok) is `invalid`;
- a row whose identity was seen earlier *in the file* (first usable occurrence
  wins) is a duplicate, whatever the mode;
- a usable row of a person not in the list is `saved`;
- a row of a person in the list: `skip` → duplicate; `fill_empty` / `overwrite`
  → the merge below, `updated` when any value changed, else `unchanged`.

Environment: LEADPIPE_API_URL (default http://127.0.0.1:8000) and
LEADPIPE_TOKEN (printed by `make run`). The 100k-row files are ~15 MB: start
the stack with LEADPIPE_MAX_UPLOAD_BYTES=60000000.

The functions (expected_after, fill_empty, overwrite, compare_leads,
run_import, fetch_leads, ...) are reused by tests/e2e/test_import_modes.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.domain.column_mapping import auto_map, mapping_dict, unique_headers
from chalicelib.domain.file_format import sniff
from chalicelib.domain.imports import RowResult, convert_row, mapped_columns
from chalicelib.domain.row_reader import iter_rows, split_header
from tools.api_client import ApiError, LeadpipeApi
from tools.changed_copy import Changes, write_changed_copy
from tools.sample_data import write_csv

MODES = ("skip", "fill_empty", "overwrite")
FINISHED = frozenset({"completed", "completed_with_errors", "failed"})
COUNT_KEYS = ("saved", "updated", "unchanged", "duplicates", "invalid")
# Every value of a lead the modes may touch, as GET /lists/{id}/leads shows it.
COMPARED = ("first_name", "last_name", "email", "emails", "phone", "phone_extension", "phones",
            "company", "job_title", "linkedin_url", "location", "notes", "tags",
            "custom_fields", "status")
SCALARS = ("first_name", "last_name", "company", "job_title", "linkedin_url", "location",
           "notes", "email")
LISTS = ("tags", "emails", "phones")
MAX_ALTERNATES = 20
MAX_TAGS = 50
ACTIVITY_TYPE = "updated_by_import"
# The contract says, in fill_empty, "alternates never repeat the primary"; a
# lead created through the API holds the same rule (parse_lead_fields). It is
# applied after an overwrite too: a row whose phone replaces the primary while
# the same number is an alternate leaves it the primary only.
ALTERNATES_EXCLUDE_PRIMARY = True

LeadValues = dict[str, Any]


class CheckError(Exception):
    """The check could not run (stack unreachable, import failed, file too big)."""


# --- the files, read as the product reads them ------------------------------------
@dataclass(frozen=True)
class FileRows:
    headers: list[str]
    mapping: dict[str, str | None]
    encoding: str | None
    delimiter: str | None
    rows: list[RowResult]  # every data row, in file order


def read_file_rows(path: Path, *, identity: str = "email", region: str = "US",
                   mapping: Mapping[str, str | None] | None = None) -> FileRows:
    """Each data row of `path` through the product's reader, auto mapping and convert_row."""
    with path.open("rb") as stream:
        fmt = sniff(stream.read(1024 * 1024), path.name)
        stream.seek(0)
        raw, data = split_header(iter_rows(stream, fmt))
        headers = unique_headers(raw)
        chosen = {**mapping_dict(auto_map(headers)), **(mapping or {})}
        columns = mapped_columns(headers, chosen)
        rows = [convert_row(row.number, row.cells, columns, len(headers), identity, region)
                for row in data]
    return FileRows(headers, chosen, fmt.encoding, fmt.delimiter, rows)


# --- lead values ----------------------------------------------------------------------
def lead_values(fields: Mapping[str, Any]) -> LeadValues:
    """The compared values of a lead (API JSON or row fields), in one plain shape."""
    values: LeadValues = {}
    for name in COMPARED:
        value = fields.get(name)
        if name in LISTS:
            values[name] = list(value or ())
        elif name == "custom_fields":
            values[name] = dict(value or {})
        elif name == "status":
            values[name] = value or "new"
        else:
            values[name] = value
    return values


def _phone_text(e164: str | None, extension: str | None) -> str | None:
    """An alternate phone as the product stores it: '+1...;ext=12' keeps the extension."""
    if e164 is None:
        return None
    return e164 if extension is None else f"{e164};ext={extension}"


def _union(first: Sequence[str], *more: Sequence[str], exclude: str | None = None,
           limit: int) -> list[str]:
    out: list[str] = []
    for value in (*first, *(v for values in more for v in values)):
        if value != exclude and value not in out:
            out.append(value)
    return out[:limit]


def _without(values: Sequence[str], exclude: str | None) -> list[str]:
    return [v for v in values if v != exclude]


def fill_empty(lead: Mapping[str, Any], row: Mapping[str, Any]) -> LeadValues:
    """The lead gains what it lacks from the row; nothing it has changes (status never)."""
    before = lead_values(lead)
    new = lead_values(row)
    out = lead_values(lead)
    for name in SCALARS:
        if name == "email":
            continue
        if out[name] is None and new[name] is not None:
            out[name] = new[name]
    # email: set where the lead has none, else a different one is an alternate
    extra_emails: list[str] = []
    if new["email"] is not None:
        if out["email"] is None:
            out["email"] = new["email"]
        elif new["email"] != out["email"]:
            extra_emails.append(new["email"])
    # phone with its extension, the same way
    extra_phones: list[str] = []
    if new["phone"] is not None:
        if out["phone"] is None:
            out["phone"], out["phone_extension"] = new["phone"], new["phone_extension"]
        else:
            row_phone = _phone_text(new["phone"], new["phone_extension"])
            if row_phone != _phone_text(out["phone"], out["phone_extension"]):
                assert row_phone is not None
                extra_phones.append(row_phone)
    out["emails"] = _union(before["emails"], extra_emails, new["emails"],
                           exclude=out["email"], limit=MAX_ALTERNATES)
    out["phones"] = _union(before["phones"], extra_phones, new["phones"],
                           exclude=_phone_text(out["phone"], out["phone_extension"]),
                           limit=MAX_ALTERNATES)
    out["tags"] = _union(before["tags"], new["tags"], limit=MAX_TAGS)
    custom = dict(before["custom_fields"])
    for key, value in new["custom_fields"].items():
        custom.setdefault(key, value)
    out["custom_fields"] = custom
    return out


def overwrite(lead: Mapping[str, Any], row: Mapping[str, Any]) -> LeadValues:
    """Every non-empty value of the row replaces the lead's; empty cells change nothing."""
    new = lead_values(row)
    out = lead_values(lead)
    for name in SCALARS:
        if new[name] is not None:
            out[name] = new[name]
    if new["phone"] is not None:  # a phone and its extension go together
        out["phone"], out["phone_extension"] = new["phone"], new["phone_extension"]
    for name in LISTS:
        if new[name]:
            out[name] = list(new[name])
    out["custom_fields"] = {**out["custom_fields"], **new["custom_fields"]}
    if row.get("status") is not None:  # only when a status column is mapped and filled
        out["status"] = row["status"]
    if ALTERNATES_EXCLUDE_PRIMARY:
        out["emails"] = _without(out["emails"], out["email"])
        out["phones"] = _without(out["phones"],
                                 _phone_text(out["phone"], out["phone_extension"]))
    return out


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [name for name in COMPARED if before.get(name) != after.get(name)]


# --- what an import must do -------------------------------------------------------------
@dataclass
class Expected:
    counts: dict[str, int]
    leads: dict[str, LeadValues]  # identity value -> values, the whole list after the import
    changed: dict[str, list[str]] = field(default_factory=dict)  # updated lead -> fields
    saved: list[str] = field(default_factory=list)
    total_rows: int = 0


def expected_after(before: Mapping[str, Mapping[str, Any]], rows: FileRows | Iterable[RowResult],
                   mode: str, *, identity: str = "email") -> Expected:
    """The counts and the list's leads after importing `rows` in `mode` into `before`.

    `before` maps each lead's identity value to its values (lead_values shape).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    results = rows.rows if isinstance(rows, FileRows) else list(rows)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    leads = {key: lead_values(values) for key, values in before.items()}
    expected = Expected(counts, leads, total_rows=len(results))
    seen: set[str] = set()
    for result in results:
        if not result.ok or result.fields is None:
            counts["invalid"] += 1
            continue
        key = result.fields.get(identity)
        assert isinstance(key, str), result
        if key in seen:
            counts["duplicates"] += 1
            continue
        seen.add(key)
        lead = leads.get(key)
        if lead is None:
            counts["saved"] += 1
            leads[key] = lead_values(result.fields)
            expected.saved.append(key)
        elif mode == "skip":
            counts["duplicates"] += 1
        else:
            merged = (fill_empty if mode == "fill_empty" else overwrite)(lead, result.fields)
            changes = changed_fields(lead, merged)
            if changes:
                counts["updated"] += 1
                leads[key] = merged
                expected.changed[key] = changes
            else:
                counts["unchanged"] += 1
    return expected


# --- comparing with what the API holds --------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    key: str  # the lead's identity value
    field: str  # a compared field, or <missing> / <unexpected> / <twice>
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.key}: {self.field}: expected {self.expected!r}, got {self.actual!r}"


def set_by_verification(want: Mapping[str, Any], got: Mapping[str, Any],
                        identity: str = "email") -> bool:
    """Email verification, in the background, moves a `new` lead of an email list whose
    verdict is `invalid` to status `invalid` (docs/verification.md): not the import's doing."""
    return (identity == "email" and want.get("status") == "new"
            and got.get("status") == "invalid" and got.get("email_status") == "invalid")


def compare_leads(expected: Mapping[str, Mapping[str, Any]], actual: Iterable[Mapping[str, Any]],
                  *, identity: str = "email") -> list[Mismatch]:
    """Every difference between the expected leads and the leads the API returned."""
    mismatches: list[Mismatch] = []
    found: dict[str, LeadValues] = {}
    raw: dict[str, Mapping[str, Any]] = {}
    for lead in actual:
        key = str(lead.get(identity))
        if key in found:
            mismatches.append(Mismatch(key, "<twice>", 1, 2))
        found[key] = lead_values(lead)
        raw[key] = lead
    for key, values in expected.items():
        got = found.get(key)
        if got is None:
            mismatches.append(Mismatch(key, "<missing>", "a lead", None))
            continue
        want = lead_values(values)
        mismatches.extend(
            Mismatch(key, name, want[name], got[name]) for name in COMPARED
            if want[name] != got[name]
            and not (name == "status" and set_by_verification(want, raw[key], identity)))
    mismatches.extend(Mismatch(key, "<unexpected>", None, "a lead")
                      for key in found if key not in expected)
    return mismatches


def mismatching_leads(mismatches: Iterable[Mismatch]) -> int:
    return len({m.key for m in mismatches})


def count_mismatches(expected: Mapping[str, int], job: Mapping[str, Any]) -> list[str]:
    """What is wrong with an import's reported counts (and total), as messages."""
    actual = job.get("counts") or {}
    problems = [f"{name}: expected {expected[name]}, got {actual.get(name)}"
                for name in COUNT_KEYS if actual.get(name) != expected[name]]
    total = sum(int(actual.get(name) or 0) for name in COUNT_KEYS)
    if total != job.get("total_rows"):
        problems.append(f"counts add up to {total}, total_rows is {job.get('total_rows')}")
    return problems


# --- the API --------------------------------------------------------------------------------
def create_list(api: LeadpipeApi, name: str, identity: str = "email") -> str:
    created: dict[str, Any] = api.call("POST", "/lists", json={"name": name,
                                                              "identity": identity})
    return str(created["id"])


def run_import(api: LeadpipeApi, list_id: str, path: Path, mode: str | None, *,
               mapping: Mapping[str, str | None] | None = None,
               timeout: float = 3600.0) -> tuple[dict[str, Any], float]:
    """Upload `path`, start it in `mode` (None: send no mode), wait; (the import, seconds)."""
    started = time.perf_counter()
    job: dict[str, Any] = api.call("POST", f"/lists/{list_id}/imports",
                                   json={"filename": path.name})
    size = path.stat().st_size
    if size > int(job.get("max_bytes") or size):
        raise CheckError(f"{path.name} is {size} bytes, the stack takes {job['max_bytes']}: "
                         "start it with LEADPIPE_MAX_UPLOAD_BYTES=60000000")
    api.upload(job["upload"], path)
    ready = api.wait_import(job["id"], {"ready", *FINISHED}, timeout=timeout)
    if ready["status"] != "ready":
        raise CheckError(f"import {job['id']} is {ready['status']}: {ready.get('error')}")
    body: dict[str, Any] = {}
    if mode is not None:
        body["mode"] = mode
    if mapping:
        body["mapping"] = dict(mapping)
    api.call("POST", f"/imports/{job['id']}/start", json=body)
    done = api.wait_import(job["id"], set(FINISHED), timeout=timeout)
    elapsed = time.perf_counter() - started
    if done["status"] not in ("completed", "completed_with_errors"):
        raise CheckError(f"import {job['id']} ended {done['status']}: {done.get('error')}")
    return done, elapsed


def fetch_leads(api: LeadpipeApi, list_id: str) -> list[dict[str, Any]]:
    """Every lead of the list, walking GET /lists/{id}/leads to its last page."""
    return list(api.pages(f"/lists/{list_id}/leads"))


def activity(api: LeadpipeApi, list_id: str, lead_id: str) -> list[dict[str, Any]]:
    return list(api.pages(f"/lists/{list_id}/leads/{lead_id}/activity"))


def activity_fields(entry: Mapping[str, Any]) -> set[str] | None:
    """The fields an activity entry says changed, in whichever shape it lists them."""
    data = entry.get("data") or {}
    for name in ("fields", "changed_fields", "changed"):
        if isinstance(data.get(name), list):
            return {str(f) for f in data[name]}
    if isinstance(data.get("changes"), dict):
        return set(data["changes"])
    return None


def import_activity(api: LeadpipeApi, list_id: str, lead_id: str) -> list[dict[str, Any]]:
    """The lead's `updated_by_import` entries, newest first."""
    return [a for a in activity(api, list_id, lead_id) if a.get("type") == ACTIVITY_TYPE]


def clear_fields(api: LeadpipeApi, list_id: str, lead_ids: Mapping[str, str],
                 keys: Iterable[str], expected: dict[str, LeadValues],
                 fields: Sequence[str]) -> None:
    """PATCH `fields` to null on the leads of `keys`, and in `expected` alike."""
    for key in keys:
        api.call("PATCH", f"/lists/{list_id}/leads/{lead_ids[key]}",
                 json=dict.fromkeys(fields))
        for name in fields:
            expected[key][name] = None


# --- the whole check ---------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    mode: str
    expected: Expected
    job: dict[str, Any]
    elapsed: float
    count_problems: list[str]
    mismatches: list[Mismatch]
    leads: list[dict[str, Any]] = field(default_factory=list)  # as the API listed them after
    listing_seconds: float = 0.0  # walking the list's pages for the comparison
    activity_problems: list[str] = field(default_factory=list)

    def lead_ids(self, identity: str = "email") -> dict[str, str]:
        return {str(lead[identity]): str(lead["id"]) for lead in self.leads}

    @property
    def ok(self) -> bool:
        return not (self.count_problems or self.mismatches or self.activity_problems)


def check_step(api: LeadpipeApi, list_id: str, name: str, path: Path, mode: str,
               before: Mapping[str, LeadValues], *, send_mode: bool = True,
               rows: FileRows | None = None) -> Step:
    """Import `path` in `mode` and compare counts and leads with what they must be."""
    rows = rows or read_file_rows(path)
    expected = expected_after(before, rows, mode)
    job, elapsed = run_import(api, list_id, path, mode if send_mode else None)
    problems = count_mismatches(expected.counts, job)
    if expected.total_rows != job.get("total_rows"):
        problems.append(f"the file has {expected.total_rows} data rows, "
                        f"total_rows is {job.get('total_rows')}")
    if job.get("mapping") and dict(job["mapping"]) != rows.mapping:
        problems.append(f"mapping used {job['mapping']} is not the auto mapping {rows.mapping}")
    listing = time.perf_counter()
    leads = fetch_leads(api, list_id)
    listing_seconds = time.perf_counter() - listing
    mismatches = compare_leads(expected.leads, leads)
    # what verification did meanwhile is part of the state the next import meets
    for lead in leads:
        want = expected.leads.get(str(lead.get("email")))
        if want is not None and set_by_verification(want, lead):
            want["status"] = "invalid"
    return Step(name, mode, expected, job, elapsed, problems, mismatches, leads,
                listing_seconds)


def check_activity(api: LeadpipeApi, list_id: str, lead_ids: Mapping[str, str], step: Step,
                   entries_so_far: dict[str, int], sample: int = 20) -> list[str]:
    """Activity after an import: each lead it updated has one more `updated_by_import`
    entry, the newest listing exactly the fields that changed; the others none more.

    `entries_so_far` counts the entries each lead must have, across imports; it is
    brought up to date here. Checked on `sample` updated and `sample` other leads.
    """
    for key in step.expected.changed:
        entries_so_far[key] = entries_so_far.get(key, 0) + 1
    updated = sorted(step.expected.changed)[:sample]
    others = sorted(k for k in step.expected.leads
                    if k not in step.expected.changed and k in lead_ids)[:sample]
    problems: list[str] = []
    for key in updated + others:
        entries = import_activity(api, list_id, lead_ids[key])
        want = entries_so_far.get(key, 0)
        if len(entries) != want:
            problems.append(f"{key}: {len(entries)} {ACTIVITY_TYPE} entries, expected {want}")
            continue
        if key not in step.expected.changed:
            continue
        listed = activity_fields(entries[0])
        changed = set(step.expected.changed[key])
        if listed != changed:
            problems.append(f"{key}: {ACTIVITY_TYPE} lists {sorted(listed or [])} "
                            f"({entries[0].get('data')}), changed were {sorted(changed)}")
    return problems


def title_clearing(expected: Mapping[str, LeadValues], changes: Changes,
                   share: int = 20, cap: int = 250) -> list[str]:
    """People whose title is cleared before fill_empty: 1 in `share` of those the changed
    copy gives a new title, and as many of the others (at least 3 each, at most `cap`)."""
    titled = sorted(k for k in changes.titles if k in expected)
    others = sorted(k for k in expected if k not in changes.titles)
    n = min(cap, max(3, len(titled) // share))
    return titled[:n] + others[:n]


def run_check(api: LeadpipeApi, rows: int, *, seed: int = 1, work: Path,
              out: Any = sys.stdout) -> list[Step]:
    sample, changed = work / "sample.csv", work / "changed.csv"
    write_csv(sample, rows)
    changes = write_changed_copy(sample, changed, seed=seed)
    print(f"files: {sample} ({rows} rows), {changed} (titles {len(changes.titles)}, "
          f"phones {len(changes.phones)}, new people {len(changes.new_people)})", file=out)
    list_id = create_list(api, f"check-modes {time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(f"list {list_id}", file=out)
    changed_rows = read_file_rows(changed)
    steps: list[Step] = []
    entries: dict[str, int] = {}

    first = check_step(api, list_id, "sample", sample, "skip", {})
    steps.append(first)
    _print_step(first, out)
    state = first.expected.leads
    lead_ids = first.lead_ids()
    cleared = title_clearing(state, changes)
    clear_fields(api, list_id, lead_ids, cleared, state, ["job_title"])
    print(f"cleared the job title of {len(cleared)} leads through the API", file=out)

    for name, mode in (("changed", "fill_empty"), ("changed", "overwrite")):
        step = check_step(api, list_id, name, changed, mode, state, rows=changed_rows)
        lead_ids = step.lead_ids()
        step.activity_problems = check_activity(api, list_id, lead_ids, step, entries)
        steps.append(step)
        _print_step(step, out)
        state = step.expected.leads
    print_table(steps, out)
    return steps


def _print_step(step: Step, out: Any) -> None:
    status = "ok" if step.ok else "MISMATCH"
    print(f"{step.name} ({step.mode}): {status}; import {step.elapsed:.1f} s (upload to "
          f"finished), listing {len(step.leads)} leads {step.listing_seconds:.1f} s", file=out)
    for problem in step.count_problems + step.activity_problems:
        print(f"  {problem}", file=out)
    by_field: dict[str, int] = {}
    for m in step.mismatches:
        by_field[m.field] = by_field.get(m.field, 0) + 1
    if by_field:
        print(f"  mismatching values by field: {by_field}", file=out)
    for m in step.mismatches[:15]:
        print(f"  {m}", file=out)


def _counts_text(counts: Mapping[str, Any]) -> str:
    return "/".join(str(counts.get(name)) for name in COUNT_KEYS)


def print_table(steps: Sequence[Step], out: Any = sys.stdout) -> None:
    header = ("import", "mode", "expected s/u/n/d/i", "actual s/u/n/d/i", "leads mismatching",
              "import s", "result")
    lines = [header] + [
        (s.name, s.mode, _counts_text(s.expected.counts), _counts_text(s.job.get("counts", {})),
         str(mismatching_leads(s.mismatches)), f"{s.elapsed:.1f}", "ok" if s.ok else "MISMATCH")
        for s in steps]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print("\n(s/u/n/d/i = saved/updated/unchanged/duplicates/invalid)", file=out)
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)),
              file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_modes",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1, help="seed of the changed copy")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the generated files (default: a temporary one)")
    args = parser.parse_args(argv)
    api = LeadpipeApi()
    if not api.token:
        print("LEADPIPE_TOKEN is not set (make run prints it)", file=sys.stderr)
        return 2
    try:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
            steps = run_check(api, args.rows, seed=args.seed, work=args.work)
        else:
            with tempfile.TemporaryDirectory(prefix="check-modes-") as folder:
                steps = run_check(api, args.rows, seed=args.seed, work=Path(folder))
    except (CheckError, ApiError) as exc:
        print(f"check failed: {exc}", file=sys.stderr)
        return 2
    return 0 if all(step.ok for step in steps) else 1


if __name__ == "__main__":
    sys.exit(main())

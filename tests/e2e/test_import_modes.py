"""End to end: import modes (skip, fill_empty, overwrite) on the real local stack.

A 1,500-row sample goes in with no mode (skip is the default), a few leads are
edited through the API, then its changed copy (tools.changed_copy: new titles,
new phones, new people) goes in with fill_empty, then twice with overwrite.
After each import the counts the API reports and every lead of the list are
compared with what tools.check_modes computes from the files on its own (the
same check `python -m tools.check_modes --rows 100000` runs at full size).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.test_local_stack import ROOT, TOKEN, Stack, started_stack
from tools.api_client import ApiError, LeadpipeApi
from tools.changed_copy import Changes, write_changed_copy
from tools.check_modes import (
    ACTIVITY_TYPE,
    FINISHED,
    Expected,
    FileRows,
    Step,
    activity_fields,
    check_step,
    clear_fields,
    create_list,
    import_activity,
    read_file_rows,
    title_clearing,
)
from tools.sample_data import write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

ROWS = 1500
EDITED_PHONE = "(617) 555-0142"
EDITED_E164 = "+16175550142"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # no demo import beside ours
    with started_stack("e2e-import-modes.log", {"LEADPIPE_DEMO": "0"}) as running:
        yield running


@dataclass
class Scenario:
    api: LeadpipeApi
    list_id: str
    changes: Changes
    changed_rows: FileRows
    steps: dict[str, Step] = field(default_factory=dict)
    lead_ids: dict[str, str] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)
    edited: str = ""  # the lead whose phone was set through the API before fill_empty
    activity_after_fill: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    invalid_mode: ApiError | None = None


@pytest.fixture(scope="module")
def scenario(stack: Stack) -> Scenario:
    work = ROOT / ".local" / "e2e-import-modes"
    work.mkdir(parents=True, exist_ok=True)
    sample, changed = work / "sample.csv", work / "changed.csv"
    write_csv(sample, ROWS)
    changes = write_changed_copy(sample, changed, seed=1)
    api = LeadpipeApi(url=stack.url, token=TOKEN)
    run = Scenario(api, create_list(api, "Import modes"), changes, read_file_rows(changed))

    # 1. the sample, no mode given: skip
    first = check_step(api, run.list_id, "sample", sample, "skip", {}, send_mode=False)
    run.steps["sample"] = first
    run.lead_ids = first.lead_ids()
    state = first.expected.leads

    # 2. edits through the API: some titles cleared (the sample gives everyone one),
    #    and a phone set on a lead without one that the changed copy gives a phone
    run.cleared = title_clearing(state, changes, share=10)
    clear_fields(api, run.list_id, run.lead_ids, run.cleared, state, ["job_title"])
    run.edited = next(k for k in sorted(changes.phones) if state[k]["phone"] is None)
    api.call("PATCH", f"/lists/{run.list_id}/leads/{run.lead_ids[run.edited]}",
             json={"phone": EDITED_PHONE})
    state[run.edited].update(phone=EDITED_E164, phone_extension=None)

    # 3. the changed copy with fill_empty, then overwrite twice
    for name, mode in (("fill", "fill_empty"), ("overwrite", "overwrite"),
                       ("overwrite again", "overwrite")):
        step = check_step(api, run.list_id, str(changed.name), changed, mode, state,
                          rows=run.changed_rows)
        run.steps[name] = step
        state = step.expected.leads
        if name == "fill":
            run.lead_ids = step.lead_ids()
            for key in _activity_sample(step.expected, run):
                run.activity_after_fill[key] = import_activity(api, run.list_id,
                                                               run.lead_ids[key])

    # 4. an unknown mode is refused
    job = api.call("POST", f"/lists/{run.list_id}/imports", json={"filename": "x.csv"})
    api.upload(job["upload"], sample)
    api.wait_import(job["id"], {"ready", *FINISHED}, timeout=60)
    try:
        api.call("POST", f"/imports/{job['id']}/start", json={"mode": "merge"})
    except ApiError as exc:
        run.invalid_mode = exc
    return run


def _activity_sample(expected: Expected, run: Scenario) -> list[str]:
    """Leads whose activity is checked after fill_empty: the edited one, a refilled title,
    the lead with the most changed fields, and one that did not change."""
    changed = expected.changed
    refilled = next(k for k in run.cleared if "job_title" in changed.get(k, []))
    widest = max(sorted(changed), key=lambda k: len(changed[k]))
    untouched = next(k for k in sorted(expected.leads)
                     if k not in changed and k not in expected.saved)
    return list(dict.fromkeys([run.edited, refilled, widest, untouched]))


def _assert_step(step: Step) -> None:
    assert step.count_problems == [], step.count_problems
    assert step.mismatches == [], "\n".join(map(str, step.mismatches[:20]))
    assert step.job["status"] in ("completed", "completed_with_errors")


def test_default_mode_skips_known_people(scenario: Scenario):
    step = scenario.steps["sample"]
    _assert_step(step)
    counts = step.job["counts"]
    assert counts["updated"] == counts["unchanged"] == 0
    assert counts["saved"] > 1200 and counts["duplicates"] > 50 and counts["invalid"] > 0


def test_fill_empty_fills_only_what_leads_lack(scenario: Scenario):
    step = scenario.steps["fill"]
    _assert_step(step)
    counts = step.job["counts"]
    assert counts["saved"] == len(scenario.changes.new_people)
    # every new phone changed its lead (filled, or added as an alternate), and the
    # cleared titles came back: from the changed copy, or the sample's own
    refilled = {k for k, fields in step.expected.changed.items() if "job_title" in fields}
    assert refilled == set(scenario.cleared)
    assert counts["updated"] == len(set(scenario.changes.phones) | set(scenario.cleared))
    assert counts["duplicates"] == scenario.steps["sample"].job["counts"]["duplicates"]


def test_an_api_edit_is_kept_by_fill_empty(scenario: Scenario):
    # the lead had no phone; it was given one through the API before fill_empty
    key = scenario.edited
    lead = scenario.api.call("GET", f"/lists/{scenario.list_id}/leads/"
                                    f"{scenario.lead_ids[key]}")
    fill = scenario.steps["fill"].expected.leads[key]
    assert fill["phone"] == EDITED_E164  # fill_empty kept the edit...
    assert len(fill["phones"]) == 1  # ...and took the row's phone as an alternate
    changed = scenario.steps["fill"].expected.changed[key]
    assert "phones" in changed and "phone" not in changed
    # overwrite then put the row's phone in its place (the leads compared equal after each)
    assert lead["phone"] == fill["phones"][0].split(";")[0] != EDITED_E164


def test_an_updated_lead_has_one_import_activity_listing_the_changed_fields(
        scenario: Scenario):
    changed = scenario.steps["fill"].expected.changed
    assert len(scenario.activity_after_fill) >= 3
    for key, entries in scenario.activity_after_fill.items():
        if key not in changed:
            assert entries == [], (key, entries)
            continue
        assert len(entries) == 1, (key, entries)
        assert entries[0]["type"] == ACTIVITY_TYPE
        assert activity_fields(entries[0]) == set(changed[key]), (key, entries[0])


def test_overwrite_replaces_with_the_rows_values(scenario: Scenario):
    step = scenario.steps["overwrite"]
    _assert_step(step)
    counts = step.job["counts"]
    assert counts["saved"] == 0
    # the new titles replace the old; the cleared ones were refilled from this same file
    titles = {k for k, f in step.expected.changed.items() if "job_title" in f}
    assert titles == set(scenario.changes.titles) - set(scenario.cleared)
    assert counts["updated"] > len(scenario.changes.titles)


def test_the_same_file_again_with_overwrite_changes_nothing(scenario: Scenario):
    step = scenario.steps["overwrite again"]
    _assert_step(step)
    counts = step.job["counts"]
    previous = scenario.steps["overwrite"].job["counts"]
    assert counts["saved"] == counts["updated"] == 0
    assert counts["unchanged"] == previous["updated"] + previous["unchanged"]
    assert counts["duplicates"] == previous["duplicates"]
    assert counts["invalid"] == previous["invalid"]


def test_an_unknown_mode_is_refused(scenario: Scenario):
    assert scenario.invalid_mode is not None
    assert scenario.invalid_mode.status == 400
    assert scenario.invalid_mode.code == "invalid_mode"


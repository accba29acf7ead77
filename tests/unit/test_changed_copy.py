"""tools.changed_copy: exact shares of changed people, valid new values, nothing else touched."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from chalicelib.domain.email_address import normalise_email
from chalicelib.domain.errors import InvalidValue
from chalicelib.domain.phone import normalise_phone
from tools.changed_copy import (
    NEW_TITLES,
    change_rows,
    find_columns,
    main,
    new_phone,
    person_key,
    read_file,
    write_changed_copy,
)
from tools.sample_data import HEADER, TITLES, write_csv

ROWS = 4000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("changed")
    source, target = folder / "sample.csv", folder / "changed.csv"
    write_csv(source, ROWS)
    write_changed_copy(source, target, seed=5)
    return source, target


def _phone(raw: str) -> str | None:
    try:
        return normalise_phone(raw, "US").e164 if raw.strip() else None
    except InvalidValue:
        return None


def _by_person(rows: list[list[str]], email: int) -> dict[str, list[list[str]]]:
    people: dict[str, list[list[str]]] = {}
    for row in rows:
        key = person_key(row[email])
        if key is not None:
            people.setdefault(key, []).append(row)
    return people


def test_same_header_encoding_delimiter_and_line_ends(files):
    source, target = files
    raw = target.read_bytes()
    assert raw.split(b"\r\n", 1)[0] == source.read_bytes().split(b"\r\n", 1)[0]
    raw.decode("cp1252")  # strictly cp1252
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accents stay single cp1252 bytes
    header, rows = read_file(target)
    assert header == HEADER and all(len(row) == len(HEADER) for row in rows)


def test_exact_shares_of_changed_and_new_people(files):
    source, target = files
    cols = find_columns(HEADER)
    _, before_rows = read_file(source)
    _, after_rows = read_file(target)
    before, after = _by_person(before_rows, cols.email), _by_person(after_rows, cols.email)
    people = len(before)
    assert people > 3000
    new = set(after) - set(before)
    assert set(before) <= set(after)
    assert len(new) == round(people * 0.05)
    titled = [k for k in before if before[k][0][cols.job_title] != after[k][0][cols.job_title]]
    phoned = [k for k in before if before[k][0][cols.phone] != after[k][0][cols.phone]]
    assert len(titled) == round(people * 0.10)
    assert len(phoned) == round(people * 0.10)
    # drawn independently: some people get both, most one
    assert 0 < len(set(titled) & set(phoned)) < len(titled) // 2
    # some of the new phones go to people who had none (or a broken one)
    assert any(_phone(before[k][0][cols.phone]) is None for k in phoned)
    assert any(_phone(before[k][0][cols.phone]) is not None for k in phoned)


def test_changed_values_are_new_and_valid_and_on_every_row_of_the_person(files):
    source, target = files
    cols = find_columns(HEADER)
    _, before_rows = read_file(source)
    _, after_rows = read_file(target)
    before, after = _by_person(before_rows, cols.email), _by_person(after_rows, cols.email)
    old_phones = {p for row in before_rows if (p := _phone(row[cols.phone]))}
    for key, rows in before.items():
        new_rows = after[key]
        assert len(new_rows) == len(rows)
        # a changed person is changed on each of its rows (role addresses such as
        # sales@company are several people in the sample, with different values)
        for column in (cols.job_title, cols.phone):
            if any(a[column] != b[column] for a, b in zip(rows, new_rows, strict=True)):
                assert len({r[column] for r in new_rows}) == 1
        title, phone = new_rows[0][cols.job_title], new_rows[0][cols.phone]
        if title != rows[0][cols.job_title]:
            assert title in NEW_TITLES and title not in TITLES
        if phone != rows[0][cols.phone]:
            e164 = _phone(phone)
            assert e164 is not None, phone
            assert e164 not in old_phones


def test_everything_else_is_as_in_the_original(files):
    source, target = files
    cols = find_columns(HEADER)
    _, before_rows = read_file(source)
    _, after_rows = read_file(target)
    originals = set(_by_person(before_rows, cols.email))
    kept = [r for r in after_rows
            if (k := person_key(r[cols.email])) is None or k in originals]
    assert len(kept) == len(before_rows)

    def masked(row: list[str]) -> list[str]:
        return [c for i, c in enumerate(row) if i not in (cols.job_title, cols.phone)]

    assert [masked(r) for r in kept] == [masked(r) for r in before_rows]
    # rows of no person (no valid email) are untouched entirely
    assert [r for r in kept if person_key(r[cols.email]) is None] == \
        [r for r in before_rows if person_key(r[cols.email]) is None]


def test_new_people_are_unique_valid_and_interleaved(files):
    source, target = files
    cols = find_columns(HEADER)
    _, before_rows = read_file(source)
    _, after_rows = read_file(target)
    originals = set(_by_person(before_rows, cols.email))
    positions = [i for i, r in enumerate(after_rows)
                 if (k := person_key(r[cols.email])) is not None and k not in originals]
    emails = [after_rows[i][cols.email] for i in positions]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert normalise_email(email) == email  # already normal: one row, one person
    # spread through the file, not appended in one block
    assert positions[0] < len(after_rows) // 4 and positions[-1] > 3 * len(after_rows) // 4
    assert max(b - a for a, b in itertools.pairwise(positions)) < len(after_rows) // 4
    for i in positions:
        row = after_rows[i]
        assert row[0] and row[1] and row[9] in ("Webinar", "Referral", "Ads")
        assert not row[cols.phone] or _phone(row[cols.phone])
    assert any(not after_rows[i][cols.job_title] for i in positions)


def test_deterministic_per_seed(files, tmp_path):
    source, target = files
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    main([str(source), str(again), "--seed", "5"])
    main([str(source), str(other), "--seed", "6"])
    assert again.read_bytes() == target.read_bytes()
    assert other.read_bytes() != target.read_bytes()


def test_new_phones_are_valid_in_every_format():
    import random

    rng = random.Random(0)
    seen: set[str] = set()
    for k in range(0, 120_000, 37):
        raw = new_phone(rng, k)
        phone = normalise_phone(raw, "US")  # raises on an invalid number
        seen.add(phone.e164)
    assert len(seen) > 3000


def test_other_delimiters_and_a_file_without_people(tmp_path):
    header = ["Email", "Phone", "Title"]
    rows = [["a@example.com", "", "CTO"], ["", "(415) 555-0134", ""], ["b@example.com", "", ""]]
    changed, changes = change_rows(header, rows, seed=1)
    assert len(changes.titles) == 0 and len(changes.phones) == 0  # 10% of 2 rounds to 0
    assert changed == rows
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=",").writerows([header, *rows])
    out = tmp_path / "out.csv"
    write_changed_copy(path, out, encoding="utf-8", delimiter=",")
    assert out.read_text(encoding="utf-8").splitlines()[0] == "Email,Phone,Title"


# --- the checker's expected values (tools.check_modes), from the contract -----------------
# (They live here, beside the generator they are checked against: the checker's
# expected counts must agree with what the generator says it changed.)
from tools.check_modes import (  # noqa: E402
    compare_leads,
    expected_after,
    fill_empty,
    lead_values,
    overwrite,
    read_file_rows,
)

MODE_HEADER = ["Email", "Phone", "Title", "First Name", "Tags", "Status", "Plan", "Other Email"]


def _rows(tmp_path: Path, rows: list[list[str]], name: str = "f.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([MODE_HEADER, *rows])
    return read_file_rows(path)


def _lead(**values):
    return lead_values({"email": "a@example.com", **values})


def test_mapping_of_the_mode_fixture(tmp_path):
    rows = _rows(tmp_path, [["a@example.com", "", "", "", "", "", "", ""]])
    assert rows.mapping == {"Email": "email", "Phone": "phone", "Title": "job_title",
                            "First Name": "first_name", "Tags": "tags", "Status": "status",
                            "Plan": "custom:plan", "Other Email": "emails"}


def test_invalid_duplicates_in_file_and_new_people(tmp_path):
    rows = _rows(tmp_path, [
        ["not-an-email", "", "CTO", "", "", "", "", ""],         # invalid
        ["a@example.com", "", "CTO", "Ada", "", "", "", ""],     # saved
        [" A@Example.COM ", "", "CEO", "Ada", "", "", "", ""],   # duplicate in file
        ["", "", "", "Nobody", "", "", "", ""],                  # invalid (no identity)
        ["b@example.com", "", "", "", "", "", "", "", "extra"],  # invalid (ragged)
        ["b@example.com", "", "SDR", "", "", "", "", ""],        # saved: first usable
        ["c@example.com", "", "", "", "", "", "", ""],           # exists → per mode
    ])
    before = {"c@example.com": lead_values({"email": "c@example.com"})}
    for mode, counts in (("skip", (2, 0, 0, 2, 3)), ("fill_empty", (2, 0, 1, 1, 3)),
                         ("overwrite", (2, 0, 1, 1, 3))):
        got = expected_after(before, rows, mode)
        assert tuple(got.counts.values()) == counts, mode
        assert got.leads["a@example.com"]["job_title"] == "CTO"
        assert got.leads["b@example.com"]["job_title"] == "SDR"
        assert set(got.leads) == {"a@example.com", "b@example.com", "c@example.com"}
        assert got.total_rows == 7


def test_fill_empty_adds_only_what_the_lead_lacks(tmp_path):
    row = _rows(tmp_path, [["a@example.com", "(415) 555-0199 ext. 7", "CEO", "Ada",
                            "vip, new", "qualified", "gold", "ada@work.com"]]).rows[0].fields
    # a lead with nothing but its email takes everything but the status
    empty = fill_empty(_lead(), row)
    assert empty["phone"] == "+14155550199" and empty["phone_extension"] == "7"
    assert empty["phones"] == [] and empty["job_title"] == "CEO"
    assert empty["tags"] == ["vip", "new"] and empty["custom_fields"] == {"plan": "gold"}
    assert empty["emails"] == ["ada@work.com"] and empty["status"] == "new"
    # a lead that has values keeps them; the row's other phone becomes an alternate
    full = _lead(phone="+14155550134", phones=["+12125550100"], job_title="CTO",
                 first_name="Grace", tags=["new", "old"], custom_fields={"plan": "free"},
                 status="contacted", emails=["ada@work.com"])
    merged = fill_empty(full, row)
    assert merged["phone"] == "+14155550134" and merged["phone_extension"] is None
    assert merged["phones"] == ["+12125550100", "+14155550199;ext=7"]
    assert merged["job_title"] == "CTO" and merged["first_name"] == "Grace"
    assert merged["tags"] == ["new", "old", "vip"]
    assert merged["custom_fields"] == {"plan": "free"} and merged["status"] == "contacted"
    assert merged["emails"] == ["ada@work.com"]
    # an alternate already there is not added twice; the same phone is no alternate
    again = fill_empty(merged, row)
    assert again == merged
    same = fill_empty(_lead(phone="+14155550199", phone_extension="7"), row)
    assert same["phones"] == []


def test_fill_empty_caps_alternates_at_20():
    lead = _lead(phone="+14155550100", phones=[f"+1415555{n:04d}" for n in range(1, 21)])
    row = lead_values({"email": "a@example.com", "phone": "+12125550100"})
    assert fill_empty(lead, row)["phones"] == lead["phones"]


def test_overwrite_replaces_with_every_non_empty_value(tmp_path):
    rows = _rows(tmp_path, [["a@example.com", "212-555-0100", "CEO", "", "vip", "qualified", "gold",
                             ""]]).rows
    lead = _lead(phone="+14155550134", phone_extension="9", phones=["+12125550100"],
                 job_title="CTO", first_name="Grace", tags=["old"],
                 custom_fields={"plan": "free", "seats": "3"}, emails=["x@example.com"])
    got = overwrite(lead, rows[0].fields)
    assert got["phone"] == "+12125550100" and got["phone_extension"] is None
    assert got["phones"] == []  # the new primary is no alternate of itself
    assert got["job_title"] == "CEO" and got["first_name"] == "Grace"  # empty cell: kept
    assert got["tags"] == ["vip"] and got["status"] == "qualified"
    assert got["custom_fields"] == {"plan": "gold", "seats": "3"}
    assert got["emails"] == ["x@example.com"]  # the row has none: kept
    result = expected_after({"a@example.com": lead}, rows, "overwrite")
    assert result.counts["updated"] == 1
    assert result.changed["a@example.com"] == ["phone", "phone_extension", "phones",
                                               "job_title", "tags", "custom_fields", "status"]
    # the same file again changes nothing
    assert expected_after(result.leads, rows, "overwrite").counts["unchanged"] == 1


def test_compare_leads_names_each_difference():
    expected = {"a@example.com": _lead(job_title="CTO"), "b@example.com":
                lead_values({"email": "b@example.com"})}
    actual = [{**_lead(job_title="CEO"), "id": "ld_1"},
              {"email": "c@example.com", "id": "ld_2"},
              {"email": "c@example.com", "id": "ld_3"}]
    found = {(m.key, m.field) for m in compare_leads(expected, actual)}
    assert found == {("a@example.com", "job_title"), ("b@example.com", "<missing>"),
                     ("c@example.com", "<unexpected>"), ("c@example.com", "<twice>")}
    assert compare_leads(expected, [{**v, "id": k} for k, v in expected.items()]) == []


def test_compare_leads_knows_what_verification_does_to_a_status():
    expected = {"a@example.com": _lead()}
    by_verifier = [{**_lead(status="invalid"), "email_status": "invalid"}]
    assert compare_leads(expected, by_verifier) == []
    not_by_verifier = [{**_lead(status="invalid"), "email_status": "valid"}]
    assert [m.field for m in compare_leads(expected, not_by_verifier)] == ["status"]
    contacted = {"a@example.com": _lead(status="contacted")}
    assert [m.field for m in compare_leads(contacted, by_verifier)] == ["status"]


def test_expected_counts_agree_with_what_the_generator_changed(files):
    source, target = files
    sample, changed = read_file_rows(source), read_file_rows(target)
    first = expected_after({}, sample, "skip")
    assert first.counts["updated"] == first.counts["unchanged"] == 0
    assert sum(first.counts.values()) == first.total_rows == ROWS
    changes = write_changed_copy(source, target.with_name("again.csv"), seed=5)
    fill = expected_after(first.leads, changed, "fill_empty")
    # everyone has a title in the sample: fill_empty changes phones only, of every
    # person given a new phone (filled where there was none, else an alternate)
    assert fill.counts["saved"] == len(changes.new_people)
    assert fill.counts["updated"] == len(changes.phones)
    assert set(fill.changed) == set(changes.phones)
    assert fill.counts["duplicates"] == first.counts["duplicates"]
    assert fill.counts["invalid"] == first.counts["invalid"]
    assert sum(fill.counts.values()) == fill.total_rows == ROWS + len(changes.new_people)
    over = expected_after(fill.leads, changed, "overwrite")
    had_phone = {k for k in changes.phones if first.leads[k]["phone"] is not None}
    assert set(over.changed) == set(changes.titles) | had_phone
    assert over.counts["saved"] == 0
    for key in had_phone:
        assert over.leads[key]["phones"] == []  # the alternate became the primary
    assert expected_after(over.leads, changed, "overwrite").counts["updated"] == 0

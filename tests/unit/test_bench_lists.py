"""The list bench's pure helpers: the seeded list's shape, verdicts, item counting."""

from __future__ import annotations

from pathlib import Path

from tools.bench_lists import (
    RARE_COMPANY,
    RARE_STATUS,
    RARE_TIER,
    SIZE_FROM,
    TAG,
    items_in,
    lead_shape,
    verdict,
)
from tools.check_big_report import count_csv_rows, write_rejected_csv


def test_the_bench_list_has_its_promised_proportions() -> None:
    # GIVEN the first 100,000 lead shapes
    shapes = [lead_shape(i) for i in range(100_000)]
    # THEN one status matches 1%, the rare company 0.1%, the tag 5%
    assert sum(s.status == RARE_STATUS for s in shapes) == 1_000
    assert sum(s.company == RARE_COMPANY for s in shapes) == 100
    assert sum(TAG in s.tags for s in shapes) == 5_000
    # AND each custom-field filter 1%
    assert sum(s.tier == RARE_TIER for s in shapes) == 1_000
    assert sum(s.company_size >= SIZE_FROM for s in shapes) == 1_000
    # AND email statuses and tags vary
    assert len({s.email_status for s in shapes}) >= 4
    assert len({t for s in shapes for t in s.tags}) >= 3


def test_no_other_company_begins_like_the_rare_one() -> None:
    assert all(not s.company.lower().startswith("zeph") or s.company == RARE_COMPANY
               for s in (lead_shape(i) for i in range(10_000)))


def test_verdict_checks_the_ratio_and_the_absolute_target() -> None:
    assert verdict(150, 100) == "1.5x the bare page; target <= 3x: yes"
    assert verdict(400, 100).endswith(": NO")
    assert verdict(280, 100, absolute_ms=300).endswith(": yes")
    assert verdict(290, 10, absolute_ms=300).endswith(": NO")  # 29x the page


def test_items_in_counts_what_dynamodb_returned() -> None:
    assert items_in({"Items": [{}, {}], "Count": 2}) == 2
    assert items_in({"Responses": {"t": [{}, {}, {}]}, "UnprocessedKeys": {}}) == 3
    assert items_in({"Item": {}}) == 1
    assert items_in({}) == 0


def test_the_rejected_csv_has_a_header_and_one_record_a_row(tmp_path: Path) -> None:
    # GIVEN a file of 250 rejected rows
    path = tmp_path / "rejected.csv"
    size = write_rejected_csv(path, 250)
    # THEN it holds the header and the rows, and its size is reported
    assert count_csv_rows(path) == 251
    assert size == path.stat().st_size
    assert "@" not in path.read_text().split("\n", 2)[1]

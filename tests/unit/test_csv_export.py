"""Tests for chalicelib.domain.csv_export: formula neutralising and CSV streaming."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from chalicelib.domain.csv_export import STANDARD_COLUMNS, custom_columns, inert_cell, iter_csv
from chalicelib.domain.lead import Lead


def _lead(n: int = 1, **fields: Any) -> Lead:
    return Lead(id=f"ld_{n}", list_id="ls_1", created_at="2024-01-01T00:00:00.000Z",
                updated_at="2024-01-02T00:00:00.000Z", **fields)


def _rows(leads: list[Lead], custom_keys: list[str] | set[str] = ()) -> list[list[str]]:
    text = "".join(iter_csv(leads, custom_keys))
    return list(csv.reader(io.StringIO(text, newline="")))


def _row_dict(rows: list[list[str]], index: int = 1) -> dict[str, str]:
    return dict(zip(rows[0], rows[index], strict=True))


# --- inert_cell -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "=1+2", "=HYPERLINK(\"http://x\")", "+A1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)",
    "\t=1", "\r=1", "\t1", "=", "+", "-", "@", "- 1", "-1e-0x", "-1+1", "+1 ext 12",
    # found by the probe of issue 10: a formula after leading spaces, arithmetic on numbers
    " =1+1", "  @SUM(A1)", " \t-2", "-1-1", "+1 (415) 555-0134", "+44 20 7946 0018",
    "-1.000.000",
])
def test_formula_starts_get_an_apostrophe(value: str) -> None:
    assert inert_cell(value) == "'" + value


@pytest.mark.parametrize("value", [
    # plain signed numbers only (E.164 phones are stored this way)
    "+14155550134", "-12.5", "-0", "+.5", "-1e5", "+3.",
])
def test_plain_numbers_starting_with_sign_left_alone(value: str) -> None:
    assert inert_cell(value) == value


@pytest.mark.parametrize("value", [
    "(415) 555-0134", "hello", "", "1+1", "a=b", "'=already", "(=1)", "12.5", "  ",
])
def test_cells_not_starting_with_a_formula_character_left_alone(value: str) -> None:
    assert inert_cell(value) == value


def test_only_the_start_of_the_cell_counts() -> None:
    # "\n=1" does not start with a formula character
    assert inert_cell("x\n=1") == "x\n=1"


# --- columns ----------------------------------------------------------------------------------


def test_custom_columns_sorted_deduped_and_prefixed_on_clash() -> None:
    assert custom_columns(["zeta", "email", "alpha", "zeta", "id"]) == [
        ("alpha", "alpha"), ("custom.email", "email"), ("custom.id", "id"), ("zeta", "zeta")]


def test_header_is_standard_then_sorted_custom_columns() -> None:
    rows = _rows([], {"size", "email", "b_score"})
    assert rows == [[*STANDARD_COLUMNS, "b_score", "custom.email", "size"]]


def test_no_leads_gives_only_the_header() -> None:
    text = "".join(iter_csv([], []))
    assert text == ",".join(STANDARD_COLUMNS) + "\r\n"


# --- cells ------------------------------------------------------------------------------------


def test_values_are_written_as_text() -> None:
    # GIVEN a lead with lists, booleans, None, numbers and a clashing custom key
    lead = _lead(first_name="Grace", email="g@x.com", emails=("a@x.com", "b@x.com"),
                 phone="+14155550134", phone_extension="12",
                 phones=("+442079460018", "+14155550135;ext=7"), tags=("VIP", "cobol"),
                 custom_fields={"active": True, "gone": False, "score": 9.5, "n": 3,
                                "nothing": None, "email": "other@x.com"},
                 status="qualified", email_status="valid")

    # WHEN it is exported
    row = _row_dict(_rows([lead], lead.custom_fields.keys()))

    # THEN each cell has its CSV text form
    assert row["id"] == "ld_1"
    assert row["first_name"] == "Grace"
    assert row["last_name"] == ""  # None -> empty
    assert row["emails"] == "a@x.com;b@x.com"
    assert row["phone"] == "+14155550134"  # plain number, no apostrophe
    assert row["phone_extension"] == "12"
    # several phones joined are no longer one plain number, so the cell is neutralised
    assert row["phones"] == "'+442079460018;+14155550135;ext=7"
    assert row["tags"] == "VIP;cobol"
    assert row["status"] == "qualified"
    assert row["email_status"] == "valid"
    assert row["created_at"] == "2024-01-01T00:00:00.000Z"
    assert row["active"] == "true"
    assert row["gone"] == "false"
    assert row["score"] == "9.5"
    assert row["n"] == "3"
    assert row["nothing"] == ""
    assert row["email"] == "g@x.com"
    assert row["custom.email"] == "other@x.com"


def test_single_alternate_phone_left_alone() -> None:
    row = _row_dict(_rows([_lead(phones=("+442079460018",))]))
    assert row["phones"] == "+442079460018"


def test_missing_custom_key_is_empty() -> None:
    rows = _rows([_lead(1, custom_fields={"a": "x"}), _lead(2)], ["a"])
    assert [r[-1] for r in rows] == ["a", "x", ""]


def test_formula_cells_neutralised_in_text_lists_and_custom_fields() -> None:
    lead = _lead(first_name="=cmd()", tags=("=evil", "ok"), notes="@SUM(A1)",
                 custom_fields={"f": "+A1", "neg": -5, "money": "-12.5"})
    row = _row_dict(_rows([lead], ["f", "neg", "money"]))
    assert row["first_name"] == "'=cmd()"
    assert row["tags"] == "'=evil;ok"
    assert row["notes"] == "'@SUM(A1)"
    assert row["f"] == "'+A1"
    assert row["neg"] == "-5"
    assert row["money"] == "-12.5"


@pytest.mark.parametrize("value", [-0.00001, -1e20])
def test_negative_float_in_exponent_notation_is_left_as_a_number(value: float) -> None:
    row = _row_dict(_rows([_lead(custom_fields={"x": value})], ["x"]))
    assert row["x"] == str(value)


def test_newlines_quotes_and_commas_round_trip() -> None:
    notes = 'He said "hi",\nthen left;\r\nbye'
    lead = _lead(notes=notes, company='Acme, "Inc"')
    row = _row_dict(_rows([lead]))
    assert row["notes"] == notes
    assert row["company"] == 'Acme, "Inc"'


def test_rows_end_with_crlf() -> None:
    text = "".join(iter_csv([_lead()], []))
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 2


# --- streaming --------------------------------------------------------------------------------


def test_big_export_comes_in_several_chunks_holding_every_row() -> None:
    # GIVEN enough leads for well over 64 KB of CSV
    leads = [_lead(n, first_name=f"Name {n}", notes="n" * 200, custom_fields={"k": n})
             for n in range(1000)]

    # WHEN it is exported
    chunks = list(iter_csv(leads, ["k"]))

    # THEN it streams in several chunks, none much over the threshold
    assert len(chunks) > 2
    assert all(len(c) < 64 * 1024 + 1024 for c in chunks)
    assert all(c.endswith("\r\n") for c in chunks if c)
    rows = list(csv.reader(io.StringIO("".join(chunks), newline="")))
    assert len(rows) == 1001
    assert [r[0] for r in rows[1:]] == [f"ld_{n}" for n in range(1000)]
    assert [r[-1] for r in rows[1:]] == [str(n) for n in range(1000)]


def test_iter_csv_is_lazy() -> None:
    read: list[int] = []

    def leads():
        for n in range(3):
            read.append(n)
            yield _lead(n)

    # WHEN the export is set up but no chunk has been asked for
    chunks = iter_csv(leads(), [])
    # THEN no lead has been read yet
    assert read == []
    assert len(list(csv.reader(io.StringIO("".join(chunks), newline="")))) == 4
    assert read == [0, 1, 2]

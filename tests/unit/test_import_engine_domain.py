"""The import engine's pure parts: lifecycle, modes, merge rules, wire shapes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import BadRequest, DropMessage
from chalicelib.domain.import_messages import ChunkMessage, SplitMessage, UploadEvent
from chalicelib.domain.import_state import (
    TRANSITIONS,
    ImportMode,
    ImportState,
    can_move,
    parse_mode,
    sources_of,
)
from chalicelib.domain.job_messages import BulkJob, CopyListJob, PurgeListJob, parse_job
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_merge import changed_fields, merge_row

# --- lifecycle ----------------------------------------------------------------


def test_finished_states_are_final_and_every_state_can_fail():
    for state in ImportState:
        if state.finished:
            assert TRANSITIONS[state] == frozenset()
        else:
            assert can_move(state, ImportState.FAILED)


def test_only_running_imports_complete_and_only_ready_ones_start():
    assert sources_of(ImportState.COMPLETED) == (ImportState.RUNNING,)
    assert sources_of(ImportState.RUNNING) == (ImportState.READY,)
    assert not can_move(ImportState.AWAITING_UPLOAD, ImportState.RUNNING)
    assert ImportState.ANALYSING.active and ImportState.RUNNING.active
    assert not ImportState.READY.active


def test_modes_parse_and_unknown_modes_list_the_choices():
    assert parse_mode(None) is ImportMode.SKIP
    assert parse_mode("overwrite") is ImportMode.OVERWRITE
    with pytest.raises(BadRequest) as error:
        parse_mode("merge")
    assert error.value.code == "invalid_mode"
    assert error.value.details["modes"] == ["skip", "fill_empty", "overwrite"]


# --- merge rules --------------------------------------------------------------

LEAD = Lead(id="ld_1", list_id="ls_1", created_at="t", updated_at="t", first_name="Ada",
            email="ada@example.com", emails=("ada@old.example",), phone="+14155550134",
            company="Engines", tags=("vip",), custom_fields={"tier": "gold"}, status="contacted")
EMPTY_ROW = {"first_name": None, "last_name": None, "company": None, "job_title": None,
             "linkedin_url": None, "location": None, "notes": None, "email": None, "emails": (),
             "phone": None, "phone_extension": None, "phones": (), "tags": (),
             "custom_fields": {}}


def row(**values: object) -> dict[str, object]:
    return {**EMPTY_ROW, **values}


def test_skip_never_changes_a_lead():
    assert merge_row(LEAD, row(job_title="CTO"), ImportMode.SKIP) == {}


def test_fill_empty_fills_gaps_keeps_what_is_held_and_loses_nothing():
    changes = merge_row(LEAD, row(first_name="Augusta", job_title="Countess",
                                  phone="+14155550199", tags=("q1", "vip"),
                                  custom_fields={"tier": "silver", "region": "EU"},
                                  status="replied"), ImportMode.FILL_EMPTY)
    assert changes == {"job_title": "Countess", "phones": ("+14155550199",),
                       "tags": ("vip", "q1"),
                       "custom_fields": {"tier": "gold", "region": "EU"}}


def test_fill_empty_of_a_missing_primary_fills_it():
    lead = Lead(id="ld_2", list_id="ls_1", created_at="t", updated_at="t",
                email="x@example.com", phones=("+14155550199",))
    changes = merge_row(lead, row(phone="+14155550199"), ImportMode.FILL_EMPTY)
    # the alternate became the primary: it is not kept twice
    assert changes == {"phone": "+14155550199", "phones": ()}


def test_overwrite_replaces_non_empty_values_only():
    changes = merge_row(LEAD, row(company="AE Ltd", phone="+14155550199", tags=("q1",),
                                  custom_fields={"tier": "silver"}, status="replied"),
                        ImportMode.OVERWRITE)
    assert changes == {"company": "AE Ltd", "phone": "+14155550199", "tags": ("q1",),
                       "custom_fields": {"tier": "silver"}, "status": "replied"}
    assert merge_row(LEAD, row(), ImportMode.OVERWRITE) == {}


@given(st.sampled_from([ImportMode.FILL_EMPTY, ImportMode.OVERWRITE]),
       st.text(max_size=20), st.text(max_size=20),
       st.lists(st.sampled_from(["a", "b", "c"]), max_size=3, unique=True))
def test_merging_twice_changes_nothing_the_second_time(mode, title, company, tags):
    incoming = row(job_title=title or None, company=company or None, tags=tuple(tags))
    first = merge_row(LEAD, incoming, mode)
    after = LEAD.with_changes(first, updated_at="t2")
    assert merge_row(after, incoming, mode) == {}


def test_changed_fields_lists_from_and_to():
    assert changed_fields(LEAD, {"tags": ("vip", "q1")}) == {
        "tags": {"from": ["vip"], "to": ["vip", "q1"]}}


# --- wire shapes --------------------------------------------------------------


def test_messages_round_trip():
    chunk = ChunkMessage("im_1", 3, ChunkMessage.key_for("im_1", 3), 1000)
    assert ChunkMessage.from_body(dict(chunk.to_body())) == chunk
    assert SplitMessage.from_body(dict(SplitMessage("im_1").to_body())) == SplitMessage("im_1")
    assert UploadEvent.from_body(UploadEvent.body_for("uploads/im_1/a%20b")).keys == \
        ("uploads/im_1/a b",)
    for job in (PurgeListJob("ls_1", "ws", "email", 16), CopyListJob("ws", "ls_1", "ls_2", None),
                BulkJob("ws", "ls_1", {"action": "tag"}, "pos")):
        assert parse_job(job.to_body()) == job


@pytest.mark.parametrize("body", [
    {}, {"import_id": ""}, {"import_id": "im_1", "chunk": -1, "key": "k", "rows": 1},
    {"import_id": "im_1", "chunk": True, "key": "k", "rows": 1},
    {"import_id": "im_1", "chunk": 0, "key": "k", "rows": "1"},
])
def test_malformed_chunk_messages_are_dropped(body):
    with pytest.raises(DropMessage):
        ChunkMessage.from_body(body)


@pytest.mark.parametrize("body", [
    {"type": "nope"}, {"type": "purge_list", "list_id": "ls", "workspace": "w",
                       "identity": "email", "shards": 0},
    {"type": "bulk", "workspace": "w", "list_id": "ls", "request": [], "position": "p"},
])
def test_malformed_jobs_are_dropped(body):
    with pytest.raises(DropMessage):
        parse_job(body)

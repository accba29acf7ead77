"""The events bench's pure helpers: the plan, the wire events, status paths, the meter."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib.domain.events import parse_event
from tools.bench_events import (
    EVENT_BATCH,
    chunks,
    cost,
    final_statuses,
    lead_email,
    paths_by_lead,
    plan,
    status_path,
    wire,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _body(n: int) -> tuple[list, list[dict]]:
    planned = plan(n)
    leads = 1 + max(p.lead for p in planned)
    ids = [f"ld_{i:026d}" for i in range(leads)]
    body = [wire(p, list_id="ls_bench", lead_ids=ids, base=NOW - timedelta(days=3), now=NOW)
            for p in planned]
    return planned, body


def test_the_plan_holds_exactly_n_distinct_events_over_about_n_over_2_4_leads() -> None:
    # GIVEN the plan of 10,000 events
    planned, body = _body(10_000)
    # THEN there are 10,000, each id once
    assert len(body) == 10_000 and len({e["id"] for e in body}) == 10_000
    # AND about 10,000 / 2.4 leads are named
    assert 4_000 <= len({p.lead for p in planned}) <= 4_300
    # AND a request of 500 names each lead at most once (sent step by step)
    for part in chunks(planned, EVENT_BATCH):
        leads = [p.lead for p in part]
        assert len(leads) == len(set(leads))


def test_every_wire_event_is_valid_and_the_mix_is_realistic() -> None:
    # GIVEN the plan of 2,400 events as an engine sends them
    _, body = _body(2_400)
    # THEN every event parses (nothing ahead of the clock, data within limits)
    parsed = [parse_event(raw, now=NOW) for raw in body]
    types = Counter(e.type for e in parsed)
    # AND the mix has every kind of event, email_sent the most
    assert set(types) == {"email_sent", "email_opened", "email_clicked", "replied", "bounced",
                          "call", "message", "meeting_booked", "unsubscribed"}
    assert types.most_common(1)[0][0] == "email_sent"
    # AND each carries its campaign; calls name the lead by id, emails by list and email
    assert all(e.campaign is not None and e.campaign.step for e in parsed)
    by_email = [raw["lead"] for raw in body if "email" in raw["lead"]]
    assert by_email and all(r["list_id"] == "ls_bench" for r in by_email)
    assert all("id" in raw["lead"] for raw in body if raw["type"] == "call")
    # AND a callback call says when
    assert all(e.callback_at for e in parsed if e.outcome == "callback")


def test_status_paths_follow_the_rules_and_never_go_down() -> None:
    # GIVEN a lead sent, opened, then bounced; another sent then an old email_sent again
    def ev(kind: str, i: int) -> dict:
        return {"id": f"e{i}", "type": kind, "occurred_at": (NOW - timedelta(hours=i)).isoformat(),
                "lead": {"id": "ld_x", "list_id": "ls_x"}}

    # THEN the path holds only the moves up
    assert status_path([ev("email_sent", 1), ev("email_opened", 2), ev("bounced", 3)],
                       NOW) == ["contacted", "bounced"]
    assert status_path([ev("replied", 1), ev("email_sent", 2)], NOW) == ["replied"]
    assert status_path([ev("email_opened", 1)], NOW) == []


def test_final_statuses_count_the_named_leads_that_moved() -> None:
    # GIVEN the plan of 1,000 events
    planned, body = _body(1_000)
    paths = paths_by_lead(planned, body, NOW)
    # THEN every named lead moved (each story moves its lead) and the counts add up
    finals = final_statuses(paths)
    assert sum(finals.values()) == len(paths)
    assert {"contacted", "replied", "bounced", "callback", "qualified", "not_interested",
            "unsubscribed"} <= set(finals)


def test_cost_is_the_difference_of_two_readings() -> None:
    # GIVEN two meter readings
    before = {"requests": {"GetItem": 10}, "seconds": {"GetItem": 1.0}, "write_units": 4.0}
    after = {"requests": {"GetItem": 30, "TransactWriteItems": 5},
             "seconds": {"GetItem": 2.5, "TransactWriteItems": 1.0}, "write_units": 104.0}
    # THEN the cost between them, per event
    spent = cost(before, after)
    assert spent.total_requests == 25 and spent.per(10) == (2.5, 10.0)
    assert spent.by_operation(10) == "GetItem 2.00, TransactWriteItems 0.50"
    assert spent.time_by_operation() == "GetItem 1.5 s, TransactWriteItems 1.0 s"


def test_lead_emails_are_distinct_per_list_prefix() -> None:
    assert len({lead_email(i) for i in range(5_000)}) == 5_000
    assert lead_email(3) != lead_email(3, "patch")

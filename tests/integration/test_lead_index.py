"""Indexed filters, counts and stats stay exact under concurrent changes.

Writers are separate processes (as concurrent Lambdas are) on moto's real
server: they add leads one at a time and in batches, edit statuses, tags and
emails, delete leads and run bulk actions by filter and by ids, while a
verifier process handles the verify queue (DNS on loopback), so verdicts land
in between. Then every filter is answered through the indexes (paged, small
pages, following cursors) and compared with a brute-force pass over the
whole list; the stats and `count` are compared with counts of that pass.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections import Counter
from typing import Any

import boto3
import pytest

from tools.embedded_aws import EmbeddedAws

WS = "index-check"
TAGS = ["vip", "VIP", "Cold", "warm", "event-2026", "partner"]
STATUSES = ["new", "contacted", "replied", "qualified", "not_interested"]
DOMAINS = ["example.com", "no-mx.example", "mail.test", "nxdomain.invalid"]
WRITERS = 3
OPS = 70


def _services(endpoint: str) -> Any:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from chalicelib.bootstrap import services

    return services()


def _lead(rng: random.Random, tag: str) -> dict[str, Any]:
    return {"email": f"{tag}-{rng.randrange(10**9)}@{rng.choice(DOMAINS)}",
            "first_name": rng.choice(["Ada", "Grace", "Alan", "Édith"]),
            "company": rng.choice(["Acme", "Initech", "Globex"]),
            "status": rng.choice(STATUSES),
            "phone": f"+1 415 555 {rng.randrange(10**4):04d}" if rng.random() < 0.5 else None,
            "tags": rng.sample(TAGS, rng.randrange(0, 3))}


def _seed(endpoint: str, list_id: str) -> list[str]:
    s = _services(endpoint)
    rng = random.Random(7)
    body, _ = s.lead_batches.create(WS, list_id, {"leads": [_lead(rng, "seed")
                                                            for _ in range(120)]})
    return [r["lead_id"] for r in body["results"] if r.get("lead_id")]


def _writer(endpoint: str, list_id: str, ids: list[str], seed: int) -> int:
    from chalicelib.domain.errors import LeadpipeError

    s = _services(endpoint)
    rng = random.Random(seed)
    ids = list(ids)
    done = 0
    for _ in range(OPS):
        op = rng.choice(["create", "batch", "status", "tags", "email", "delete",
                         "bulk_filter", "bulk_ids"])
        lead_id = rng.choice(ids)
        try:
            if op == "create":
                ids.append(s.leads.create(WS, list_id, _lead(rng, f"w{seed}")).id)
            elif op == "batch":
                body, _ = s.lead_batches.create(WS, list_id, {"leads": [
                    _lead(rng, f"b{seed}") for _ in range(rng.randrange(2, 8))]})
                ids.extend(r["lead_id"] for r in body["results"] if r.get("lead_id"))
            elif op == "status":
                s.leads.update(WS, list_id, lead_id, {"status": rng.choice(STATUSES)})
            elif op == "tags":
                s.leads.update(WS, list_id, lead_id, {"tags": rng.sample(TAGS, 2)})
            elif op == "email":
                s.leads.update(WS, list_id, lead_id,
                               {"email": f"e{seed}-{rng.randrange(10**9)}@"
                                         f"{rng.choice(DOMAINS)}"})
            elif op == "delete":
                s.leads.delete(WS, list_id, lead_id)
            elif op == "bulk_filter":
                s.leads.bulk(WS, list_id, {"action": "set_status",
                                           "status": rng.choice(STATUSES),
                                           "filter": {"tag": rng.choice(TAGS),
                                                      "status": rng.choice(STATUSES)}})
            else:
                s.leads.bulk(WS, list_id, {"action": rng.choice(["add_tags", "remove_tags"]),
                                           "tags": [rng.choice(TAGS)],
                                           "lead_ids": rng.sample(ids, 10)})
            done += 1
        except LeadpipeError:  # a lead deleted or changed by another writer meanwhile
            pass
    return done


def _verifier(endpoint: str, stop: Any) -> int:
    """Handle the verify queue as its Lambda would, until told to stop and it is empty."""
    import json
    import time

    s = _services(endpoint)
    from chalicelib.config import get_settings

    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("verify"))["QueueUrl"]
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                       WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            if stop.is_set():
                return handled
            continue
        for message in messages:
            s.verification.handle(json.loads(message["Body"]),
                                  deadline=time.monotonic() + 60)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1


FILTERS: list[dict[str, str]] = [
    *({"status": s} for s in STATUSES),
    *({"email_status": e} for e in ["pending", "valid", "invalid", "unknown", "risky"]),
    {"source": "api"}, {"source": "file"},
    *({"tag": t} for t in ["vip", "Vip", "cold", "warm", "event-2026", "partner", "none"]),
    {"status": "new", "tag": "vip"}, {"email_status": "valid", "tag": "warm"},
    {"status": "contacted", "email_status": "pending"}, {"tag": "partner", "q": "ada"},
    {"source": "api", "status": "replied", "company": "acme"},
    # search as you type: word prefixes, accents, emails, domains, phones
    {"q": "ad"}, {"q": "edi"}, {"q": "ÉDITH"}, {"q": "acme"}, {"q": "gl"}, {"q": "seed"},
    {"q": "example.com"}, {"q": "mail"}, {"q": "415 555"}, {"q": "+1 (415) 555-0"},
    {"q": "grace acme"}, {"q": "ada", "status": "new"}, {"q": "al", "tag": "warm"},
    {"q": "a"},
]


def _check(endpoint: str, list_id: str) -> dict[str, Any]:
    s = _services(endpoint)
    from chalicelib.domain.lead_filter import LeadFilter
    from chalicelib.domain.lead_index import source_kind

    lst = s.lists.get(WS, list_id)
    every = [lead for lead, _ in s.leads._repo.walk_leads(lst)]
    out: dict[str, Any] = {"total": len(every), "filters": []}
    for raw in FILTERS:
        lead_filter = LeadFilter.parse(raw)
        brute = sorted(lead.id for lead in every if lead_filter.matches(lead))
        found: list[str] = []
        cursor = None
        pages = 0
        while True:
            items, cursor, count = s.leads.search(WS, list_id, lead_filter, 7, cursor,
                                                  count=pages == 0)
            if pages == 0:
                first_count = count
            found.extend(lead.id for lead in items)
            pages += 1
            if cursor is None:
                break
        out["filters"].append({"filter": raw, "brute": brute, "found": found,
                               "count": first_count, "pages": pages})
    tags: Counter[str] = Counter(t.casefold() for lead in every for t in {x.casefold()
                                                                          for x in lead.tags})
    out["brute_stats"] = {
        "leads": len(every),
        "by_status": Counter(lead.status for lead in every),
        "by_email_status": Counter(lead.email_status for lead in every),
        "by_source": Counter(source_kind(lead) for lead in every),
        "tags": tags}
    out["stats"] = s.leads.stats(WS, list_id)
    return out


@pytest.mark.timeout(600)
def test_every_filter_and_count_matches_a_brute_force_pass_after_concurrent_changes(
        monkeypatch: pytest.MonkeyPatch, test_dns: Any) -> None:
    from chalicelib.config import get_settings
    from tools.provision import provision

    server = EmbeddedAws().start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        region = get_settings().region
        provision(get_settings(), dynamodb_client=boto3.client("dynamodb", region_name=region),
                  s3_client=boto3.client("s3", region_name=region),
                  sqs_client=boto3.client("sqs", region_name=region))
        ctx = multiprocessing.get_context("spawn")
        with ctx.Manager() as manager, ctx.Pool(WRITERS + 1) as pool:
            stop = manager.Event()
            lst = pool.apply(_services_list, (server.url,))
            ids = pool.apply(_seed, (server.url, lst))
            # GIVEN writers and a verifier changing the list at once
            verifier = pool.apply_async(_verifier, (server.url, stop))
            done = pool.starmap(_writer, [(server.url, lst, ids, seed)
                                          for seed in range(WRITERS)])
            stop.set()
            verified = verifier.get(timeout=300)
            result = pool.apply(_check, (server.url, lst))
    finally:
        server.stop()
    # the mix really happened: most operations succeeded, verdicts landed
    assert sum(done) > WRITERS * OPS // 2
    assert verified > 0
    assert result["brute_stats"]["by_email_status"]["pending"] < result["total"]
    # THEN every filter, followed page by page, returns exactly the brute-force
    # answer, once each, and its count is the brute-force count
    nonempty = 0
    for check in result["filters"]:
        assert sorted(check["found"]) == check["brute"], check["filter"]
        assert len(check["found"]) == len(set(check["found"])), check["filter"]
        assert check["count"] == len(check["brute"]), check["filter"]
        nonempty += bool(check["brute"])
    assert nonempty >= 28  # the check is not vacuous (source=file, tag=none stay empty)
    # AND the stats equal the brute-force counts
    stats, brute = result["stats"], result["brute_stats"]
    assert stats["leads"] == brute["leads"] == result["total"]
    assert {k: v for k, v in stats["by_status"].items() if v} == dict(brute["by_status"])
    assert {k: v for k, v in stats["by_email_status"].items() if v} == \
        dict(brute["by_email_status"])
    assert stats["by_source"] == dict(brute["by_source"])
    assert {t["tag"]: t["count"] for t in stats["top_tags"]} == dict(brute["tags"])


def _services_list(endpoint: str) -> str:
    return str(_services(endpoint).lists.create(WS, {"name": "Index check"}).id)

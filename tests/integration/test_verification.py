"""Email verification against a real DNS server on loopback (dnslib) and moto.

The session's DNS server (tests/conftest.py) gives every name an MX unless
DNS_ZONE says otherwise; the resolver tests here start servers of their own
(slow, silent) so their counts are theirs alone.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from chalicelib.adapters.dns_lookup import DnsLookup, DnsSettings
from chalicelib.config import get_settings
from tests.conftest import DNS_ZONE
from tests.integration.conftest import Api
from tests.integration.test_imports import upload
from tools.dns_server import LoopbackDns, Zone

CASES = {  # address → (email_status, email_status_reason)
    "ada@acme-verify.com": ("valid", "mx_found"),
    "x@null-mx.com": ("invalid", "null_mx"),
    "x@parked-a.com": ("risky", "no_mx_a_fallback"),
    "x@parked-v6.com": ("risky", "no_mx_a_fallback"),
    "x@no-mail.com": ("invalid", "no_mail_server"),
    "x@gone-away.com": ("invalid", "domain_not_found"),
    "x@spf-reject.com": ("invalid", "spf_reject_all"),
    "x@broken-dns.com": ("unknown", "dns_servfail"),
    "x@mailinator.com": ("risky", "disposable_domain"),
    "sales@acme-verify.com": ("risky", "role_address"),
}


# --- the resolver, against servers that misbehave ------------------------------------------
def _lookup(server: LoopbackDns, timeout: float = 0.3, retries: int = 1) -> DnsLookup:
    return DnsLookup(DnsSettings(nameservers=(("127.0.0.1", server.port),),
                                 timeout_seconds=timeout, retries=retries))


@pytest.mark.parametrize(("kind", "outcome"), [
    ("mx", "mx"), ("null_mx", "null_mx"), ("a_only", "a_fallback"),
    ("aaaa_only", "a_fallback"), ("no_address", "no_address"), ("nxdomain", "nxdomain"),
    ("spf_reject_all", "spf_reject_all"), ("servfail", "servfail"), ("refused", "servfail"),
])
def test_resolver_outcomes(kind: str, outcome: str) -> None:
    with LoopbackDns(Zone({"case.com": kind})) as server:
        assert _lookup(server).facts_for("case.com").outcome == outcome


def test_mx_answers_carry_their_ttl_and_cost_one_query() -> None:
    with LoopbackDns(Zone({"case.com": "mx"})) as server:
        facts = _lookup(server).facts_for("case.com")
        assert (facts.outcome, facts.ttl) == ("mx", 3600)
        assert server.log.by_type() == {"MX": 1}


def test_internationalised_domains_are_asked_in_idna() -> None:
    with LoopbackDns(Zone({"xn--bcher-kva.de": "mx"})) as server:
        assert _lookup(server).facts_for("bücher.de").outcome == "mx"
        assert server.log.names() == {"xn--bcher-kva.de"}


def test_a_slow_server_within_the_timeout_is_answered() -> None:
    with LoopbackDns(Zone({"case.com": "mx"}), delay=0.15) as server:
        assert _lookup(server, timeout=1.0).facts_for("case.com").outcome == "mx"
        assert server.log.total == 1


def test_a_server_slower_than_the_timeout_is_a_timeout_after_the_retries() -> None:
    with LoopbackDns(Zone({"case.com": "mx"}), delay=0.6) as server:
        started = time.monotonic()
        assert _lookup(server, timeout=0.2, retries=2).facts_for("case.com").outcome == "timeout"
        assert time.monotonic() - started < 2.0
        assert server.log.total == 3  # the first try and two retries, then it gives up


def test_a_server_that_never_answers_is_a_timeout() -> None:
    with LoopbackDns(Zone({"case.com": "mx"}), drop=True) as server:
        assert _lookup(server, timeout=0.2, retries=1).facts_for("case.com").outcome == "timeout"
        assert server.log.total == 2


def test_lookups_run_concurrently_within_the_bound() -> None:
    domains = [f"d{i}.com" for i in range(40)]
    with LoopbackDns(Zone(dict.fromkeys(domains, "mx")), delay=0.1) as server:
        lookup = DnsLookup(DnsSettings(nameservers=(("127.0.0.1", server.port),),
                                       timeout_seconds=2, concurrency=10))
        started = time.monotonic()
        facts = lookup.facts_for_many(domains + domains[:5])  # repeats are asked once
        elapsed = time.monotonic() - started
    assert {f.outcome for f in facts.values()} == {"mx"} and len(facts) == 40
    assert server.log.total == 40
    # 4 rounds of 10 at 0.1 s; one at a time would take 4 s
    assert elapsed < 2.0


# --- the whole path: API → verify queue → DNS → leads ----------------------------------------
def _verify_drain(pump: Any) -> None:
    pump.drain()


def _lead(api: Api, lid: str, lead_id: str) -> dict[str, Any]:
    return api.get(f"/lists/{lid}/leads/{lead_id}").json_body  # type: ignore[no-any-return]


def test_each_case_gets_its_verdict_in_the_background(api: Api, pump: Any, test_dns: Any) -> None:
    # GIVEN leads added through the API (one by one and in a batch)
    lid = api.new_list()["id"]
    first, *rest = list(CASES)
    single = api.post(f"/lists/{lid}/leads", {"email": first}).json_body
    # THEN nothing was verified on the request path
    assert single["email_status"] == "pending" and single["email_status_reason"] is None
    batch = api.post(f"/lists/{lid}/leads/batch", {"leads": [{"email": e} for e in rest]})
    ids = {first: single["id"]} | {
        e: r["lead_id"] for e, r in zip(rest, batch.json_body["results"], strict=True)}
    # WHEN the verify queue is delivered
    test_dns.log.reset()
    _verify_drain(pump)
    # THEN each lead has its verdict and reason
    got = {e: (lead["email_status"], lead["email_status_reason"])
           for e, lead in ((e, _lead(api, lid, i)) for e, i in ids.items())}
    assert got == CASES
    # one look-up per domain (broken-dns.com: its first try and one retry per attempt)
    domains = {e.split("@")[1] for e in CASES}
    assert test_dns.log.names() == domains
    twice = {name for name, _ in test_dns.log.asked_twice()}
    assert twice <= {"broken-dns.com"}
    # an invalid identity email made the (new) lead invalid; others stay new
    assert _lead(api, lid, ids["x@null-mx.com"])["status"] == "invalid"
    assert _lead(api, lid, ids["x@parked-a.com"])["status"] == "new"
    # and the filter finds them by verdict
    invalid = api.get(f"/lists/{lid}/leads?email_status=invalid&limit=50").json_body["items"]
    assert {lead["email"] for lead in invalid} == {e for e, v in CASES.items()
                                                   if v[0] == "invalid"}


def test_timeline_shows_the_verdict_and_the_status_it_changed(api: Api, pump: Any) -> None:
    lid = api.new_list()["id"]
    lead = api.post(f"/lists/{lid}/leads", {"email": "x@gone-away.com"}).json_body
    _verify_drain(pump)
    items = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    assert [a["type"] for a in items] == ["status_changed", "verified", "created"]
    assert items[0]["data"]["by"] == "verification"
    assert items[1]["data"]["reason"] == "domain_not_found"


def test_a_lead_on_a_phone_list_without_email_has_nothing_to_verify(api: Api, pump: Any) -> None:
    lid = api.new_list(identity="phone")["id"]
    lead = api.post(f"/lists/{lid}/leads", {"phone": "+1 415 555 0134"}).json_body
    assert lead["email_status"] == "none"
    # an invalid email on a non-email list marks the email, not the lead
    other = api.post(f"/lists/{lid}/leads", {"phone": "+1 415 555 0135",
                                             "email": "x@null-mx.com"}).json_body
    _verify_drain(pump)
    got = _lead(api, lid, other["id"])
    assert (got["email_status"], got["status"]) == ("invalid", "new")


def test_changing_the_email_verifies_again_and_a_racing_verdict_does_not_fail_the_edit(
        api: Api, pump: Any) -> None:
    lid = api.new_list()["id"]
    lead = api.post(f"/lists/{lid}/leads", {"email": "ada@acme-verify.com"}).json_body
    # WHEN the email changes before the first verdict is delivered
    edited = api.patch(f"/lists/{lid}/leads/{lead['id']}", {"email": "x@null-mx.com"})
    assert edited.status_code == 200 and edited.json_body["email_status"] == "pending"
    _verify_drain(pump)
    # THEN the stale request wrote nothing and the new address got its verdict
    got = _lead(api, lid, lead["id"])
    assert (got["email"], got["email_status"], got["email_status_reason"]) == \
        ("x@null-mx.com", "invalid", "null_mx")
    # AND an edit made after a verdict bumped the version still applies
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}",
                     {"company": "Null Inc"}).status_code == 200
    # email is this list's identity: it cannot be cleared
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}", {"email": None}).status_code == 400


def _forget_domains(domains: set[str]) -> None:
    from chalicelib.bootstrap import services

    services().verification._memory.clear()
    dynamodb = boto3.client("dynamodb", region_name=get_settings().region)
    for domain in domains:
        dynamodb.delete_item(TableName=get_settings().table_name,
                             Key={"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": "DNS"}})


def _take(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
             "body": m["Body"]} for m in messages]


def test_import_shows_the_breakdown_and_redelivery_counts_once(
        api: Api, pump: Any, test_dns: Any, monkeypatch: Any) -> None:
    from chalicelib.bootstrap import services
    from chalicelib.entrypoints.verify_handlers import on_verify_records

    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 4)
    # GIVEN a file over several chunks with each kind of address, and rows without email,
    # on a system that knows none of its domains yet (else the chunks would save the
    # leads of known domains with their verdicts: tests/integration/test_verdict_at_save.py)
    lid = api.new_list()["id"]
    emails = [*CASES, *(f"p{i}@acme-verify.com" for i in range(6))]
    _forget_domains({e.split("@")[1] for e in emails})
    body = "email,first_name\n" + "".join(f"{e},P{i}\n" for i, e in enumerate(emails))
    job = upload(api, lid, body.encode(), auto_start=True)
    # WHEN the import runs, but verification messages are held back
    for _ in range(20):
        handled = sum(pump._poll(source, 0) for source in pump._queues
                      if "verify" not in source.name)
        if handled == 0:
            break
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["status"] == "completed"
    assert done["verification"]["pending"] == len(emails)
    # THEN each verification message delivered twice is counted once
    records = []
    while batch := _take("verify"):
        records.extend(batch)
    kinds = [json.loads(r["body"])["type"] for r in records]
    # one per chunk, and the file's domains ahead of them (the splitter's look-up groups)
    assert kinds.count("leads") == 4 and kinds.count("domains") >= 1
    _forget_domains({e.split("@")[1] for e in emails})  # as on a fresh system
    test_dns.log.reset()
    assert on_verify_records(records) == {"batchItemFailures": []}
    assert on_verify_records(records) == {"batchItemFailures": []}
    _verify_drain(pump)  # the unknown retries
    final = api.get(f"/imports/{job['id']}").json_body["verification"]
    expected = {"pending": 0, "valid": 7, "risky": 4, "invalid": 4, "unknown": 1, "none": 0}
    assert final == expected
    # AND the second delivery asked DNS nothing more: each domain once
    assert test_dns.log.names() == {e.split("@")[1] for e in emails}
    assert {n for n, _ in test_dns.log.asked_twice()} <= {"broken-dns.com"}


def test_reverify_reuses_fresh_verdicts_and_records_a_changed_one(
        api: Api, pump: Any, test_dns: Any) -> None:
    lid = api.new_list()["id"]
    lead = api.post(f"/lists/{lid}/leads", {"email": "ada@turns-bad.com"}).json_body
    api.post(f"/lists/{lid}/leads", {"email": "bob@stays-good.com"})
    _verify_drain(pump)
    assert _lead(api, lid, lead["id"])["email_status"] == "valid"
    # WHEN the list is re-verified while the verdicts are fresh
    test_dns.log.reset()
    response = api.post(f"/lists/{lid}/verify")
    assert response.status_code == 202 and response.json_body["status"] == "queued"
    _verify_drain(pump)
    # THEN DNS is not asked again
    assert test_dns.log.total == 0
    # WHEN a domain's verdict has expired and the domain stopped taking mail
    dynamodb = boto3.client("dynamodb", region_name=get_settings().region)
    dynamodb.update_item(TableName=get_settings().table_name,
                         Key={"pk": {"S": "DOMAIN#turns-bad.com"}, "sk": {"S": "DNS"}},
                         UpdateExpression="SET fresh_until = :past",
                         ExpressionAttributeValues={":past": {"N": "1"}})
    from chalicelib.bootstrap import services

    services().verification._memory.clear()  # a cold worker: it reads the table
    DNS_ZONE["turns-bad.com"] = "null_mx"
    try:
        assert api.post(f"/lists/{lid}/verify", {"older_than_days": 0}).status_code == 202
        _verify_drain(pump)
    finally:
        del DNS_ZONE["turns-bad.com"]
    # THEN only that domain is asked again, and the change is in the timeline
    assert test_dns.log.names() == {"turns-bad.com"}
    got = _lead(api, lid, lead["id"])
    assert (got["email_status"], got["status"]) == ("invalid", "invalid")
    items = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    changed = [a for a in items if a["type"] == "verified" and "from" in a["data"]]
    assert [(a["data"]["from"], a["data"]["to"]) for a in changed] == [("valid", "invalid")]


def test_reverify_only_what_is_older_than_asked(api: Api, pump: Any, test_dns: Any) -> None:
    lid = api.new_list()["id"]
    api.post(f"/lists/{lid}/leads", {"email": "a@recent-check.com"})
    _verify_drain(pump)
    sqs_before = len(_take("verify"))
    assert sqs_before == 0
    assert api.post(f"/lists/{lid}/verify", {"older_than_days": 30}).status_code == 202
    pump.drain()
    # the only lead was checked moments ago: the walk queued no batch
    assert _take("verify") == []


@pytest.mark.parametrize("body", [{"older_than_days": -1}, {"older_than_days": "30"},
                                  {"older_than_days": True}, {"days": 3}])
def test_reverify_rejects_bad_input(api: Api, body: dict[str, Any]) -> None:
    lid = api.new_list()["id"]
    response = api.post(f"/lists/{lid}/verify", body)
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "validation_error"


def test_reverify_is_workspace_scoped(api: Api, other_api: Api) -> None:
    lid = api.new_list()["id"]
    assert other_api.post(f"/lists/{lid}/verify").status_code == 404


def test_a_batch_that_keeps_failing_ends_unknown_not_pending(api: Api, pump: Any) -> None:
    from chalicelib.entrypoints.verify_handlers import on_verify_dlq_records

    lid = api.new_list()["id"]
    lead = api.post(f"/lists/{lid}/leads", {"email": "ada@acme-verify.com"}).json_body
    [record] = _take("verify")  # as if every delivery had failed and SQS moved it to the DLQ
    assert on_verify_dlq_records([record]) == {"batchItemFailures": []}
    got = _lead(api, lid, lead["id"])
    assert (got["email_status"], got["email_status_reason"]) == ("unknown",
                                                                 "verification_failed")
    # the entry carries the lead as written (id, email, version, status, verdict, reason)
    assert json.loads(record["body"])["leads"] == [
        [lead["id"], "ada@acme-verify.com", 0, "new", "pending", None]]
    # a verdict already written is never overwritten by the DLQ
    from chalicelib.entrypoints.verify_handlers import on_verify_records

    other = api.post(f"/lists/{lid}/leads", {"email": "bob@acme-verify.com"}).json_body
    [record] = _take("verify")
    assert on_verify_records([record]) == {"batchItemFailures": []}
    assert on_verify_dlq_records([record]) == {"batchItemFailures": []}
    assert _lead(api, lid, other["id"])["email_status"] == "valid"


def test_a_lead_edited_before_its_batch_lands_still_gets_its_verdict(api: Api) -> None:
    from chalicelib.entrypoints.verify_handlers import on_verify_records

    # GIVEN three leads queued in one batch, one of them edited before delivery
    lid = api.new_list()["id"]
    rows = api.post(f"/lists/{lid}/leads/batch", {"leads": [
        {"email": f"p{i}@acme-verify.com"} for i in range(3)]}).json_body["results"]
    ids = [r["lead_id"] for r in rows]
    [record] = _take("verify")
    assert api.patch(f"/lists/{lid}/leads/{ids[1]}", {"company": "Edited"}).status_code == 200
    # WHEN the batch is delivered (its transaction is cancelled by the edited lead)
    assert on_verify_records([record]) == {"batchItemFailures": []}
    # THEN every lead has its verdict, and the edit is kept
    got = [_lead(api, lid, i) for i in ids]
    assert [g["email_status"] for g in got] == ["valid"] * 3
    assert got[1]["company"] == "Edited"


def test_claims_in_one_transaction_skip_what_others_hold(api: Api) -> None:
    from chalicelib.adapters.dynamo_verification import DynamoVerification
    from chalicelib.domain.deliverability import DomainVerdict

    # GIVEN one domain leased by another worker and one with a fresh verdict
    store = DynamoVerification()
    now = int(time.time())
    assert store.claim("held.claims.io", now, 60)
    store.put_many([DomainVerdict("fresh.claims.io", "valid", "mx_found", now, now + 3600)])
    names = ["a.claims.io", "held.claims.io", "b.claims.io", "fresh.claims.io", "c.claims.io"]
    # WHEN a worker claims all five at once
    claimed = store.claim_many(names, now, 60)
    # THEN it gets exactly the three nobody holds, and nobody can claim them again
    assert claimed == ["a.claims.io", "b.claims.io", "c.claims.io"]
    assert store.claim_many(names, now, 60) == []
    # AND a lease that expired can be taken over
    assert store.claim_many(["held.claims.io"], now + 61, 60) == ["held.claims.io"]
    assert set(store.get_many(names)) == {"fresh.claims.io"}

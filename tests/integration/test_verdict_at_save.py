"""Import leads saved with their email verdict when their domain's verdict is known.

Real moto (module-scoped table) and the session's loopback DNS server
(tests/conftest.py): every name has an MX unless DNS_ZONE says otherwise.
Verify messages are held back where a test must see what the chunk alone wrote.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from tests.integration.conftest import Api
from tests.integration.test_imports import upload


def _services() -> Any:
    from chalicelib.bootstrap import services

    return services()


def _take(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=get_settings().region)
    url = sqs.get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
    taken: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []):
        taken.extend({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                      "body": m["Body"]} for m in messages)
    return taken


def _run_without_verification(pump: Any) -> None:
    """Deliver every queue but the verify queue until nothing moves."""
    for _ in range(30):
        if sum(pump._poll(source, 0) for source in pump._queues
               if "verify" not in source.name) == 0:
            return


def _warm(*domains: str) -> None:
    """Domains verified before the import (another import or lead did it): real DNS."""
    _services().verification.domain_verdicts(set(domains))


def _forget_memory() -> None:
    verification = _services().verification
    with verification._memory_lock:
        verification._memory.clear()


def _leads(api: Api, lid: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(f"/lists/{lid}/leads?limit=100"
                       + (f"&cursor={cursor}" if cursor else "")).json_body
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def _assert_exact(api: Api, lid: str) -> Counter[str]:
    """Stats (shard tallies) and the email-status index agree with the leads themselves."""
    leads = _leads(api, lid)
    by_email = Counter(lead["email_status"] for lead in leads)
    by_status = Counter(lead["status"] for lead in leads)
    stats = api.get(f"/lists/{lid}/stats").json_body
    assert stats["leads"] == len(leads)
    assert {k: v for k, v in stats["by_email_status"].items() if v} == dict(by_email)
    assert {k: v for k, v in stats["by_status"].items() if v} == dict(by_status)
    for status, n in by_email.items():  # the ix_email GSI the filter reads
        page = api.get(f"/lists/{lid}/leads?email_status={status}&count=true").json_body
        assert page["count"] == n, status
    return by_email


def _verify_entries(records: list[dict[str, Any]]) -> list[str]:
    return sorted(entry[1] for r in records if (body := json.loads(r["body"]))["type"] == "leads"
                  for entry in body["leads"])


KNOWN = ["ada@acme-verify.com", "bob@acme-verify.com", "sales@acme-verify.com",
         "x@mailinator.com", "x@parked-a.com"]


def test_leads_of_known_domains_are_saved_verified_and_counted_once(
        api: Api, pump: Any, test_dns: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_services().import_splitter, "_chunk_rows", 3)
    # GIVEN verdicts already known for most of the file's domains (valid, disposable,
    # A fallback; an invalid one and a failed look-up too), and one domain nobody asked
    _warm("acme-verify.com", "mailinator.com", "parked-a.com", "null-mx.com", "broken-dns.com")
    test_dns.log.reset()
    lid = api.new_list()["id"]
    emails = [*KNOWN, "x@null-mx.com", "x@broken-dns.com", "ann@first-seen.com"]
    body = "email,first_name\n" + "".join(f"{e},P{i}\n" for i, e in enumerate(emails))
    job = upload(api, lid, body.encode(), auto_start=True)
    # WHEN the import runs, verify messages held back
    _run_without_verification(pump)
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["status"] == "completed" and done["counts"]["saved"] == 8
    # THEN the known verdicts were written with the leads and counted with the chunks
    assert done["verification"] == {"pending": 3, "valid": 2, "risky": 3, "invalid": 0,
                                     "unknown": 0, "none": 0}
    leads = {lead["email"]: lead for lead in _leads(api, lid)}
    got = {e: (leads[e]["email_status"], leads[e]["email_status_reason"]) for e in KNOWN}
    assert got == {"ada@acme-verify.com": ("valid", "mx_found"),
                   "bob@acme-verify.com": ("valid", "mx_found"),
                   "sales@acme-verify.com": ("risky", "role_address"),
                   "x@mailinator.com": ("risky", "disposable_domain"),
                   "x@parked-a.com": ("risky", "no_mx_a_fallback")}
    assert all(leads[e]["email_checked_at"] for e in KNOWN)
    assert _assert_exact(api, lid) == Counter({"valid": 2, "risky": 3, "pending": 3})
    # AND only the others went to the verifier: no fresh verdict (first-seen), a
    # failed look-up (retried later), an invalid identity (it changes the lead's status)
    records = _take("verify")
    assert _verify_entries(records) == sorted(["ann@first-seen.com", "x@broken-dns.com",
                                               "x@null-mx.com"])
    # WHEN they are verified in the background
    from chalicelib.entrypoints.verify_handlers import on_verify_records

    assert on_verify_records(records) == {"batchItemFailures": []}
    pump.drain()
    # THEN everything adds up, and DNS was asked only about what nobody knew
    final = api.get(f"/imports/{job['id']}").json_body["verification"]
    assert final == {"pending": 0, "valid": 3, "risky": 3, "invalid": 1, "unknown": 1,
                     "none": 0}
    assert _assert_exact(api, lid) == Counter({"valid": 3, "risky": 3, "invalid": 1,
                                               "unknown": 1})
    assert test_dns.log.names() <= {"first-seen.com", "broken-dns.com"}
    lead = {lead["email"]: lead for lead in _leads(api, lid)}["x@null-mx.com"]
    assert lead["status"] == "invalid"
    entries = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    assert any(a["type"] == "status_changed" for a in entries)


def test_a_chunk_delivered_twice_or_failing_between_its_writes_counts_once(
        api: Api, pump: Any, test_dns: Any) -> None:
    from chalicelib.entrypoints import import_handlers as handlers

    _warm("acme-verify.com")
    lid = api.new_list()["id"]
    rows = ["p0@acme-verify.com", "p1@acme-verify.com", "info@acme-verify.com",
            "late@turns-known.com"]
    job = upload(api, lid, ("email\n" + "\n".join(rows) + "\n").encode(), auto_start=True)
    handlers.on_upload_records(_take("uploads"))
    handlers.on_split_records(_take("splits"))
    chunks = _take("chunks")
    assert len(chunks) == 1
    _take("verify")  # the splitter's domain look-ups: held back
    # WHEN the first delivery stops after writing its leads (the verify queue is gone)
    sqs = boto3.client("sqs", region_name=get_settings().region)
    name = get_settings().queue_name("verify")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=url)
    try:
        failed = handlers.on_chunk_records(chunks)
    finally:
        kept = {k: v for k, v in attributes.items()
                if k in ("VisibilityTimeout", "RedrivePolicy", "MessageRetentionPeriod")}
        assert sqs.create_queue(QueueName=name, Attributes=kept)["QueueUrl"] == url
    assert failed["batchItemFailures"]
    assert len(_leads(api, lid)) == 4
    # AND the last domain's verdict becomes known before the redelivery
    _warm("turns-known.com")
    # WHEN the chunk is delivered again, twice
    assert handlers.on_chunk_records(chunks) == {"batchItemFailures": []}
    assert handlers.on_chunk_records(chunks) == {"batchItemFailures": []}
    # THEN it decided as the first delivery did: that lead is still verified in the
    # background, and every count is exact
    records = _take("verify")
    assert _verify_entries(records) == ["late@turns-known.com"]
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["counts"]["saved"] == 4
    assert done["verification"] == {"pending": 1, "valid": 2, "risky": 1, "invalid": 0,
                                    "unknown": 0, "none": 0}
    assert _assert_exact(api, lid) == Counter({"valid": 2, "risky": 1, "pending": 1})
    from chalicelib.entrypoints.verify_handlers import on_verify_records

    assert on_verify_records(records + records) == {"batchItemFailures": []}
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["status"] == "completed"
    assert done["verification"] == {"pending": 0, "valid": 3, "risky": 1, "invalid": 0,
                                    "unknown": 0, "none": 0}
    assert _assert_exact(api, lid) == Counter({"valid": 3, "risky": 1})
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 4


def test_a_verdict_past_its_freshness_is_not_used(api: Api, pump: Any, test_dns: Any) -> None:
    # GIVEN a domain whose cached verdict has expired (still in the table: TTL lags)
    _warm("went-stale.com")
    dynamodb = boto3.client("dynamodb", region_name=get_settings().region)
    dynamodb.update_item(TableName=get_settings().table_name,
                         Key={"pk": {"S": "DOMAIN#went-stale.com"}, "sk": {"S": "DNS"}},
                         UpdateExpression="SET fresh_until = :past",
                         ExpressionAttributeValues={":past": {"N": "1"}})
    _forget_memory()  # a cold worker: it reads the table
    test_dns.log.reset()
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email\nann@went-stale.com\n", auto_start=True)
    # WHEN the import runs
    _run_without_verification(pump)
    # THEN the lead waits for a fresh look-up instead of taking the stale verdict
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["verification"]["pending"] == 1
    assert _leads(api, lid)[0]["email_status"] == "pending"
    pump.drain()
    assert api.get(f"/imports/{job['id']}").json_body["verification"]["valid"] == 1
    assert test_dns.log.names() == {"went-stale.com"}
    assert _assert_exact(api, lid) == Counter({"valid": 1})


def test_an_updated_lead_takes_its_new_emails_known_verdict_in_the_same_write(
        api: Api, pump: Any, test_dns: Any) -> None:
    from tests.integration.test_import_modes import run_import

    # GIVEN a phone list with a lead, and its new address's domain already verified
    lid = api.new_list(identity="phone")["id"]
    run_import(api, pump, lid, "phone,email\n+1 415 555 0134,old@example.com\n"
                               "+1 415 555 0135,\n", None)
    pump.drain()
    _warm("acme-verify.com")
    # WHEN an overwrite import changes its email, and a new lead comes without one
    changed = ("phone,email\n(415) 555-0134,new@acme-verify.com\n"
               "+1 415 555 0136,\n")
    done = run_import(api, pump, lid, changed, "overwrite")
    assert done["counts"]["updated"] == 1 and done["counts"]["saved"] == 1
    # THEN the updated lead carries its verdict with no verify message for it
    assert _take("verify") == []
    leads = {lead["phone"]: lead for lead in _leads(api, lid)}
    assert (leads["+14155550134"]["email"], leads["+14155550134"]["email_status"]) == (
        "new@acme-verify.com", "valid")
    assert done["verification"]["none"] == 1 and done["verification"]["pending"] == 0
    assert _assert_exact(api, lid) == Counter({"valid": 1, "none": 2})

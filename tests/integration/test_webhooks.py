"""Webhooks out (docs/webhooks.md): endpoints through the API, deliveries to real
receivers on loopback, retries driven by an injected clock (never sleeps)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from chalicelib.bootstrap import services
from chalicelib.config import get_settings
from chalicelib.domain.webhooks import DISABLED_FAILING
from chalicelib.services.webhook_delivery import WebhookDelivery
from chalicelib.services.webhook_outbox import WebhookOutbox
from tests.integration.conftest import Api
from tools.webhook_receiver import Behaviour, WebhookReceiver

START = 1_800_000_000.0


def verify_signature(secret: str, header: str, body: bytes, *, now: float,
                     tolerance: int = 300) -> bool:
    """The receiver's check, as docs/webhooks.md gives it (with `now` passed in)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingQueue:
    """The webhooks queue as the worker sees it: what it would send, with delays."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send_batch(self, bodies: Sequence[Mapping[str, Any]]) -> None:
        self.sent.extend((dict(b), 0) for b in bodies)

    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self.sent.append((dict(job), delay_seconds))

    def take(self) -> list[tuple[dict[str, Any], int]]:
        taken, self.sent = self.sent, []
        return taken


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Host names this test resolves (the socket layer only): name → address."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def _worker(clock: Clock, queue: RecordingQueue, timeout: float = 2.0) -> WebhookDelivery:
    """The delivery worker on the test's AWS, with the test's clock and queue."""
    from chalicelib.adapters.webhook_wiring import webhook_adapters

    hooks = webhook_adapters(get_settings())
    return WebhookDelivery(hooks.store, _box(), hooks.sender, queue,
                           timeout_seconds=timeout, clock=clock)


def _box() -> Any:
    from chalicelib.adapters.kms_secrets import KmsSecrets

    settings = get_settings()
    return KmsSecrets(settings.kms_key_id, settings.region)


def _emit(workspace: str, event_type: str = "lead.created",
          data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One delivery message for the workspace's subscribed endpoint."""
    queue = RecordingQueue()
    from chalicelib.adapters.webhook_wiring import webhook_adapters

    WebhookOutbox(webhook_adapters(get_settings()).store, queue).emit(
        workspace, event_type, data or {"lead": {"id": "ld_x"}})
    ((message, delay),) = queue.take()
    assert delay == 0
    return message


def _hook(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = api.post("/webhooks", {"url": url, "events": events or ["lead.created"]})
    assert response.status_code == 201, response.json_body
    return response.json_body  # type: ignore[no-any-return]


def _workspace(api: Api) -> str:
    return services().auth.authenticate(f"Bearer {api.token}")


def _deliveries(api: Api, hook_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/webhooks/{hook_id}/deliveries")
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]  # type: ignore[no-any-return]


# --- endpoints ---------------------------------------------------------------------
def test_endpoint_lifecycle_secret_once_and_isolation(
        api: Api, other_api: Api, receiver: WebhookReceiver,
        caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a new endpoint
    caplog.set_level(logging.DEBUG)
    created = _hook(api, receiver.url + "/hook", ["lead.created", "lead.deleted"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["enabled"] is True
    hook_id = created["id"]
    # THEN the secret is never shown again, nor logged
    listed = api.get("/webhooks").json_body["items"]
    assert [h["id"] for h in listed] == [hook_id]
    got = api.get(f"/webhooks/{hook_id}")
    assert got.status_code == 200
    assert "secret" not in got.json_body and all("secret" not in h for h in listed)
    # AND another workspace sees nothing of it
    for method, path in (("GET", f"/webhooks/{hook_id}"), ("DELETE", f"/webhooks/{hook_id}"),
                         ("GET", f"/webhooks/{hook_id}/deliveries"),
                         ("POST", f"/webhooks/{hook_id}/deliveries/dl_x/redeliver")):
        assert other_api.call(method, path).status_code == 404, (method, path)
    assert other_api.patch(f"/webhooks/{hook_id}", {"enabled": False}).status_code == 404
    assert other_api.get("/webhooks").json_body["items"] == []
    # WHEN it is edited, disabled and enabled again
    patched = api.patch(f"/webhooks/{hook_id}", {"events": ["lead.updated"], "enabled": False})
    assert patched.status_code == 200, patched.json_body
    assert patched.json_body["events"] == ["lead.updated"]
    assert patched.json_body["disabled_reason"] == "disabled_by_user"
    enabled = api.patch(f"/webhooks/{hook_id}", {"enabled": True}).json_body
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    # AND deleted
    assert api.delete(f"/webhooks/{hook_id}").status_code == 204
    assert api.get(f"/webhooks/{hook_id}").status_code == 404
    assert secret not in caplog.text
    assert "secret" not in json.dumps(api.get("/webhooks").json_body)


@pytest.mark.parametrize(("body", "code"), [
    ({"url": "https://hooks.example.com/x", "events": ["lead.exploded"]}, "validation_error"),
    ({"url": "https://hooks.example.com/x", "events": []}, "validation_error"),
    ({"url": "https://hooks.example.com/x"}, "validation_error"),
    ({"url": "ftp://hooks.example.com/x", "events": ["lead.created"]}, "invalid_url"),
    ({"url": "http://hooks.example.com/x", "events": ["lead.created"]}, "insecure_url"),
    ({"url": "https://10.1.2.3/x", "events": ["lead.created"]}, "forbidden_address"),
    ({"url": "https://169.254.169.254/latest/meta-data", "events": ["lead.created"]},
     "forbidden_address"),
    ({"url": "https://[fd00:ec2::254]/", "events": ["lead.created"]}, "forbidden_address"),
    ({"url": "https://internal.hooks.test/x", "events": ["lead.created"]},
     "forbidden_address"),
    ({"url": "https://metadata.hooks.test/x", "events": ["lead.created"]},
     "forbidden_address"),
    ({"url": "https://nowhere.hooks.test/x", "events": ["lead.created"]}, "unresolvable_host"),
    ({"url": 5, "events": ["lead.created"]}, "invalid_url"),
    ({"url": "https://hooks.example.com/x", "events": ["lead.created"], "secret": "x"},
     "validation_error"),
])
def test_bad_endpoints_are_refused_with_a_stable_code(
        api: Api, fake_dns: dict[str, str], body: dict[str, Any], code: str) -> None:
    fake_dns.update({"internal.hooks.test": "10.0.0.7",
                     "metadata.hooks.test": "169.254.169.254"})
    response = api.post("/webhooks", body)
    assert response.status_code == 400, response.json_body
    assert response.json_body["error"]["code"] == code


def test_loopback_is_refused_outside_the_local_stages(fake_dns: dict[str, str]) -> None:
    from chalicelib.adapters.webhook_http import SocketResolver, check_destination
    from chalicelib.domain.errors import BadRequest

    fake_dns["loop.hooks.test"] = "127.0.0.1"
    for url in ("https://127.0.0.1/x", "https://loop.hooks.test/x", "http://localhost:8080/"):
        with pytest.raises(BadRequest) as refused:
            check_destination(url, SocketResolver(), allow_loopback=False)
        assert refused.value.code == "forbidden_address", url
    check_destination("https://loop.hooks.test/x", SocketResolver(), allow_loopback=True)


# --- deliveries through the queue and the app's handler -------------------------------
def test_a_created_lead_is_delivered_signed_through_the_queue(
        api: Api, pump: Any, receiver: WebhookReceiver) -> None:
    hook = _hook(api, receiver.url + "/in", ["lead.created"])
    lst = api.new_list()
    lead = api.post(f"/lists/{lst['id']}/leads", {"email": "ada@example.com"}).json_body
    pump.drain()
    (got,) = receiver.received
    assert got.path == "/in"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "leadpipe-webhooks/1"
    assert verify_signature(hook["secret"], got.headers["Leadpipe-Signature"], got.body,
                            now=time.time())
    event = json.loads(got.body)
    assert event["type"] == "lead.created" and event["id"].startswith("evt_")
    assert event["data"]["lead"]["id"] == lead["id"]
    assert event["data"]["list_id"] == lst["id"]
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"],
            delivery["event_id"]) == ("succeeded", 1, 200, event["id"])
    # AND a redelivery sends the same event again
    again = api.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202, again.json_body
    pump.drain()
    assert [json.loads(r.body)["id"] for r in receiver.received] == [event["id"]] * 2
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)


def test_the_same_message_twice_records_one_success(
        api: Api, app: Any, receiver: WebhookReceiver) -> None:
    hook = _hook(api, receiver.url, ["lead.updated"])
    message = _emit(_workspace(api), "lead.updated")
    records = [{"messageId": f"m{i}", "body": json.dumps(message), "receiptHandle": ""}
               for i in range(2)]
    from chalicelib.entrypoints.webhook_handlers import on_webhook_records

    # WHEN SQS delivers the same message twice, in one batch and once more after
    assert on_webhook_records(records)["batchItemFailures"] == []
    assert on_webhook_records(records[:1])["batchItemFailures"] == []
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 1)
    # Concurrent duplicates may both POST (receivers dedupe by event id); one is recorded.
    assert 1 <= len(receiver.received) <= 2
    assert {json.loads(r.body)["id"] for r in receiver.received} == {message["event"]["id"]}


# --- retries, timeouts, redirects, DNS, disabling: the worker with a fake clock ----------
def _run(worker: WebhookDelivery, clock: Clock, queue: RecordingQueue,
         message: dict[str, Any], *, max_steps: int = 500) -> int:
    """Handle the message and every message it leads to, each after its SQS delay
    (the clock jumps by it, as SQS would make it visible); returns the steps."""
    pending: list[tuple[dict[str, Any], int]] = [(message, 0)]
    steps = 0
    while pending and steps < max_steps:
        body, delay = pending.pop(0)
        assert 0 <= delay <= 900
        clock.now += delay
        worker.handle(body)
        steps += 1
        pending.extend(queue.take())
    return steps


def test_a_receiver_failing_twice_gets_it_the_third_time_signed(
        api: Api, receiver: WebhookReceiver) -> None:
    receiver.behaviour = Behaviour(fail_first=2)
    hook = _hook(api, receiver.url, ["lead.created"])
    clock, queue = Clock(), RecordingQueue()
    worker = _worker(clock, queue)
    message = _emit(_workspace(api))
    # WHEN the first attempt fails
    worker.handle(message)
    ((retry, delay),) = queue.take()
    assert (retry["attempt"], delay, retry["not_before"]) == (2, 30, START + 30)
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "retrying", 1, 500)
    assert delivery["next_attempt_at"] is not None
    # AND the second (2 minutes later)
    clock.now = retry["not_before"]
    worker.handle(retry)
    ((third, delay),) = queue.take()
    assert (third["attempt"], delay) == (3, 120)
    clock.now = third["not_before"]
    worker.handle(third)
    # THEN the third succeeds, signed with the endpoint's secret at its own time
    assert queue.take() == []
    assert len(receiver.received) == 3
    last = receiver.received[-1]
    assert verify_signature(hook["secret"], last.headers["Leadpipe-Signature"], last.body,
                            now=clock.now)
    assert not verify_signature("whsec_other", last.headers["Leadpipe-Signature"], last.body,
                                now=clock.now)
    assert json.loads(last.body)["id"] == message["event"]["id"]
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "succeeded", 3, 200)
    # A late duplicate of an earlier attempt changes nothing
    worker.handle(retry)
    assert len(receiver.received) == 3 and queue.take() == []


def test_a_hanging_receiver_times_out_and_is_retried(
        api: Api, receiver: WebhookReceiver) -> None:
    receiver.behaviour = Behaviour(hang_first=1, hang_seconds=2.0)
    hook = _hook(api, receiver.url, ["lead.created"])
    clock, queue = Clock(), RecordingQueue()
    worker = _worker(clock, queue, timeout=0.5)
    started = time.monotonic()
    worker.handle(_emit(_workspace(api)))
    assert time.monotonic() - started < 1.8
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["last_error"]) == ("retrying", "timeout")
    ((retry, _),) = queue.take()
    clock.now = retry["not_before"]
    worker.handle(retry)
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)


def test_a_redirect_is_a_failure_and_is_not_followed(api: Api) -> None:
    target = WebhookReceiver()
    target.start()
    redirecting = WebhookReceiver(Behaviour(redirect_to=target.url + "/elsewhere"))
    redirecting.start()
    try:
        hook = _hook(api, redirecting.url, ["lead.created"])
        clock, queue = Clock(), RecordingQueue()
        _worker(clock, queue).handle(_emit(_workspace(api)))
        (delivery,) = _deliveries(api, hook["id"])
        assert (delivery["status"], delivery["last_status_code"], delivery["last_error"]) == (
            "retrying", 302, "redirect_not_followed")
        assert len(redirecting.received) == 1 and target.received == []
    finally:
        redirecting.stop()
        target.stop()


def test_an_address_that_changed_to_metadata_is_refused_at_delivery(
        api: Api, fake_dns: dict[str, str]) -> None:
    # GIVEN an endpoint whose name resolved to an allowed (loopback, test stage) address
    fake_dns["rebinding.hooks.test"] = "127.0.0.1"
    hook = _hook(api, "https://rebinding.hooks.test/in", ["lead.created"])
    # WHEN its DNS now answers the metadata service
    fake_dns["rebinding.hooks.test"] = "169.254.169.254"
    clock, queue = Clock(), RecordingQueue()
    _worker(clock, queue).handle(_emit(_workspace(api)))
    # THEN nothing is sent there; the attempt failed with the stable code
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["last_status_code"], delivery["last_error"]) == (
        "retrying", None, "forbidden_address")


def test_a_day_of_failures_fails_the_delivery_and_disables_the_endpoint(
        api: Api, receiver: WebhookReceiver, pump: Any) -> None:
    receiver.behaviour = Behaviour(fail_always=True)
    hook = _hook(api, receiver.url, ["lead.created"])
    clock, queue = Clock(), RecordingQueue()
    worker = _worker(clock, queue)
    steps = _run(worker, clock, queue, _emit(_workspace(api)))
    # 30 s, 2, 10, 30 min, 1, 2, 4 h, 4 h ... until 24 h after the first attempt;
    # waits over 15 minutes are hops of at most 900 s that send nothing.
    attempts = len(receiver.received)
    assert 8 <= attempts <= 14, attempts
    assert steps > attempts
    assert clock.now - START == 24 * 3600
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == (
        "failed", attempts, None)
    endpoint = api.get(f"/webhooks/{hook['id']}").json_body
    assert (endpoint["enabled"], endpoint["disabled_reason"]) == (False, DISABLED_FAILING)
    # AND a new event for a disabled endpoint is not sent at all
    queue_of_outbox = RecordingQueue()
    from chalicelib.adapters.webhook_wiring import webhook_adapters

    WebhookOutbox(webhook_adapters(get_settings()).store, queue_of_outbox).emit(
        _workspace(api), "lead.created", {})
    assert queue_of_outbox.sent == []
    # AND re-enabling clears the reason; a redelivery then succeeds
    receiver.behaviour = Behaviour()
    assert api.patch(f"/webhooks/{hook['id']}", {"enabled": True}).json_body[
        "disabled_reason"] is None
    again = api.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202
    pump.drain()
    (delivery,) = _deliveries(api, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", attempts + 1)


# --- what is announced ---------------------------------------------------------------
ALL_EVENTS = ["lead.created", "lead.updated", "lead.status_changed", "lead.verified",
              "lead.deleted", "import.completed", "sync.completed", "follow_up.due"]


def _received_types(receiver: WebhookReceiver) -> list[tuple[str, dict[str, Any]]]:
    events = [json.loads(r.body) for r in receiver.received]
    return [(e["type"], e["data"]) for e in sorted(events, key=lambda e: e["id"])]


def test_lead_changes_events_and_imports_are_announced(
        api: Api, other_api: Api, pump: Any, receiver: WebhookReceiver) -> None:
    from tests.integration.test_import_modes import run_import

    _hook(api, receiver.url, ALL_EVENTS)
    _hook(other_api, receiver.url + "/other", ALL_EVENTS)
    lst = api.new_list()
    lid = lst["id"]
    # single lead: create (then its verdict), edit with a status, delete
    lead = api.post(f"/lists/{lid}/leads", {"email": "grace@example.com"}).json_body
    pump.drain()
    assert api.patch(f"/lists/{lid}/leads/{lead['id']}",
                     {"status": "contacted", "job_title": "CTO"}).status_code == 200
    # events in: a reply moves the status
    posted = api.post("/events", {"events": [{
        "id": "evt-wh-1", "type": "replied", "occurred_at": "2026-11-26T09:00:00+00:00",
        "lead": {"id": lead["id"], "list_id": lid}}]})
    assert posted.json_body["results"][0]["result"] == "accepted", posted.json_body
    # bulk: two more leads, a status for both, then deleted in bulk
    batch = api.post(f"/lists/{lid}/leads/batch", {"leads": [
        {"email": "b1@example.com"}, {"email": "b2@example.com"}]}).json_body
    ids = [r["lead_id"] for r in batch["results"]]
    bulk = api.post(f"/lists/{lid}/leads/bulk", {"lead_ids": ids, "action": "set_status",
                                                 "status": "qualified"})
    assert bulk.status_code == 200, bulk.json_body
    assert api.delete(f"/lists/{lid}/leads/{lead['id']}").status_code == 204
    # an import: one import.completed, no per-lead events
    pump.drain()
    before_import = len(receiver.received)
    imported = run_import(api, pump, lid, "email\nimp1@example.com\nimp2@example.com\n", None)
    pump.drain()
    got = _received_types(receiver)
    types = [t for t, _ in got]
    assert all(r.path == "/" for r in receiver.received), "the other workspace heard nothing"
    assert types.count("lead.created") == 3
    assert types.count("lead.deleted") == 1
    assert types.count("import.completed") == 1
    (completed,) = [d for t, d in got if t == "import.completed"]
    assert completed["import_id"] == imported["id"] and completed["list_id"] == lid
    moves = sorted((d["lead_id"], d["previous_status"], d["status"], d["cause"])
                   for t, d in got if t == "lead.status_changed")
    assert moves == sorted([(lead["id"], "new", "contacted", "api"),
                            (lead["id"], "contacted", "replied", "event"),
                            (ids[0], "new", "qualified", "bulk"),
                            (ids[1], "new", "qualified", "bulk")])
    verified = {d["lead_id"]: d["email_status"] for t, d in got if t == "lead.verified"}
    assert set(verified) >= {lead["id"], *ids}
    assert all(d["email"].startswith(("grace", "b1", "b2")) for t, d in got
               if t == "lead.verified"), "an import's verdicts are not announced"
    assert len(receiver.received) - before_import == 1  # import.completed only
    updated = [d for t, d in got if t == "lead.updated" and d["lead"]["id"] == lead["id"]]
    assert updated and "job_title" in updated[0]["changed"]


def test_a_workspace_without_webhooks_sends_nothing(api: Api) -> None:
    queue = RecordingQueue()
    from chalicelib.adapters.webhook_wiring import webhook_adapters

    outbox = WebhookOutbox(webhook_adapters(get_settings()).store, queue)
    outbox.emit(_workspace(api), "lead.created", {"lead": {}})
    with outbox.collecting():
        for _ in range(5):
            outbox.emit(_workspace(api), "lead.updated", {"lead": {}})
    assert queue.sent == []


def test_an_emit_that_fails_never_fails_the_caller(api: Api, receiver: WebhookReceiver,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    _hook(api, receiver.url, ["lead.created"])

    class BrokenQueue(RecordingQueue):
        def send_batch(self, bodies: Sequence[Mapping[str, Any]]) -> None:
            raise RuntimeError("SQS is down")

    from chalicelib.adapters.webhook_wiring import webhook_adapters

    outbox = WebhookOutbox(webhook_adapters(get_settings()).store, BrokenQueue())
    outbox.emit(_workspace(api), "lead.created", {"lead": {}})
    with outbox.collecting():
        outbox.emit(_workspace(api), "lead.created", {"lead": {}})
    assert "not queued" in caplog.text

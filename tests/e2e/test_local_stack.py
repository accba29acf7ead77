"""End to end: the real local stack (`python -m tools.localstack`) as subprocesses, over HTTP.

This is the issue's "done when" walk-through, automated: create a list, add a
lead, 409 on the same email in another case and spacing, search, bulk-tag,
export, a second workspace's token gets 404; then schemathesis against the
OpenAPI file finds no 5xx; then SIGTERM stops every process the stack started.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "lp_e2e_" + "x" * 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


class Stack:
    def __init__(self, log_name: str = "e2e-stack.log",
                 extra_env: dict[str, str] | None = None) -> None:
        self.api_port = _free_port()
        self.aws_port = _free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.dns_port = _free_port()
        # As `make run`: the stack's own DNS server and verification settings,
        # not the test session's.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "LEADPIPE_DNS_", "LEADPIPE_VERIFY_"))}
        env.update(LEADPIPE_PORT=str(self.api_port), LEADPIPE_AWS_PORT=str(self.aws_port),
                   LEADPIPE_DNS_PORT=str(self.dns_port), LEADPIPE_TOKEN=TOKEN,
                   LEADPIPE_STAGE="local",
                   # The sandboxes (HubSpot, Salesforce, Google) on ports of their own
                   LEADPIPE_HUBSPOT_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SALESFORCE_SANDBOX_PORT=str(_free_port()),
                   LEADPIPE_SHEETS_SANDBOX_PORT=str(_free_port()))
        # Its own DNS statistics: the browser tests' stack may still be running
        self.dns_stats = ROOT / ".local" / f"dns-stats-{Path(log_name).stem}.json"
        env["LEADPIPE_DNS_STATS"] = str(self.dns_stats)
        env.update(extra_env or {})
        self.env = env
        # One log a test module: modules run one after another, each keeps its own.
        self.log = open(ROOT / ".local" / log_name, "w")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.localstack"], cwd=ROOT,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "local stack exited during startup"
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError("local stack did not become ready")

    def headers(self, token: str = TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def started_stack(log_name: str = "e2e-stack.log",
                  extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The real local stack, as `make run` starts it, stopped by SIGTERM afterwards."""
    (ROOT / ".local").mkdir(exist_ok=True)  # a fresh clone has none yet
    running = Stack(log_name, extra_env)
    try:
        running.wait_ready()
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.send_signal(signal.SIGTERM)
            running.proc.wait(timeout=20)
        running.log.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with started_stack() as running:
        yield running


def test_demo_import_is_verified_with_one_dns_lookup_per_domain(stack: Stack):
    # GIVEN the demo import of the bundled file, and the stack's own DNS server
    from chalicelib.domain.deliverability import lookup_domain

    job: dict = {}
    # WHEN the demo import (it starts with the stack) and its verification have run
    for _ in range(240):
        lists = requests.get(f"{stack.url}/lists", headers=stack.headers()).json()["items"]
        demo = [lst for lst in lists if lst["name"] == "Demo leads"]
        imports = requests.get(f"{stack.url}/lists/{demo[0]['id']}/imports",
                               headers=stack.headers()).json()["items"] if demo else []
        job = imports[0] if imports else {}
        if job.get("status") == "completed" and job["verification"]["pending"] == 0:
            break
        time.sleep(0.5)
    # THEN every saved lead has a verdict, and they add up
    verification = job["verification"]
    assert verification["pending"] == 0
    assert sum(verification.values()) == job["counts"]["saved"]
    assert verification["valid"] > 0 and verification["invalid"] + verification["risky"] > 0, \
        verification
    # AND DNS was asked about each distinct domain of the file once (by name and type)
    with (ROOT / "samples" / "demo-leads.csv").open(encoding="cp1252", newline="") as handle:
        domains = {d for row in csv.DictReader(handle, delimiter=";")
                   if (d := lookup_domain(row["E-mail"] or ""))}
    stats = json.loads(stack.dns_stats.read_text())
    assert stats["names"] == len(domains) and stats["asked_twice"] == 0


def test_done_when_walkthrough(stack: Stack):
    h = stack.headers()
    # create a list
    lst = requests.post(f"{stack.url}/lists", json={"name": "Q1 Prospects"}, headers=h)
    assert lst.status_code == 201, lst.text
    list_id = lst.json()["id"]
    # add a lead
    lead = requests.post(f"{stack.url}/lists/{list_id}/leads", headers=h, json={
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
        "company": "Analytical Engines", "phone": "(415) 555-0134"})
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["id"]
    # 409 with the existing id, for the same email in another case and spacing
    again = requests.post(f"{stack.url}/lists/{list_id}/leads", headers=h,
                          json={"email": "  ADA@Example.com "})
    assert again.status_code == 409
    assert again.json()["error"]["details"]["lead_id"] == lead_id
    # search it
    found = requests.get(f"{stack.url}/lists/{list_id}/leads", params={"q": "lovelace"},
                         headers=h).json()
    assert [x["id"] for x in found["items"]] == [lead_id]
    # search as you type, by a phone written another way, with a count
    for q in ("lov", "analyt", "415 555 01", "ada@ex"):
        typed = requests.get(f"{stack.url}/lists/{list_id}/leads",
                             params={"q": q, "count": "true"}, headers=h).json()
        assert [x["id"] for x in typed["items"]] == [lead_id] and typed["count"] == 1, q
    # bulk-tag it
    tagged = requests.post(f"{stack.url}/lists/{list_id}/leads/bulk", headers=h, json={
        "action": "add_tags", "filter": {"q": "ada"}, "tags": ["vip"]})
    assert tagged.json() == {"affected": 1, "complete": True}
    # the list's stats follow (kept with every write)
    stats = requests.get(f"{stack.url}/lists/{list_id}/stats", headers=h).json()
    assert stats["leads"] == 1 and stats["top_tags"] == [{"tag": "vip", "count": 1}]
    assert stats["by_source"] == {"api": 1} and stats["by_status"]["new"] == 1
    # export the list as CSV
    export = requests.get(f"{stack.url}/lists/{list_id}/export", headers=h)
    assert export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1 and rows[0]["tags"] == "vip" and rows[0]["phone"] == "+14155550134"
    # a second workspace's token (made by the CLI against the stack) gets 404
    cli = subprocess.run([str(Path(sys.executable).with_name("leadpipe")), "token", "create",
                          "--workspace", "other"], env=stack.env, capture_output=True,
                         text=True, check=True, cwd=ROOT)
    other = cli.stdout.strip()
    assert other.startswith("lp_")
    assert requests.get(f"{stack.url}/lists/{list_id}", headers=stack.headers(other)) \
        .status_code == 404
    assert requests.get(f"{stack.url}/lists", headers=stack.headers(other)).json()["items"] == []


def test_demo_import_ran_at_start(stack: Stack):
    lists = requests.get(f"{stack.url}/lists", headers=stack.headers()).json()["items"]
    demo = [lst for lst in lists if lst["name"] == "Demo leads"]
    assert len(demo) == 1 and demo[0]["lead_count"] > 200
    imports = requests.get(f"{stack.url}/lists/{demo[0]['id']}/imports",
                           headers=stack.headers()).json()["items"]
    assert imports[0]["status"] == "completed"
    assert sum(imports[0]["counts"].values()) == imports[0]["total_rows"] == 250


def test_cli_import_with_progress_and_summary(stack: Stack):
    # GIVEN a messy file (cp1252, semicolons, quoted newlines, duplicates, broken phones)
    from tools.sample_data import write_csv

    path = ROOT / ".local" / "e2e-cli.csv"
    write_csv(path, 3000, seed=11)
    # WHEN it is imported with the CLI
    cli = subprocess.run([str(Path(sys.executable).with_name("leadpipe")), "import", str(path),
                          "--list", "CLI import", "--create", "--yes"],
                         env={**stack.env, "LEADPIPE_API_URL": stack.url}, cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    # THEN it completes with exact counts and points at the error report
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "completed: 3000 rows" in cli.stderr
    assert "leadpipe errors im_" in cli.stderr
    lists = requests.get(f"{stack.url}/lists", headers=stack.headers()).json()["items"]
    created = next(lst for lst in lists if lst["name"] == "CLI import")
    saved = int(cli.stderr.split(" saved")[0].rsplit("→", 1)[1].strip())
    assert created["lead_count"] == saved > 2000


def test_delete_list_is_purged_by_the_event_pump(stack: Stack):
    h = stack.headers()
    list_id = requests.post(f"{stack.url}/lists", json={"name": "Temp"}, headers=h).json()["id"]
    requests.post(f"{stack.url}/lists/{list_id}/leads", json={"email": "t@example.com"},
                  headers=h)
    copy = requests.post(f"{stack.url}/lists/{list_id}/duplicate", json={"name": "Copy"},
                         headers=h).json()
    assert requests.delete(f"{stack.url}/lists/{list_id}", headers=h).status_code == 204
    assert requests.get(f"{stack.url}/lists/{list_id}", headers=h).status_code == 404
    # the copy is independent of the deleted source
    assert requests.get(f"{stack.url}/lists/{copy['id']}", headers=h).json()["lead_count"] == 1


def test_head_answers_like_get_without_a_body(stack: Stack):
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=10)
    try:
        for path, headers in (("/health", {}), ("/lists?limit=2", stack.headers()),
                              ("/lists", {})):
            # GIVEN what a GET of the route answers
            connection.request("GET", path, headers=headers)
            got = connection.getresponse()
            body = got.read()
            # WHEN the same route is asked with HEAD, on the same connection
            connection.request("HEAD", path, headers=headers)
            head = connection.getresponse()
            # THEN the status and headers are the GET's, and no body follows
            assert head.status == got.status, path
            assert head.getheader("Content-Type") == got.getheader("Content-Type")
            assert head.getheader("Content-Length") == str(len(body))
            assert head.read() == b""
        # AND the connection is still in step: the next answer is a whole one
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_access_log_masks_emails_and_phones_in_query_strings(stack: Stack):
    # GIVEN a list, searched for a person by email and by phone, as curl encodes them
    h = stack.headers()
    list_id = requests.post(f"{stack.url}/lists", json={"name": "Log"}, headers=h).json()["id"]
    for query in ("q=victim.person%40example.com", "q=415+555+0134", "q=%2B44%2020%207946%200018"):
        assert requests.get(f"{stack.url}/lists/{list_id}/leads?{query}", headers=h).ok
    # WHEN the stack's output (the API's access log among it) is read
    deadline = time.monotonic() + 10
    log = ""
    while log.count(f"/lists/{list_id}/leads?q=") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        log = (ROOT / ".local" / "e2e-stack.log").read_text(errors="replace")
    # THEN the requests were logged, masked
    assert f"/lists/{list_id}/leads?q=***@example.com" in log
    assert f"/lists/{list_id}/leads?q=***34" in log and f"/lists/{list_id}/leads?q=***18" in log
    for secret in ("victim.person", "415+555+0134", "555 0134", "7946"):
        assert secret not in log


def test_upload_to_another_imports_key_is_refused_by_the_embedded_aws(stack: Stack):
    h = stack.headers()
    list_id = requests.post(f"{stack.url}/lists", json={"name": "Keys"}, headers=h).json()["id"]
    victim, attacker = (requests.post(f"{stack.url}/lists/{list_id}/imports", headers=h,
                                      json={"filename": name}).json()
                        for name in ("a.csv", "b.csv"))
    # GIVEN the attacker's signed form, aimed at the victim's key
    form = attacker["upload"]
    fields = {**form["fields"], "key": victim["upload"]["fields"]["key"]}
    # WHEN it is posted
    response = requests.post(form["url"], data=fields,
                             files={"file": ("x.csv", b"email\nevil@example.com\n")})
    # THEN S3 refuses it as AWS does, and the victim's import still waits for its file
    assert response.status_code == 403, response.text
    assert "<Code>AccessDenied</Code>" in response.text
    assert "Invalid according to Policy: Policy Condition failed" in response.text
    assert requests.get(f"{stack.url}/imports/{victim['id']}", headers=h) \
        .json()["status"] == "awaiting_upload"


@pytest.mark.timeout(600)
def test_schemathesis_finds_no_server_errors(stack: Stack):
    # A workspace of its own: the fuzzer must not spend its time searching the
    # thousands of leads the other tests imported.
    token = subprocess.run([str(Path(sys.executable).with_name("leadpipe")), "token", "create",
                            "--workspace", "fuzz"], env=stack.env, capture_output=True,
                           text=True, check=True, cwd=ROOT).stdout.strip()
    st = Path(sys.executable).with_name("schemathesis")
    # The probe's hostile inputs (odd limits, JSON 2,000 deep) join the run as
    # explicit examples of every operation they fit (tests/e2e/fuzz_probes.py).
    probes = ROOT / ".local" / "fuzz-probes.jsonl"
    probes.unlink(missing_ok=True)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_probes",
           "LEADPIPE_PROBE_LOG": str(probes), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(st), "run", str(ROOT / "openapi.yaml"), "--url", stack.url,
         "-H", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,status_code_conformance,"
                     "content_type_conformance,response_schema_conformance",
         "--max-examples", os.environ.get("LEADPIPE_FUZZ_EXAMPLES", "25"),
         "--seed", "1", "--workers", "1", "--no-color"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=900, env=env)
    (ROOT / ".local" / "schemathesis.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
    sent = [json.loads(line) for line in probes.read_text().splitlines()]
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    operations = [(method.upper(), path, op) for path, item in spec["paths"].items()
                  for method, op in item.items() if method in ("get", "post", "patch")]

    def name(parameter: dict) -> str:
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        return str(parameter.get("name"))

    paged = {(m, p) for m, p, op in operations
             if any(name(q) == "limit" for q in op.get("parameters", []))}
    with_body = {(m, p) for m, p, op in operations if "requestBody" in op}
    assert {(r["method"], r["path"]) for r in sent if r["probe"].startswith("limit-")} == paged
    assert {(r["method"], r["path"]) for r in sent if r["probe"] == "deep-json"} == with_body
    for r in sent:
        expected = "invalid_json" if r["probe"] == "deep-json" else "invalid_limit"
        assert (r["status"], r["code"]) == (400, expected), r


def test_sigterm_stops_every_process(stack: Stack):
    # GIVEN the stack's children (moto, API, pump)
    children = _children_of(stack.proc.pid)
    assert len(children) >= 3
    # WHEN it gets SIGTERM
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=20) == 0
    # THEN none of them is left
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]

"""`leadpipe connect|connections|sync|import --google-sheet` with typer's CliRunner.

The CLI is an HTTP client, so the app is served for real: chalice's local
server (tools/local_api.py) on a free loopback port, on a thread of this
process, over the in-process moto of the `aws` fixture; HubSpot and Google
Sheets are the loopback sandboxes. Background work (SQS) is done by the event
pump inside the CLI's waits: `LeadpipeApi.pause` drains the pump instead of
sleeping, so the CLI's requests and the pump's work take turns, as moto in a
single process needs, and every wait moves the import on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.config import Config
from typer.testing import CliRunner

from chalicelib.provider_settings import provider_apps
from tests.integration.conftest import Api
from tools.api_client import LeadpipeApi
from tools.cli import app as cli
from tools.local_api import LeadpipeRequestHandler, make_local_server
from tools.sandboxes.credentials import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    HUBSPOT_CLIENT_ID,
    HUBSPOT_PRIVATE_APP_TOKEN,
)
from tools.sandboxes.google_sheets import GoogleSheetsSandbox
from tools.sync_cli import every_to_rate

runner = CliRunner()
SHEETS_TOKEN = "ya29.cli-sheets-reader-token"
SHEET_ID = "1CliSpreadsheet0000000000000000000000000000"
SHEET_ROWS = [["Email", "First name", "Company"], ["ada@example.com", "Ada", "Engines"],
              ["grace@example.com", "Grace", "Navy"], ["linus@example.com", "Linus"]]


@pytest.fixture(scope="module")
def api_url(app: Any) -> Iterator[str]:
    """The app behind chalice's local server, as `make run` serves it."""
    original = app.__class__  # make_local_server makes it a LocalChalice; undone below
    config = Config.create(chalice_stage="test", app_name=app.app_name, lambda_timeout=60,
                           lambda_memory_size=128)
    with pytest.MonkeyPatch.context() as patch:
        # The access log would land in the CLI's captured stderr (one process).
        patch.setattr(LeadpipeRequestHandler, "log_message", lambda self, *args: None)
        server = make_local_server(app, config, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
        server.shutdown()
        server.server.server_close()
    app.__class__ = original


@pytest.fixture
def leadpipe(api: Api, api_url: str, pump: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `leadpipe ARGS...` as `api`'s workspace; the pump works while the CLI waits."""
    monkeypatch.setattr(LeadpipeApi, "pause", lambda self, seconds: pump.drain())

    def invoke(*args: str, url: str = api_url) -> Any:
        result = runner.invoke(cli, list(args), env={
            "LEADPIPE_API_URL": url, "LEADPIPE_TOKEN": api.token, "COLUMNS": "200"})
        # Never a traceback: an API error is an exit status and a line.
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.output
        assert "Traceback" not in result.output
        return result

    return invoke


@pytest.fixture
def sheets(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleSheetsSandbox]:
    sandbox = GoogleSheetsSandbox(access_tokens=[SHEETS_TOKEN])
    url = sandbox.start()
    sandbox.add_spreadsheet(SHEET_ID, {"Summary": [["nothing"]], "Leads": SHEET_ROWS})
    sandbox.share(SHEET_ID, SHEETS_TOKEN)
    monkeypatch.setenv("LEADPIPE_GOOGLE_SHEETS_API_URL", url)
    monkeypatch.setenv("LEADPIPE_GOOGLE_TOKEN_URL", f"{url}/token")
    monkeypatch.setenv("LEADPIPE_GOOGLE_CLIENT_ID", GOOGLE_CLIENT_ID)
    monkeypatch.setenv("LEADPIPE_GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET)
    provider_apps.cache_clear()
    yield sandbox
    sandbox.stop()
    provider_apps.cache_clear()


def _connection(api: Api, **fields: str) -> str:
    created = api.post("/connections", {"provider": "hubspot",
                                        "access_token": HUBSPOT_PRIVATE_APP_TOKEN, **fields})
    assert created.status_code == 201, created.json_body
    return str(created.json_body["id"])


def _one_error_line(result: Any, code: str) -> str:
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {code}: "), line
    return str(line)


# -- connect, connections -----------------------------------------------------------------


def test_connect_hubspot_prints_the_id_and_hint_never_the_token(api: Api, leadpipe, hubspot):
    connected = leadpipe("connect", "hubspot", "--token", HUBSPOT_PRIVATE_APP_TOKEN,
                         "--name", "Sales HubSpot")
    assert connected.exit_code == 0, connected.output
    [stored] = api.get("/connections").json_body["items"]
    assert stored["name"] == "Sales HubSpot" and stored["provider"] == "hubspot"
    assert connected.stdout.strip() == (f"connected hubspot: {stored['id']} "
                                        f"(status active, token …{HUBSPOT_PRIVATE_APP_TOKEN[-4:]})")
    assert f"leadpipe sync create LIST --connection {stored['id']}" in connected.stderr
    listed = leadpipe("connections")
    assert listed.exit_code == 0, listed.output
    for shown in (stored["id"], "hubspot", "Sales HubSpot", "active",
                  f"…{HUBSPOT_PRIVATE_APP_TOKEN[-4:]}"):
        assert shown in listed.stdout
    for result in (connected, listed):
        assert HUBSPOT_PRIVATE_APP_TOKEN not in result.output


def test_connect_oauth_prints_the_consent_url(api_url: str, leadpipe, hubspot):
    shown = leadpipe("connect", "--oauth", "hubspot")
    assert shown.exit_code == 0, shown.output
    url = shown.stdout.strip()
    assert url.startswith(f"{hubspot.url}/oauth/authorize?client_id={HUBSPOT_CLIENT_ID}")
    callback = f"{api_url}/oauth/hubspot/callback".replace(":", "%3A").replace("/", "%2F")
    assert f"redirect_uri={callback}&" in url
    given = leadpipe("connect", "--oauth", "hubspot", "--redirect-uri",
                     "https://leads.example.com/oauth/hubspot/callback")
    assert "leads.example.com" in given.stdout
    refused = leadpipe("connect", "--oauth", "hubspot", "--redirect-uri",
                       "http://10.0.0.1/callback")
    assert refused.exit_code == 1 and refused.output.startswith("error: ")


def test_a_refused_token_or_field_is_one_error_line_with_its_code(leadpipe, sheets):
    empty = _one_error_line(leadpipe("connect", "hubspot", "--token", ""), "validation_error")
    assert "access_token" in empty
    huge = _one_error_line(leadpipe("connect", "google", "--token", "x" * 5000),
                           "validation_error")
    assert "access_token" in huge and "x" * 50 not in huge
    # A refresh token is tried at once: the sandbox refuses an unknown one
    _one_error_line(leadpipe("connect", "google", "--refresh-token", "1//not-a-real-one"),
                    "reauthorize")
    # No credential at all is a usage error (2), before any request
    missing = leadpipe("connect", "salesforce")
    assert missing.exit_code == 2 and "--refresh-token" in missing.output


def test_api_errors_are_one_line_never_a_traceback(api: Api, leadpipe, hubspot):
    _one_error_line(leadpipe("sync", "run", "sy_nope"), "not_found")
    _one_error_line(leadpipe("sync", "delete", "sy_nope"), "not_found")
    _one_error_line(leadpipe("sync", "list", "ls_nope"), "not_found")
    lid = api.new_list()["id"]
    bad = _one_error_line(leadpipe("sync", "create", lid, "--connection", _connection(api),
                                   "--schedule", "every day"), "validation_error")
    assert "schedule" in bad
    unreachable = leadpipe("connections", url="http://127.0.0.1:9")
    _one_error_line(unreachable, "unreachable")


# -- sync --------------------------------------------------------------------------------


@pytest.mark.parametrize(("every", "rate"), [("15m", "rate(15 minutes)"),
                                             ("1m", "rate(1 minute)"), ("1h", "rate(1 hour)"),
                                             ("6h", "rate(6 hours)"), ("1d", "rate(1 day)"),
                                             ("30D", "rate(30 days)")])
def test_every_becomes_an_eventbridge_rate(every: str, rate: str):
    assert every_to_rate(every) == rate


def test_sync_create_with_every_sends_a_rate_and_lists(api: Api, leadpipe, hubspot):
    lid = api.new_list()["id"]
    connection = _connection(api)
    created = leadpipe("sync", "create", lid, "--connection", connection, "--every", "15m",
                       "--mode", "fill_empty")
    assert created.exit_code == 0, created.output
    [sync] = api.get(f"/lists/{lid}/syncs").json_body["items"]
    assert sync["schedule"] == "rate(15 minutes)" and sync["mode"] == "fill_empty"
    assert sync["object"] == "contacts" and sync["connection_id"] == connection
    assert created.stdout.startswith(f"sync {sync['id']}: hubspot contacts → list {lid}")
    listed = leadpipe("sync", "list", lid)
    assert listed.exit_code == 0, listed.output
    assert sync["id"] in listed.stdout and "rate(15 minutes)" in listed.stdout
    by_hand = leadpipe("sync", "create", lid, "--connection", connection)
    assert by_hand.exit_code == 0 and "runs by hand" in by_hand.stdout
    for wrong in (["--every", "0m"], ["--every", "15s"], ["--every", "1h", "--schedule",
                                                          "rate(1 hour)"]):
        refused = leadpipe("sync", "create", lid, "--connection", connection, *wrong)
        assert refused.exit_code == 2, (wrong, refused.output)
    assert len(api.get(f"/lists/{lid}/syncs").json_body["items"]) == 2


def test_sync_run_follows_the_run_to_the_end_and_prints_its_counts(api: Api, leadpipe, pump,
                                                                   hubspot):
    ids = hubspot.seed(30)
    with_email = [i for i in ids if hubspot.contacts[i].values().get("email")]
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": _connection(api)}).json_body
    first = leadpipe("sync", "run", sync["id"])
    assert first.exit_code == 0, first.output
    run_id = api.get(f"/syncs/{sync['id']}").json_body["last_run"]["import_id"]
    assert first.stdout.startswith(f"run {run_id}: ")
    assert f"completed: {len(ids)} rows → {len(with_email)} saved, 0 updated" in first.stderr
    # Two contacts change in HubSpot: the next run updates those two
    for contact_id in with_email[:2]:
        hubspot.update_contact(contact_id, company="Renamed Inc")
    second = leadpipe("sync", "run", sync["id"])
    assert second.exit_code == 0, second.output
    assert "completed: 2 rows → 0 saved, 2 updated, 0 unchanged, 0 duplicates skipped, " \
           "0 invalid" in second.stderr
    # --no-wait starts it and returns; the pump finishes it
    started = leadpipe("sync", "run", sync["id"], "--no-wait")
    assert started.exit_code == 0, started.output
    import_id = started.stdout.split()[1].rstrip(":")
    assert api.get(f"/syncs/{sync['id']}").json_body["running_import_id"] == import_id
    pump.drain()
    assert api.get(f"/imports/{import_id}").json_body["status"] == "completed"
    deleted = leadpipe("sync", "delete", sync["id"])
    assert deleted.exit_code == 0 and api.get(f"/syncs/{sync['id']}").status_code == 404


def test_a_failed_run_exits_1_with_its_error(api: Api, leadpipe, hubspot):
    hubspot.seed(3)
    refresh = hubspot.issue_refresh_token()
    connection = api.post("/connections", {"provider": "hubspot",
                                           "refresh_token": refresh}).json_body
    lid = api.new_list()["id"]
    sync = api.post(f"/lists/{lid}/syncs", {"connection_id": connection["id"]}).json_body
    hubspot.revoke(refresh)  # the user disconnects leadpipe in HubSpot
    failed = leadpipe("sync", "run", sync["id"])
    assert failed.exit_code == 1, failed.output
    assert "error: reauthorize: " in failed.stderr
    # The sync now says so: starting it again is refused at once, in one line
    _one_error_line(leadpipe("sync", "run", sync["id"]), "reauthorize")


# -- import --google-sheet ---------------------------------------------------------------


def test_import_a_google_sheet_with_a_token_and_wait(api: Api, leadpipe, sheets):
    lid = api.new_list()["id"]
    url = f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0"
    done = leadpipe("import", lid, "--google-sheet", url, "--sheet", "Leads",
                    "--token", SHEETS_TOKEN, "--wait")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("import im_")
    assert "(Google Sheet into Q1 Prospects)" in done.stdout
    assert "completed: 3 rows → 3 saved, 0 updated, 0 unchanged" in done.stderr
    assert SHEETS_TOKEN not in done.output
    emails = {lead["email"] for lead in api.get(f"/lists/{lid}/leads").json_body["items"]}
    assert emails == {"ada@example.com", "grace@example.com", "linus@example.com"}


def test_import_a_google_sheet_through_a_connection_without_waiting(api: Api, leadpipe, pump,
                                                                    sheets):
    connected = leadpipe("connect", "google", "--token", SHEETS_TOKEN)
    assert connected.exit_code == 0, connected.output
    connection = connected.stdout.split()[2]
    assert connection.startswith("cn_")
    api.new_list(name="From the sheet")
    started = leadpipe("import", "From the sheet", "--google-sheet", SHEET_ID,  # by name
                       "--sheet", "Leads", "--connection", connection, "--mode", "overwrite")
    assert started.exit_code == 0, started.output
    import_id = started.stdout.split()[1].rstrip(":")
    pump.drain()
    job = api.get(f"/imports/{import_id}").json_body
    assert job["status"] == "completed" and job["counts"]["saved"] == 3
    assert job["mode"] == "overwrite" and job["source"] == "google_sheets"


def test_google_sheet_errors(api: Api, leadpipe, sheets):
    lid = api.new_list()["id"]
    both = leadpipe("import", lid, "--google-sheet", SHEET_ID)
    assert both.exit_code == 2 and "--connection" in both.output
    missing = leadpipe("import", lid, "--google-sheet", "1NoSuchSpreadsheet000000000000",
                       "--token", SHEETS_TOKEN, "--wait")
    assert missing.exit_code == 1, missing.output
    assert "error: spreadsheet_not_found: " in missing.stderr
    no_list = leadpipe("import", "ls_nope", "--google-sheet", SHEET_ID, "--token", SHEETS_TOKEN)
    _one_error_line(no_list, "not_found")


def test_a_file_import_follows_with_the_same_progress_and_summary(api: Api, leadpipe,
                                                                  tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("email,first_name\nada@example.com,Ada\nnot-an-email,Bad\n"
                     "ada@example.com,Again\n", encoding="utf-8")
    done = leadpipe("import", str(leads), "--list", "CLI file", "--create", "--yes")
    assert done.exit_code == 0, done.output
    assert "importing" in done.stderr and "3/3" in done.stderr  # the progress bar's end
    assert "completed: 3 rows → 1 saved, 0 updated, 0 unchanged, " \
           "1 duplicates skipped, 1 invalid" in done.stderr
    assert "error report: leadpipe errors im_" in done.stderr
    missing = leadpipe("import", str(tmp_path / "nope.csv"), "--list", "CLI file")
    assert missing.exit_code == 2 and "no such readable file" in missing.output
    no_list = leadpipe("import", str(leads))
    assert no_list.exit_code == 2 and "--list" in no_list.output

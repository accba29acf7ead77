"""`leadpipe token create|list|revoke` with typer's CliRunner, over in-process moto."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from chalicelib.bootstrap import services
from chalicelib.services.auth import CACHE_SECONDS
from tests.integration.conftest import Api
from tools.cli import app as cli

runner = CliRunner()
STAGE = ["--stage", "test"]  # the suite's stage: in-process moto, never AWS


def _run(*args: str):
    return runner.invoke(cli, ["token", *args, *STAGE])


def test_create_list_and_revoke_from_the_command_line(client, monkeypatch):
    # GIVEN two tokens made with the CLI, one named and expiring
    first = _run("create", "--workspace", "cli-ws")
    second = _run("create", "--workspace", "cli-ws", "--name", "nightly sync",
                  "--expires-in-days", "7")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    token, nightly = first.output.strip(), second.output.strip()
    assert Api(client, nightly).get("/lists").status_code == 200
    # WHEN they are listed
    listed = _run("list", "--workspace", "cli-ws")
    # THEN both show by name and hint, never the token
    assert listed.exit_code == 0, listed.output
    assert "default" in listed.output and "nightly sync" in listed.output
    assert f"…{nightly[-4:]}" in listed.output and nightly not in listed.output
    assert "never" in listed.output  # the default token does not expire
    # WHEN the nightly token is revoked by id
    tokens = Api(client, token).get("/tokens").json_body["items"]
    nightly_id = next(t["id"] for t in tokens if t["name"] == "nightly sync")
    revoked = _run("revoke", "--workspace", "cli-ws", nightly_id)
    # THEN it leaves the list, and the API (another process's cache, which
    # checked it a moment ago) refuses it once its cached answer is 60 s old
    assert revoked.exit_code == 0, revoked.output
    assert nightly_id in revoked.output
    assert nightly_id not in _run("list", "--workspace", "cli-ws").output
    later = time.monotonic() + CACHE_SECONDS
    monkeypatch.setattr(services().auth, "_monotonic", lambda: later)
    assert Api(client, nightly).get("/lists").status_code == 401
    assert Api(client, token).get("/lists").status_code == 200


def test_the_last_token_needs_force_and_ids_of_other_workspaces_are_not_found(client):
    token = _run("create", "--workspace", "cli-last").output.strip()
    [only] = Api(client, token).get("/tokens").json_body["items"]
    refused = _run("revoke", "--workspace", "cli-last", only["id"])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert _run("revoke", "--workspace", "someone-else", only["id"]).exit_code == 2
    forced = _run("revoke", "--workspace", "cli-last", only["id"], "--force")
    assert forced.exit_code == 0, forced.output


def test_bad_input_is_an_error_not_a_traceback():
    bad_workspace = _run("create", "--workspace", "Not Valid")
    assert bad_workspace.exit_code == 2 and "workspace names" in bad_workspace.output
    bad_days = _run("create", "--workspace", "cli-ws", "--expires-in-days", "0")
    assert bad_days.exit_code == 2
    long_name = _run("create", "--workspace", "cli-ws", "--name", "x" * 101)
    assert long_name.exit_code == 2 and "at most 100" in long_name.output

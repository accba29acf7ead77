"""`leadpipe export` with typer's CliRunner: the background job, followed, then downloaded.

The CLI is an HTTP client, so the app is served for real (chalice's local
server on a loopback port, over the in-process moto of the `aws` fixture), as
in test_cli_connected.py; the event pump works while the CLI waits.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from chalice.config import Config
from typer.testing import CliRunner

from chalicelib.bootstrap import services
from tests.integration.conftest import Api
from tools.api_client import LeadpipeApi
from tools.cli import app as cli
from tools.local_api import LeadpipeRequestHandler, make_local_server

runner = CliRunner()


@pytest.fixture(scope="module")
def api_url(app: Any) -> Iterator[str]:
    original = app.__class__  # make_local_server makes it a LocalChalice; undone below
    config = Config.create(chalice_stage="test", app_name=app.app_name, lambda_timeout=60,
                           lambda_memory_size=128)
    with pytest.MonkeyPatch.context() as patch:
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
    monkeypatch.setattr(LeadpipeApi, "pause", lambda self, seconds: pump.drain())

    def invoke(*args: str) -> Any:
        result = runner.invoke(cli, list(args), env={
            "LEADPIPE_API_URL": api_url, "LEADPIPE_TOKEN": api.token, "COLUMNS": "200"})
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.output
        return result

    return invoke


def _list_with_leads(api: Api, pump: Any, name: str) -> dict[str, Any]:
    lst = api.new_list(name=name)
    for i in range(3):
        assert api.post(f"/lists/{lst['id']}/leads", {
            "email": f"c{i}@example.com", "first_name": "@SUM(1)"}).status_code == 201
    pump.drain()
    return lst


def test_export_as_csv_and_xlsx_into_files(api: Api, pump: Any, leadpipe: Any, tmp_path: Path):
    lst = _list_with_leads(api, pump, "CLI exports")
    # WHEN the list is exported by name, as CSV then as xlsx
    as_csv = leadpipe("export", "CLI exports", "--out", str(tmp_path / "leads.csv"))
    as_xlsx = leadpipe("export", "CLI exports", "--format", "xlsx",
                       "--out", str(tmp_path / "leads.xlsx"))
    # THEN both files hold the three leads, cells inert
    assert as_csv.exit_code == 0 and as_xlsx.exit_code == 0, as_csv.output + as_xlsx.output
    assert "3 leads" in as_csv.output
    rows = list(csv.reader(io.StringIO((tmp_path / "leads.csv").read_text(), newline="")))
    assert sorted(r[rows[0].index("email")] for r in rows[1:]) == \
        ["c0@example.com", "c1@example.com", "c2@example.com"]
    sheet = openpyxl.load_workbook(tmp_path / "leads.xlsx", read_only=True)["Leads"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == rows[0] and len(cells) == 4
    assert {r[rows[0].index("first_name")] for r in cells[1:]} == {"'@SUM(1)"}
    # ...through two background exports, not the synchronous export
    assert len(services().exports._store.exports_of_list(lst["id"], 10)) == 2


def test_csv_to_stdout_and_errors_are_a_line(api: Api, pump: Any, leadpipe: Any):
    _list_with_leads(api, pump, "CLI stdout")
    shown = leadpipe("export", "CLI stdout")
    assert shown.exit_code == 0 and "c1@example.com" in shown.stdout
    assert leadpipe("export", "CLI stdout", "--format", "xlsx").exit_code == 2
    assert leadpipe("export", "CLI stdout", "--format", "pdf").exit_code == 2
    missing = leadpipe("export", "no such list", "--out", "x.csv")
    assert missing.exit_code == 1 and "not_found" in missing.output

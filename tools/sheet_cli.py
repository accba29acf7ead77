"""`leadpipe import LIST --google-sheet ID_OR_URL`: a Google Sheet into a list, through the API.

POST /lists/{id}/imports with `source: google_sheets` and `auto_start`: the API
reads the sheet once, pins it and analyses it as a file, then starts it when
the detected mapping is valid. With `--wait` the CLI follows it to the end
with the file import's progress bar and counts (cli_common.follow); without,
it prints the import's id and returns.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from chalicelib.domain.import_state import ImportMode
from tools.api_client import LeadpipeApi
from tools.cli_common import FINISHED, console, follow, resolve_list, show_summary


def import_google_sheet(client: LeadpipeApi, list_name: str, spreadsheet: str, *,
                        sheet: str | None, connection: str | None, token: str | None,
                        mode: ImportMode, mapping: dict[str, str | None], region: str | None,
                        wait: bool) -> int:
    """Create the import (ApiError propagates); returns the exit status."""
    if (connection is None) == (token is None):
        raise typer.BadParameter("give one of --connection ID or --token TOKEN",
                                 param_hint="--connection")
    lst = resolve_list(client, list_name)
    body: dict[str, Any] = {"source": "google_sheets", "spreadsheet_id": spreadsheet,
                            "auto_start": True, "mode": mode.value}
    if connection is not None:
        body["connection_id"] = connection
    else:
        body["access_token"] = token
    if sheet:
        body["sheet_name"] = sheet
    if mapping:
        body["mapping"] = mapping
    if region:
        body["default_region"] = region
    job = client.call("POST", f"/lists/{lst['id']}/imports", json=body)
    # Its status says awaiting_upload until the analyser has pinned the sheet: say it plainly.
    typer.echo(f"import {job['id']}: reading the sheet (Google Sheet into {lst['name']})")
    if not wait:
        console.print(f"follow it: GET /imports/{job['id']} (or --wait next time)",
                      soft_wrap=True, markup=False)
        return 0
    with console.status("reading and analysing the sheet..."):
        job = client.wait_import(job["id"], {"ready", "running", *FINISHED})
    if job["status"] == "failed":
        console.print(f"[red]error:[/red] {escape(job['error']['code'])}: "
                      f"{escape(job['error']['message'])}", soft_wrap=True)
        return 1
    if job["status"] == "ready":
        # auto_start starts only a valid mapping; this one needs a person's decision.
        for error in (job.get("sample_summary") or {}).get("mapping_errors", []):
            console.print(f"[yellow]mapping:[/yellow] {error['field']}: {error['message']}",
                          soft_wrap=True)
        console.print(f"not started: fix the mapping with --map 'Column=field', or start it: "
                      f"POST /imports/{job['id']}/start", soft_wrap=True, markup=False)
        return 1
    job = follow(client, job)
    show_summary(job)
    return 0 if job["status"] == "completed" else 1

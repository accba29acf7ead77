"""`leadpipe sync create|list|run|delete`: keep a list in step with HubSpot or Salesforce.

    leadpipe sync create LIST --connection cn_... [--object contacts|leads]
                         [--every 15m | --schedule "rate(...)"|"cron(...)"] [--mode overwrite]
    leadpipe sync list LIST
    leadpipe sync run SYNC_ID [--no-wait]     # follows the run (an import) to its end
    leadpipe sync delete SYNC_ID

Through the API (/lists/{id}/syncs, /syncs/{id}, /syncs/{id}/run). A run is
an import, so `sync run` follows it with the same progress bar and counts as
`leadpipe import` (cli_common.follow).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import typer
from rich.table import Table

from chalicelib.domain.import_state import ImportMode
from tools.api_client import ApiError
from tools.cli_common import api, console, fail, follow, out, resolve_list, show_summary

sync_app = typer.Typer(help="Syncs: keep a list in step with HubSpot or Salesforce.",
                       no_args_is_help=True)

_EVERY = re.compile(r"(\d+)\s*([mhd])")
_UNITS = {"m": "minute", "h": "hour", "d": "day"}


class CrmObject(StrEnum):
    contacts = "contacts"
    leads = "leads"  # Salesforce only


def every_to_rate(every: str) -> str:
    """`15m` → `rate(15 minutes)`, `1h` → `rate(1 hour)`, `2d` → `rate(2 days)`."""
    matched = _EVERY.fullmatch(every.strip().lower())
    if matched is None or int(matched.group(1)) < 1:
        raise typer.BadParameter(f"{every!r}: say how often as Nm, Nh or Nd (15m, 2h, 1d)",
                                 param_hint="--every")
    count, unit = int(matched.group(1)), _UNITS[matched.group(2)]
    return f"rate({count} {unit}{'' if count == 1 else 's'})"


@sync_app.command("create")
def create_command(
    list_name: str = typer.Argument(..., metavar="LIST_ID", help="The list's id (or name)."),
    connection: str = typer.Option(..., "--connection", help="A HubSpot or Salesforce "
                                   "connection's id (leadpipe connections)."),
    crm_object: CrmObject | None = typer.Option(None, "--object", help="contacts (default) or "
                                                "leads (Salesforce)."),
    every: str | None = typer.Option(None, "--every", help="Run every Nm, Nh or Nd (15m)."),
    schedule: str | None = typer.Option(None, "--schedule", help='"rate(...)" or "cron(...)"; '
                                        "without it or --every, runs start by hand."),
    mode: ImportMode | None = typer.Option(None, "--mode", help="What a record matching a lead "
                                           "does: overwrite (default: fields follow the CRM), "
                                           "fill_empty or skip."),
) -> None:
    """Create a sync of a list from a CRM connection."""
    if every is not None and schedule is not None:
        raise typer.BadParameter("give --every or --schedule, not both", param_hint="--every")
    body: dict[str, Any] = {"connection_id": connection}
    if every is not None or schedule is not None:
        body["schedule"] = every_to_rate(every) if every is not None else schedule
    if crm_object is not None:
        body["object"] = crm_object.value
    if mode is not None:
        body["mode"] = mode.value
    client = api()
    try:
        lst = resolve_list(client, list_name)
        sync = client.call("POST", f"/lists/{lst['id']}/syncs", json=body)
    except ApiError as exc:
        raise fail(exc) from exc
    typer.echo(f"sync {sync['id']}: {sync['provider']} {sync['object']} → list {sync['list_id']}"
               f", {_schedule(sync)}, mode {sync['mode']}")
    console.print(f"run it now: leadpipe sync run {sync['id']}", soft_wrap=True, markup=False)


@sync_app.command("list")
def list_command(
    list_name: str = typer.Argument(..., metavar="LIST_ID", help="The list's id (or name)."),
) -> None:
    """Show a list's syncs."""
    client = api()
    try:
        lst = resolve_list(client, list_name)
        items = client.call("GET", f"/lists/{lst['id']}/syncs")["items"]
    except ApiError as exc:
        raise fail(exc) from exc
    table = Table("id", "from", "connection", "schedule", "mode", "last run", "next run")
    for sync in items:
        last = sync.get("last_run") or {}
        shown = last.get("status", "never")
        if sync.get("error"):
            shown += f" ({sync['error'].get('code', '')})"
        table.add_row(sync["id"], f"{sync['provider']} {sync['object']}", sync["connection_id"],
                      sync.get("schedule") or "by hand", sync["mode"], shown,
                      sync.get("next_run_at") or "-")
    out.print(table)


@sync_app.command("run")
def run_command(
    sync_id: str = typer.Argument(..., metavar="SYNC_ID"),
    no_wait: bool = typer.Option(False, "--no-wait", help="Start the run and return."),
) -> None:
    """Run a sync now and follow its run to the end (exit 1 if it fails)."""
    client = api()
    try:
        started = client.call("POST", f"/syncs/{sync_id}/run")
        job = started["import"]
        typer.echo(f"run {started['import_id']}: {job['status']}")
        if no_wait:
            console.print(f"follow it: GET /imports/{started['import_id']}", soft_wrap=True,
                          markup=False)
            return
        job = follow(client, job, "syncing")
    except ApiError as exc:
        raise fail(exc) from exc
    show_summary(job)
    if job["status"] == "failed":
        raise typer.Exit(1)


@sync_app.command("delete")
def delete_command(sync_id: str = typer.Argument(..., metavar="SYNC_ID")) -> None:
    """Delete a sync (its runs stay, as imports)."""
    client = api()
    try:
        client.call("DELETE", f"/syncs/{sync_id}")
    except ApiError as exc:
        raise fail(exc) from exc
    typer.echo(f"deleted sync {sync_id}")


def _schedule(sync: dict[str, Any]) -> str:
    return f"schedule {sync['schedule']}" if sync.get("schedule") else "runs by hand"

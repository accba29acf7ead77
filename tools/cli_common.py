"""What the API commands of `leadpipe` share: the client, error lines, lists by name or id,
and following an import to its end (file imports, Google Sheets imports and sync runs are all
imports, so they all show the same progress bar and counts).

Progress, summaries and errors go to stderr; what a script may want to read (ids, URLs,
tables) goes to stdout.
"""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tools.api_client import ApiError, LeadpipeApi

console = Console(stderr=True)
out = Console()
FINISHED = frozenset({"completed", "completed_with_errors", "failed"})
POLL_SECONDS = 0.5


def api() -> LeadpipeApi:
    """The API client from LEADPIPE_API_URL (default the local stack) and LEADPIPE_TOKEN."""
    client = LeadpipeApi()
    if not client.token:
        typer.echo("error: set LEADPIPE_TOKEN (make run prints it)", err=True)
        raise typer.Exit(2)
    return client


def error_line(exc: ApiError) -> str:
    """`<code>: <message>`, with each field's problem when the API names fields."""
    line = f"{exc.code}: {exc.message}"
    fields = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if isinstance(fields, list) and fields:
        line += " (" + "; ".join(f"{e.get('field')}: {e.get('message')}" for e in fields
                                 if isinstance(e, dict)) + ")"
    return line


def fail(exc: ApiError) -> typer.Exit:
    """Print the API's error on one line; the caller raises the returned exit (status 1)."""
    # soft_wrap: one line whatever the terminal's width, so it greps and reads as one.
    console.print(f"[red]error:[/red] {escape(error_line(exc))}", soft_wrap=True)
    return typer.Exit(1)


def resolve_list(client: LeadpipeApi, name_or_id: str) -> dict[str, Any]:
    lst = client.find_list(name_or_id)
    if lst is None:
        raise ApiError(404, {"error": {"code": "not_found",
                                       "message": f"no list {name_or_id!r}"}})
    return lst


def follow(client: LeadpipeApi, job: dict[str, Any],
           description: str = "importing") -> dict[str, Any]:
    """Poll the import `job` until it finishes, with a progress bar; returns the last state."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} rows/s"), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        # total_rows is unknown (None: an indeterminate bar) until the rows are counted.
        task = progress.add_task(description, total=job.get("total_rows"), rate="-")
        started = time.monotonic()
        while job["status"] not in FINISHED:
            client.pause(POLL_SECONDS)
            job = client.call("GET", f"/imports/{job['id']}")
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, total=job.get("total_rows"),
                            completed=job["processed_rows"],
                            rate=f"{job['processed_rows'] / elapsed:,.0f}")
        progress.update(task, completed=job["processed_rows"], total=job["processed_rows"])
    return job


def show_summary(job: dict[str, Any]) -> None:
    counts = job["counts"]
    total = job["processed_rows"] if job.get("total_rows") is None else job["total_rows"]
    colour = "green" if job["status"] == "completed" else "yellow"
    console.print(f"[{colour}]{job['status']}[/{colour}]: {total} rows → "
                  f"{counts['saved']} saved, {counts.get('updated', 0)} updated, "
                  f"{counts.get('unchanged', 0)} unchanged, "
                  f"{counts['duplicates']} duplicates skipped, {counts['invalid']} invalid",
                  soft_wrap=True)
    if job.get("error"):
        prefix = "[red]error:[/red] " if job["status"] == "failed" else ""
        console.print(f"{prefix}{escape(job['error']['code'])}: "
                      f"{escape(job['error']['message'])}", soft_wrap=True)
    if counts["duplicates"] or counts["invalid"]:
        console.print(f"error report: leadpipe errors {job['id']} -o errors.csv", soft_wrap=True)

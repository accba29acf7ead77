"""The `leadpipe` command line.

`leadpipe token create|list|revoke` (tools/token_cli.py) and `leadpipe people
backfill` (tools/people_cli.py) work on the stage directly; every other
command talks to the HTTP API with LEADPIPE_TOKEN (at LEADPIPE_API_URL):
`connect` and `connections` (tools/connect_cli.py), `sync` (tools/sync_cli.py),
`import --google-sheet` (tools/sheet_cli.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import requests
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from chalicelib.domain.import_state import ImportMode
from tools.api_client import ApiError, LeadpipeApi
from tools.cli_common import api as _api
from tools.cli_common import console
from tools.cli_common import fail as _fail
from tools.cli_common import follow as _follow
from tools.cli_common import resolve_list as _resolve
from tools.cli_common import show_summary as _show_summary
from tools.connect_cli import connect_command, connections_command
from tools.people_cli import people_app
from tools.sheet_cli import import_google_sheet
from tools.sync_cli import sync_app
from tools.token_cli import token_app

app = typer.Typer(help="leadpipe: lead lists, imports and verification.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(sync_app, name="sync")
app.add_typer(people_app, name="people")
app.command("connect")(connect_command)
app.command("connections")(connections_command)


@app.command("lists")
def lists_command() -> None:
    """Show the workspace's lists."""
    api = _api()
    table = Table("id", "name", "identity", "region", "leads")
    try:
        for lst in api.pages("/lists"):
            table.add_row(lst["id"], lst["name"], lst["identity"], lst["default_region"],
                          str(lst["lead_count"]))
    except ApiError as exc:
        raise _fail(exc) from exc
    console.print(table)


@app.command("leads")
def leads_command(
    list_name: str = typer.Argument(..., metavar="LIST", help="List name or id."),
    q: str | None = typer.Option(None, "--q", help="Search name, email, company, title."),
    status: str | None = typer.Option(None, "--status"),
    limit: int = typer.Option(50, "--limit", min=1, max=200),
) -> None:
    """Show leads of a list."""
    api = _api()
    try:
        lst = _resolve(api, list_name)
        params = {k: v for k, v in (("q", q), ("status", status)) if v}
        page = api.call("GET", f"/lists/{lst['id']}/leads", params={**params, "limit": limit})
    except ApiError as exc:
        raise _fail(exc) from exc
    table = Table("name", "email", "phone", "company", "title", "status", "email status")
    for lead in page["items"]:
        name = " ".join(x for x in (lead["first_name"], lead["last_name"]) if x)
        table.add_row(name, lead["email"] or "", lead["phone"] or "", lead["company"] or "",
                      lead["job_title"] or "", lead["status"], lead["email_status"] or "")
    console.print(table)
    if page["next_cursor"]:
        console.print(f"(first {limit}; more match)")


@app.command("export")
def export_command(
    list_name: str = typer.Argument(..., metavar="LIST"),
    out: Path | None = typer.Option(None, "--out", "-o", "--output",
                                    help="File to write (default: CSV to stdout)."),
    fmt: str = typer.Option("csv", "--format", help="csv or xlsx."),
) -> None:
    """Export a list of any size as CSV or xlsx: a background job, followed, then downloaded."""
    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter("--format is csv or xlsx")
    if fmt == "xlsx" and out is None:
        raise typer.BadParameter("an xlsx export needs --out FILE")
    api = _api()
    try:
        lst = _resolve(api, list_name)
        export = api.call("POST", f"/lists/{lst['id']}/exports", json={"format": fmt})
        export = _follow_export(api, export, lst["lead_count"])
    except ApiError as exc:
        raise _fail(exc) from exc
    if export["status"] != "completed":
        error = export.get("error") or {"code": export["status"], "message": "export failed"}
        console.print(f"[red]error:[/red] {error['code']}: {error['message']}", soft_wrap=True)
        raise typer.Exit(1)
    with requests.get(export["download_url"], stream=True, timeout=600) as got:
        got.raise_for_status()
        if out is None:
            for chunk in got.iter_content(1024 * 1024):
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            return
        with out.open("wb") as handle:
            for chunk in got.iter_content(1024 * 1024):
                handle.write(chunk)
    console.print(f"wrote {out}: {export['rows']:,} leads, {export['bytes']:,} bytes")


def _follow_export(api: LeadpipeApi, export: dict[str, Any], leads: int) -> dict[str, Any]:
    """Poll the export until it finishes: leads read (of the list's), then rows converted."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("reading leads", total=leads or None)
        while export["status"] == "running":
            api.pause(0.5)
            export = api.call("GET", f"/exports/{export['id']}")
            if export["converted_rows"]:
                progress.update(task, description=f"writing {export['format']}",
                                total=export["rows"], completed=export["converted_rows"])
            else:
                progress.update(task, completed=min(export["rows"], leads or export["rows"]))
    return export


@app.command("errors")
def errors_command(
    import_id: str = typer.Argument(...),
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default stdout)."),
) -> None:
    """Download an import's error report (CSV: row, outcome, codes, reason, cells)."""
    api = _api()
    try:
        _write(api.call("GET", f"/imports/{import_id}/errors"), output)
    except ApiError as exc:
        raise _fail(exc) from exc


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


def _parse_maps(maps: list[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for item in maps:
        column, sep, target = item.rpartition("=")
        if not sep or not column:
            raise typer.BadParameter(f"--map takes 'Column=field', got {item!r}")
        mapping[column] = target.strip() or None
    return mapping


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE|LIST", help="The file to upload; with "
                                "--google-sheet, the list (id or name)."),
    list_name: str | None = typer.Option(None, "--list", "-l", help="List name or id (a file)."),
    create: bool = typer.Option(False, "--create", help="Create the list if missing."),
    identity: str = typer.Option("email", "--identity", help="Identity of a created list."),
    maps: list[str] = typer.Option([], "--map", help="'Column=field' (repeatable); "
                                   "'Column=' ignores a column."),
    region: str | None = typer.Option(None, "--region", help="Default phone region."),
    sheet: str | None = typer.Option(None, "--sheet", help="Spreadsheet sheet name."),
    mode: ImportMode = typer.Option(ImportMode.SKIP, "--mode", help=(
        "What rows matching a lead already in the list do: skip (a duplicate), "
        "fill_empty (fill the lead's empty fields), overwrite (replace with non-empty "
        "values).")),
    yes: bool = typer.Option(False, "--yes", "-y", help="Start without asking."),
    google_sheet: str | None = typer.Option(None, "--google-sheet", help="Import this Google "
                                            "Sheet (id or URL) into LIST instead of a file."),
    connection: str | None = typer.Option(None, "--connection", help="Google Sheet: a google "
                                          "connection's id."),
    sheet_token: str | None = typer.Option(None, "--token", help="Google Sheet: an access "
                                           "token, instead of --connection."),
    wait: bool = typer.Option(False, "--wait", help="Google Sheet: follow it to the end."),
) -> None:
    """Upload FILE into a list: detected mapping and preview, confirm, live progress.

    Or `leadpipe import LIST --google-sheet ID_OR_URL (--connection ID | --token T) [--wait]`.
    """
    if google_sheet is None and list_name is None:
        raise typer.BadParameter("a file import needs --list LIST", param_hint="--list")
    if google_sheet is None and not (file.is_file() and os.access(file, os.R_OK)):
        raise typer.BadParameter(f"{file}: no such readable file", param_hint="FILE")
    api = _api()
    try:
        if google_sheet is not None:
            code = import_google_sheet(api, str(file), google_sheet, sheet=sheet,
                                       connection=connection, token=sheet_token, mode=mode,
                                       mapping=_parse_maps(maps), region=region, wait=wait)
        else:
            code = _run_import(api, file, str(list_name), create, identity, _parse_maps(maps),
                               region, sheet, yes, mode)
    except ApiError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(code)


def _run_import(api: LeadpipeApi, file: Path, list_name: str, create: bool, identity: str,
                mapping: dict[str, str | None], region: str | None, sheet: str | None,
                yes: bool, mode: ImportMode = ImportMode.SKIP) -> int:
    lst = api.find_list(list_name)
    if lst is None:
        if not create:
            console.print(f"[red]no list {list_name!r}[/red] (use --create)")
            return 1
        lst = api.call("POST", "/lists", json={"name": list_name, "identity": identity,
                                                **({"default_region": region} if region else {})})
        console.print(f"created list {lst['name']} ({lst['id']})")
    body: dict[str, Any] = {"filename": file.name}
    if mapping:
        body["mapping"] = mapping
    if region:
        body["default_region"] = region
    if sheet:
        body["sheet"] = sheet
    job = api.call("POST", f"/lists/{lst['id']}/imports", json=body)
    with console.status(f"uploading {file.name} ({file.stat().st_size:,} bytes)..."):
        api.upload(job["upload"], file)
    with console.status("analysing..."):
        job = api.wait_import(job["id"], {"ready", "failed", "running", "completed",
                                          "completed_with_errors"})
    if job["status"] == "failed":
        console.print(f"[red]import failed:[/red] {job['error']['code']}: "
                      f"{job['error']['message']}")
        return 1
    _show_analysis(job)
    if job["status"] == "ready":
        if not yes and not typer.confirm("Start the import?", default=True):
            console.print(f"not started; start later: POST /imports/{job['id']}/start")
            return 0
        job = api.call("POST", f"/imports/{job['id']}/start",
                       json={"mapping": job["mapping"], "mode": mode.value})
    job = _follow(api, job)
    _show_summary(job)
    return 0 if job["status"] == "completed" else 1


def _show_analysis(job: dict[str, Any]) -> None:
    info = job["file"] or {}
    console.print(f"[bold]{job['filename']}[/bold]: {info.get('kind')}, "
                  f"encoding {info.get('encoding')}, delimiter {info.get('delimiter')!r}, "
                  f"{len(info.get('columns') or [])} columns")
    table = Table("column", "→ field")
    for column, target in job["mapping"].items():
        table.add_row(column, target or "[dim](ignored)[/dim]")
    console.print(table)
    preview = Table("row", "first name", "last name", "email", "phone", "company", "problems")
    for entry in job["preview"]:
        lead = entry["lead"] or {}
        problems = ", ".join(e["code"] for e in entry["errors"] + entry["warnings"])
        preview.add_row(str(entry["row"]), lead.get("first_name") or "",
                        lead.get("last_name") or "", lead.get("email") or "",
                        lead.get("phone") or "", lead.get("company") or "", problems)
    console.print(preview)
    summary = job.get("sample_summary") or {}
    console.print(f"sample of {summary.get('rows_sampled', 0)} rows: "
                  f"{summary.get('valid', 0)} valid, {summary.get('invalid', 0)} invalid, "
                  f"{summary.get('duplicates_in_sample', 0)} duplicates "
                  f"{summary.get('errors_by_code', {})}")
    for error in summary.get("mapping_errors", []):
        console.print(f"[yellow]mapping:[/yellow] {error['field']}: {error['message']}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

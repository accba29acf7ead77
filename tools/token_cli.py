"""`leadpipe token create|list|revoke`: workspace tokens, straight to the stage's table.

Not through the HTTP API: these are the operator's commands, the way to the
first token of a workspace and out of a lost or leaked last one. They work
against the local stack (stage `local`, the default: moto on
127.0.0.1:$LEADPIPE_AWS_PORT) or AWS (`--stage prod`, the usual AWS
credentials). A token is printed once; only its hash is stored.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from chalicelib.services.auth import AuthService

token_app = typer.Typer(help="Workspace API tokens.", no_args_is_help=True)

DEFAULT_AWS_PORT = 4566
_STAGE_HELP = "Stage: local (the local stack) or an AWS stage name."


def point_at_stage(stage: str) -> None:
    """Set the environment so chalicelib's settings and boto3 reach this stage."""
    os.environ["LEADPIPE_STAGE"] = stage
    if stage == "local":
        port = os.environ.get("LEADPIPE_AWS_PORT", str(DEFAULT_AWS_PORT))
        os.environ.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"),
                            ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(name, value)


def _auth(stage: str) -> AuthService:
    point_at_stage(stage)
    # Imported late: settings are read from the environment set just above.
    from chalicelib.bootstrap import build_services  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    return build_services(get_settings()).auth


def _stage_option() -> str:
    option: str = typer.Option(os.environ.get("LEADPIPE_STAGE", "local"), "--stage",
                               help=_STAGE_HELP)
    return option


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@token_app.command("create")
def token_create(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace name."),
    name: str = typer.Option("default", "--name", "-n", help="What the token is for."),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1, max=3650,
                                               help="Days until it stops working "
                                                    "(default: never)."),
    stage: str = _stage_option(),
) -> None:
    """Create a token for WORKSPACE (created on first use) and print it."""
    from chalicelib.domain.errors import LeadpipeError  # noqa: PLC0415

    auth = _auth(stage)
    payload: dict[str, object] = {"name": name}
    if expires_in_days is not None:
        payload["expires_in_days"] = expires_in_days
    try:
        _, token = auth.create(workspace, payload)
    except LeadpipeError as exc:
        raise _fail(_message(exc)) from exc
    typer.echo(token)


@token_app.command("list")
def token_list(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace name."),
    stage: str = _stage_option(),
) -> None:
    """Show WORKSPACE's tokens (never the tokens themselves)."""
    auth = _auth(stage)
    table = Table("id", "name", "hint", "created", "expires", "last used")
    for record in auth.tokens(workspace):
        shown = auth.to_api(record)
        expires = shown["expires_at"] or "never"
        if shown["expired"]:
            expires += " (expired)"
        table.add_row(shown["id"], shown["name"], f"…{shown['hint']}", shown["created_at"],
                      expires, shown["last_used_at"] or "never")
    Console(width=200).print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., metavar="ID", help="The token's id (tok_...)."),
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace name."),
    force: bool = typer.Option(False, "--force",
                               help="Revoke even the workspace's last usable token."),
    stage: str = _stage_option(),
) -> None:
    """Revoke a token of WORKSPACE: refused at once where revoked, everywhere within 60 s."""
    from chalicelib.domain.errors import LeadpipeError  # noqa: PLC0415

    auth = _auth(stage)
    try:
        record = auth.revoke(workspace, token_id, allow_last=force)
    except LeadpipeError as exc:
        hint = " (--force revokes it anyway)" if exc.code == "last_token" else ""
        raise _fail(exc.message + hint) from exc
    typer.echo(f"revoked {record.token_id} ({record.name})")


def _message(exc: Exception) -> str:
    from chalicelib.domain.errors import ValidationFailed  # noqa: PLC0415

    if isinstance(exc, ValidationFailed):
        return "; ".join(e.message for e in exc.errors)
    return str(exc)

"""The `leadpipe` command line.

`leadpipe token create --workspace NAME` writes a token's hash straight to the
stage's table: against the local stack (stage `local`, the default: moto on
127.0.0.1:$LEADPIPE_AWS_PORT) or against AWS (`--stage prod`, with the usual
AWS credentials). It prints the token once; only its hash is stored.
"""

from __future__ import annotations

import os

import typer

app = typer.Typer(help="leadpipe: lead lists, imports and verification.", no_args_is_help=True)
token_app = typer.Typer(help="Workspace API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

DEFAULT_AWS_PORT = 4566


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


@token_app.command("create")
def token_create(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace name."),
    stage: str = typer.Option(os.environ.get("LEADPIPE_STAGE", "local"), "--stage",
                              help="Stage to write to: local (the local stack) or an AWS "
                                   "stage name."),
) -> None:
    """Create a token for WORKSPACE (created on first use) and print it."""
    point_at_stage(stage)
    # Imported late: settings are read from the environment set just above.
    from chalicelib.bootstrap import build_services  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415
    from chalicelib.domain.errors import LeadpipeError  # noqa: PLC0415

    get_settings.cache_clear()
    try:
        token = build_services(get_settings()).auth.create_token(workspace)
    except LeadpipeError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(token)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""`leadpipe people backfill`: put leads stored before the people index into it.

An operator's one-off after deploying the people index to a stage that
already holds leads (chalicelib/services/people_backfill.py): it queues one
job a list of the workspace on the stage's jobs queue, and the jobs function
does the work. Straight to the stage, like `leadpipe token`.
"""

from __future__ import annotations

import typer

from tools.token_cli import _stage_option, point_at_stage

people_app = typer.Typer(help="The people index (GET /people, suppression, erasure).",
                         no_args_is_help=True)


@people_app.command("backfill")
def backfill_command(
    workspace: str = typer.Option(..., "--workspace", "-w", help="Workspace name."),
    stage: str = _stage_option(),
) -> None:
    """Queue a job a list of WORKSPACE putting its older leads into the people index."""
    point_at_stage(stage)
    # Imported late: settings are read from the environment set just above.
    from chalicelib.bootstrap import build_services  # noqa: PLC0415
    from chalicelib.config import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    queued = build_services(get_settings()).people_backfill.queue_workspace(workspace)
    typer.echo(f"{len(queued)} list(s) queued for the people index in {workspace!r}")

"""``sel-time refresh|scheduler``: the nightly refresh now, or the process that runs it nightly."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..core.commands import cli
from ..core.transaction import discard


@cli.command("refresh")
@click.option("--force", is_flag=True, help="run again even if tonight's refresh succeeded")
@with_appcontext
def refresh_command(force: bool) -> None:
    """Run the nightly refresh once, now, in this process, under the same guard as the
    scheduler's (one run per night: another one running is said, not waited for)."""
    from .refresh import refresh

    try:
        result = refresh("manual", force=force, progress=lambda m: click.echo(m, err=True))
    except sa.exc.DBAPIError as exc:  # the database went away mid-run and did not come back
        discard()
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(
            f"Error: the refresh did not complete: the database could not be reached ({reason}); "
            "last night's roster is unchanged; run it again when the database is back",
            err=True,
        )
        sys.exit(1)
    click.echo(result.message)
    if result.ran and result.message.startswith("The refresh failed"):
        sys.exit(1)


@cli.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler process: it queues the nightly refresh at 02:00 Europe/London for a
    worker (more than one scheduler is harmless: the night is claimed once, in the database)."""
    from flask import current_app

    from .scheduler import run_scheduler

    click.echo(
        "sel-time scheduler: queues the nightly refresh at 02:00 Europe/London; Ctrl-C to stop",
        err=True,
    )
    try:
        run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped", err=True)

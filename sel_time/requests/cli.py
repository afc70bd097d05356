"""``sel-time requests announce``: tell rota managers, batched, of requests waiting (the task
queue runs the same function)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from ..core.transaction import boundary

requests_commands = AppGroup("requests", help="Leaders' change requests.")


@requests_commands.command("announce")
@with_appcontext
def announce_command() -> None:
    """Queue one e-mail per rota manager listing requests that began waiting."""
    from .notify import announce_waiting

    with boundary(quiet=False):
        n = announce_waiting()
    click.echo(f"Queued {n} message(s) to rota managers")


@requests_commands.command("digest")
@with_appcontext
def digest_command() -> None:
    """Queue the day's digest to each user who chose one (run once a day)."""
    from .notify import send_digests

    with boundary(quiet=False):
        n = send_digests()
    click.echo(f"Queued {n} digest(s)")

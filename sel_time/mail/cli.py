"""``sel-time mail send``: deliver the outbox now (the task queue runs the same function)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext

from .delivery import deliver_pending

mail = AppGroup("mail", help="The e-mail outbox: invitations and notifications.")


@mail.command("send")
@click.option("--limit", type=click.IntRange(1, 100000), default=500, show_default=True,
              help="send at most this many messages")
@with_appcontext
def send_command(limit: int) -> None:
    """Send every message that is due. Exit 1 if mail is not configured (messages stay
    queued) or a message failed for good."""
    report = deliver_pending(limit=limit)
    for line in report.errors:
        click.echo(line, err=True)
    click.echo(report.summary(), err=not report.configured)
    if not report.configured or report.failed:
        sys.exit(1)

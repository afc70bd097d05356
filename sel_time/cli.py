"""The ``sel-time`` command line (also ``flask sel-time ...``): every feature's commands
(``<feature>/commands.py``) on the one group of :mod:`sel_time.core.commands`."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import FlaskGroup, NoAppException

# Each feature's commands register on ``cli`` when imported.
from .accounts import commands as account_commands  # noqa: F401
from .core.commands import cli as cli
from .demo import commands as demo_commands  # noqa: F401
from .feeds import commands as feed_commands  # noqa: F401
from .finance import commands as finance_commands  # noqa: F401
from .imports import commands as import_commands  # noqa: F401
from .mail.cli import mail as mail_commands
from .nightly import commands as nightly_commands  # noqa: F401
from .plans import commands as plan_commands  # noqa: F401

cli.add_command(mail_commands)


def main() -> None:
    """Entry point of the ``sel-time`` console command. Every command runs with production
    settings unless ``SEL_TIME_ENV`` says otherwise; ``sel-time run`` (the development server)
    defaults to development settings and says so."""
    import os

    from . import create_app
    from .core.startup import ENV_VARIABLE, ConfigurationError, describe

    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    if words[:1] == ["run"] and ENV_VARIABLE not in os.environ:
        os.environ[ENV_VARIABLE] = "development"
        click.echo(
            "sel-time run: the development server, with development settings "
            "(production: gunicorn -c gunicorn.conf.py wsgi:app)",
            err=True,
        )

    def build() -> Any:
        try:
            return create_app()
        except ConfigurationError as error:  # click prints it as "Error: ..." and exits 2
            raise NoAppException(describe(error)) from None

    group = FlaskGroup(create_app=build, help=cli.help)
    for name, cmd in cli.commands.items():
        group.add_command(cmd, name)
    group(prog_name="sel-time")



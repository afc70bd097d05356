"""The ``sel-time`` command group every feature adds its commands to. Each command is one
transaction: it commits once at the end, or rolls back and says why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from flask.cli import AppGroup, with_appcontext

from .errors import SelTimeError
from .transaction import boundary

F = TypeVar("F", bound=Callable[..., Any])


cli = AppGroup(
    "sel-time", help="Rostered protected time for clinical and care professional leaders."
)


# ``sel-time cancel plan ID`` / ``sel-time cancel whatif ID``: each feature adds its kind.
cancel_group = AppGroup(
    "cancel", help="Cancel a queued or running solve, as the API's .../cancel does."
)
cli.add_command(cancel_group)


def command(
    name: str | None = None, group: click.Group | None = None, **kwargs: Any
) -> Callable[[F], F]:
    """A CLI command (on ``group``, by default the ``sel-time`` group) run in one transaction;
    a SelTimeError becomes a clear message and exit 2."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                with boundary(quiet=False):
                    return fn(*args, **kw)
            except SelTimeError as exc:
                click.echo(f"Error: {exc}", err=True)
                sys.exit(2)

        return (group or cli).command(name, **kwargs)(  # type: ignore[return-value]
            with_appcontext(wrapper)
        )

    return decorate


class TerminalProgress:
    """A one-line progress bar on stderr for long work (solves, imports)."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, message: str, fraction: float) -> None:
        width = 30
        done = int(max(0.0, min(1.0, fraction)) * width)
        line = f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}% {message[:60]:<60}"
        if line != self.last:
            click.echo(line, nl=False, err=True)
            self.last = line

    def end(self) -> None:
        """End the bar's line, if one was drawn, so what follows starts on its own."""
        if self.last:
            click.echo("", err=True)
            self.last = ""

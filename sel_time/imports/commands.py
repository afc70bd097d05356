"""``sel-time import``: a CSV or XLSX file into the directory."""

from __future__ import annotations

import click

from ..core.commands import TerminalProgress, command


@command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["people", "roles", "assignments", "leave", "teams"]),
    default=None,
    help="what a CSV file holds (default: from its name or header)",
)
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
def import_command(path: str, kind: str | None, dry_run: bool) -> None:
    """Import staff, roles, assignments, leave or teams from CSV or XLSX (all rows or none)."""
    from pathlib import Path

    from ..core.audit import CLI_ACTOR
    from . import import_file

    data = Path(path).read_bytes()
    show = TerminalProgress()
    try:
        report = import_file(
            data, Path(path).name, CLI_ACTOR, kind=kind, dry_run=dry_run, progress=show
        )
    finally:
        show.end()
    click.echo(report.summary())

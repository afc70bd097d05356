"""``sel-time privacy erase|export`` and ``sel-time retention apply``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..core.audit import CLI_ACTOR, record
from ..core.clock import now_utc
from ..core.commands import cli
from ..core.errors import NotFound
from ..core.extensions import db
from ..core.transaction import boundary, discard
from ..models import Person
from .erasure import erase_person
from .retention import apply_retention
from .subject import subject_data, to_json_bytes, to_xlsx_bytes


@cli.group()
def privacy() -> None:
    """Personal data: export everything held about a person, erase a leaver."""


def _person(ref: str) -> Person:
    query = (sa.select(Person).where(Person.id == int(ref)) if ref.isdigit()
             else sa.select(Person).where(sa.func.lower(Person.email) == ref.strip().lower()))
    person = db.session.scalar(query)
    if person is None:
        raise NotFound(f"No person {ref!r} (give an id or an e-mail address)")
    return person


@privacy.command("export")
@click.argument("person_ref")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="the file to write")
@with_appcontext
def export_command(person_ref: str, fmt: str, output: str) -> None:
    """Write everything held about a person (id or e-mail) to a file (audited)."""
    try:
        with boundary(quiet=False):
            data = subject_data(person_id=_person(person_ref).id)
            Path(output).write_bytes(to_xlsx_bytes(data) if fmt == "xlsx" else to_json_bytes(data))
            record(CLI_ACTOR, "subject_access_export", "person", data.person_id, None,
                   {"format": fmt, "tables": {k: len(v) for k, v in data.tables.items()}})
    except NotFound as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Wrote {sum(len(v) for v in data.tables.values())} rows from "
               f"{len(data.tables)} tables to {output}")


@privacy.command("erase")
@click.argument("person_ref")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def erase_command(person_ref: str, yes: bool) -> None:
    """Erase a leaver (id or e-mail): personal fields removed or pseudonymised everywhere,
    sign-in and links ended, finance and delivery totals unchanged. Audited; cannot be undone."""
    try:
        person = _person(person_ref)
        label = f"{person.name} <{person.email}> (person {person.id})"
        discard()
        if not yes and not click.confirm(f"Erase {label}? This cannot be undone"):
            click.echo("Nothing erased")
            sys.exit(1)
        with boundary(quiet=False):
            report = erase_person(person.id, CLI_ACTOR)
    except NotFound as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.summary())


@cli.group()
def retention() -> None:
    """Delete personal data older than its retention period."""


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="count what would be deleted; delete nothing")
@with_appcontext
def retention_apply(dry_run: bool) -> None:
    """Apply every retention rule now (the nightly run does it too)."""
    try:
        with boundary(quiet=False):
            results = apply_retention(now_utc(), dry_run=dry_run)
            if dry_run:
                discard()
    except ValueError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    for result in results:
        click.echo(result.line(dry_run))


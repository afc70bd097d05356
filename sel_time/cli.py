"""The ``sel-time`` command line (also ``flask sel-time ...``). Each command is one
transaction: it commits once at the end, or rolls back and says why."""
from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from .errors import SelTimeError
from .extensions import db

F = TypeVar("F", bound=Callable[..., Any])

cli = AppGroup("sel-time", help="Rostered protected time for clinical and care professional leaders.")


def command(name: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """A CLI command run in one transaction; a SelTimeError becomes a clear message and exit 2."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                result = fn(*args, **kw)
                db.session.commit()
                return result
            except SelTimeError as exc:
                db.session.rollback()
                click.echo(f"Error: {exc}", err=True)
                sys.exit(2)
            except BaseException:
                db.session.rollback()
                raise

        return cli.command(name, **kwargs)(with_appcontext(wrapper))  # type: ignore[return-value]

    return decorate


@cli.group()
def token() -> None:
    """Create and revoke API bearer tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="email of the user the token acts for")
@click.option("--name", default="cli", show_default=True, help="a label for the token")
@with_appcontext
def token_create(email: str, name: str) -> None:
    """Print a new token for a user (it is shown once and stored only as a hash)."""
    from .auth import create_api_token
    from .models import User
    from .services.audit import CLI_ACTOR, record

    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        click.echo(f"Error: no user with email {email}", err=True)
        sys.exit(2)
    row, secret = create_api_token(user, name)
    record(CLI_ACTOR, "create", "api_token", row.id, None, {"user": user.email, "name": name, "prefix": row.prefix})
    db.session.commit()
    click.echo(secret)


@token.command("revoke")
@click.argument("token_or_prefix")
@with_appcontext
def token_revoke(token_or_prefix: str) -> None:
    """Revoke a token, given the token itself or its printed prefix."""
    from .auth import revoke_api_token
    from .services.audit import CLI_ACTOR, record

    try:
        row = revoke_api_token(token_or_prefix)
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    record(CLI_ACTOR, "revoke", "api_token", row.id, None, {"prefix": row.prefix})
    db.session.commit()
    click.echo(f"Revoked token {row.prefix}… of {row.user.email}")


DEMO_PASSWORDS = {
    "admin@sel-time.demo": "demo-admin-pass",
    "rota@sel-time.demo": "demo-rota-pass",
    "finance@sel-time.demo": "demo-finance-pass",
}
DEMO_LEADER_PASSWORD = "demo-leader-pass"


@command("demo")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="first Monday of the demo's leave data (default: next Monday)")
def demo_command(start: Any) -> None:
    """Load the south-east-London demo system into an empty database."""
    from werkzeug.security import generate_password_hash

    from .clock import today_london
    from .demo import load_demo
    from .models import User, UserRole
    from .services.audit import CLI_ACTOR, record

    from datetime import timedelta

    first = start.date() if start else None
    if first is None:
        today = today_london()
        first = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    summary = load_demo(db.session, start=first)
    for user in db.session.scalars(sa.select(User)):
        password = DEMO_PASSWORDS.get(user.email, DEMO_LEADER_PASSWORD if user.role == UserRole.LEADER else None)
        if password and user.password_hash is None:
            user.password_hash = generate_password_hash(password)
    record(CLI_ACTOR, "import", "demo", None, None, {"summary": str(summary)})
    click.echo(f"Loaded the south-east-London demo: {summary}")
    click.echo("Demo accounts (email / password):")
    for user in db.session.scalars(sa.select(User).order_by(User.role, User.email)):
        password = DEMO_PASSWORDS.get(user.email, DEMO_LEADER_PASSWORD)
        click.echo(f"  {user.role.value:<13} {user.email:<40} {password}")


@command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(["people", "roles", "assignments", "leave", "teams"]),
              default=None, help="what a CSV file holds (default: from its name or header)")
def import_command(path: str, kind: str | None) -> None:
    """Import staff, roles, assignments, leave or teams from CSV or XLSX (all rows or none)."""
    from pathlib import Path

    from .importer import import_file
    from .services.audit import CLI_ACTOR

    data = Path(path).read_bytes()
    report = import_file(data, Path(path).name, CLI_ACTOR, kind=kind)
    click.echo(report.summary())


def main() -> None:
    """Entry point of the ``sel-time`` console command."""
    from . import create_app

    group = FlaskGroup(create_app=lambda: create_app(), help=cli.help)
    for name, cmd in cli.commands.items():
        group.add_command(cmd, name)
    group(prog_name="sel-time")

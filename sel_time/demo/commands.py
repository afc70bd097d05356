"""``sel-time demo``: load the south-east-London demo (development settings only)."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa

from ..core import clock
from ..core.commands import command
from ..core.errors import SelTimeError
from ..core.extensions import db

DEMO_PASSWORDS = {
    "admin@sel-time.demo": "demo-admin-pass",
    "rota@sel-time.demo": "demo-rota-pass",
    "finance@sel-time.demo": "demo-finance-pass",
}


DEMO_LEADER_PASSWORD = "demo-leader-pass"


@command("demo")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="first Monday of the demo's leave data (default: next Monday)",
)
def demo_command(start: Any) -> None:
    """Load the south-east-London demo system into an empty database. Refused with production
    settings: the demo's users have passwords printed in the README."""

    from flask import current_app
    from werkzeug.security import generate_password_hash

    from ..core.audit import CLI_ACTOR, record
    from ..models import User, UserRole
    from . import load_demo

    env = current_app.config.get("SEL_TIME_ENV", "production")
    if env == "production":
        raise SelTimeError(
            "sel-time demo is refused with production settings: it gives users passwords "
            "anyone can read in the README. Run it with SEL_TIME_ENV=development (make demo "
            "does) on a database of its own"
        )
    first = start.date() if start else clock.next_monday()
    summary = load_demo(db.session(), start=first)  # the scoped session's current one
    for user in db.session.scalars(sa.select(User)):
        password = DEMO_PASSWORDS.get(
            user.email, DEMO_LEADER_PASSWORD if user.role == UserRole.LEADER else None
        )
        if password and user.password_hash is None:
            user.password_hash = generate_password_hash(password)
    record(CLI_ACTOR, "import", "demo", None, None, {"summary": str(summary)})
    click.echo(f"Loaded the south-east-London demo: {summary}")
    click.echo("Demo accounts (email / password):")
    for user in db.session.scalars(sa.select(User).order_by(User.role, User.email)):
        password = DEMO_PASSWORDS.get(user.email, DEMO_LEADER_PASSWORD)
        click.echo(f"  {user.role.value:<13} {user.email:<40} {password}")

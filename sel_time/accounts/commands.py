"""``sel-time token create|list|revoke``: personal API tokens from the command line."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..core.commands import cli
from ..core.errors import SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary


@cli.group()
def token() -> None:
    """Create, list and revoke API bearer tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="email of the user the token acts for")
@click.option("--name", default="cli", show_default=True, help="a label for the token")
@click.option(
    "--days",
    type=int,
    default=None,
    help="days the token works for (default and most: SEL_TIME_TOKEN_DAYS, 90)",
)
@with_appcontext
def token_create(email: str, name: str, days: int | None) -> None:
    """Print a new token for a user (it is shown once and stored only as a hash); its expiry
    goes to standard error, so that standard output is the token alone."""
    from ..core.audit import CLI_ACTOR
    from ..core.auth import issue_api_token
    from ..models import User

    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        click.echo(f"Error: no user with email {email}", err=True)
        sys.exit(2)
    try:
        with boundary(quiet=False):
            row, secret = issue_api_token(user, name, days, CLI_ACTOR)
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(secret)
    click.echo(
        f"Token {row.prefix}… for {user.email} expires {row.expires_at:%Y-%m-%d %H:%M} UTC",
        err=True,
    )


@token.command("list")
@click.option("--user", "email", default=None, help="only this user's tokens")
@with_appcontext
def token_list(email: str | None) -> None:
    """List tokens: prefix, user, name, status, expiry and last use (never the secret)."""
    from ..core.auth import token_status
    from ..models import ApiToken, User

    query = sa.select(ApiToken).join(User).order_by(User.email, ApiToken.id)
    if email:
        query = query.where(User.email == email.lower())
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("No tokens")
    for row in rows:
        used = f"{row.last_used_at:%Y-%m-%d %H:00}" if row.last_used_at else "never"
        click.echo(
            f"{row.prefix}…  {row.user.email}  {row.name}  {token_status(row)}  "
            f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC  last used {used}"
        )


@token.command("revoke")
@click.argument("token_or_prefix")
@with_appcontext
def token_revoke(token_or_prefix: str) -> None:
    """Revoke a token, given the token itself or its printed prefix."""
    from ..core.audit import CLI_ACTOR, record
    from ..core.auth import revoke_api_token

    try:
        with boundary(quiet=False):
            row = revoke_api_token(token_or_prefix)
            record(CLI_ACTOR, "revoke", "api_token", row.id, None, {"prefix": row.prefix})
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Revoked token {row.prefix}… of {row.user.email}")

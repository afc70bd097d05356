"""``sel-time export-ics|feed-link``: calendar files and feed links from the command line."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from ..core.commands import command
from ..core.errors import SelTimeError
from ..core.extensions import db


@command("export-ics")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
def export_ics_command(out_dir: str) -> None:
    """Write every feed of the published roster to files: people/, teams/, departments/,
    organisations/ (each named so a person can find theirs)."""
    import time
    from pathlib import Path

    from .service import all_feeds, rendered_feeds

    started = time.monotonic()
    total = len(all_feeds())
    with click.progressbar(
        rendered_feeds(), length=total, label="Rendering feeds", file=sys.stderr
    ) as bar:
        for _kind, _target_id, name, feed in bar:
            path = Path(out_dir) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(feed.body)
    click.echo(f"Wrote {total} feeds to {out_dir} in {time.monotonic() - started:.1f} s")


@command("feed-link")
@click.option("--user", "email", required=True, help="the user the link is issued to")
@click.option(
    "--kind", type=click.Choice(["person", "team", "department", "organisation"]), default="person"
)
@click.option(
    "--target",
    "target_id",
    type=int,
    default=None,
    help="id of the team, department or organisation (default: the user's own person)",
)
def feed_link_command(email: str, kind: str, target_id: int | None) -> None:
    """Print a new secret feed URL for a user (older links of theirs to that feed stop working)."""
    from ..core.audit import CLI_ACTOR
    from ..models import FeedKind, User
    from .routes import feed_url
    from .tokens import issue_token

    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        raise SelTimeError(f"No user with email {email}")
    if target_id is None:
        if user.person_id is None:
            raise SelTimeError("Give --target: this user is not linked to a person")
        target_id = user.person_id
    _, secret = issue_token(user, FeedKind(kind), target_id, CLI_ACTOR)
    urls = feed_url(secret)
    click.echo(urls["url"])
    click.echo(urls["webcal"], err=True)

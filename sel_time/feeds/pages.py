"""The leader's page for subscribing to their own calendar feed."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_login import current_user

from ..core.audit import Actor
from ..core.extensions import db
from ..core.transaction import boundary
from ..models import FeedKind, FeedToken, UserRole
from ..web import bp, roles_required
from . import tokens
from .routes import feed_url


def _person_id() -> int:
    if current_user.person_id is None:
        abort(403)
    return int(current_user.person_id)


@bp.route("/me/subscribe", methods=["GET", "POST"])
@roles_required(UserRole.LEADER)
def subscribe() -> str:
    pid = _person_id()
    links = None
    if request.method == "POST":
        with boundary():
            _, secret = tokens.issue_token(
                current_user, FeedKind.PERSON, pid, Actor.for_user(current_user)
            )
        links = feed_url(secret)
    active = db.session.scalar(
        sa.select(FeedToken).where(
            FeedToken.holder_user_id == current_user.id,
            FeedToken.kind == FeedKind.PERSON,
            FeedToken.target_id == pid,
            FeedToken.revoked_at.is_(None),
        )
    )
    return render_template(
        "me/subscribe.html", title="Subscribe to my protected time", links=links, active=active
    )

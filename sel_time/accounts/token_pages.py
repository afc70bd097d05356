"""The account page's API tokens: make one (shown once, with its expiry), see yours (an
administrator sees everyone's), revoke one. Every role; one transaction per request."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.auth import (
    issue_api_token,
    revoke_token_of,
    token_days_allowed,
    token_dict,
    visible_tokens,
)
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..models import ApiToken, UserRole
from ..web import bp, roles_required

SHOWN = 100  # tokens listed, newest first


def _days(raw: str, allowed: int) -> int:
    """The form's days, a whole number from 1 to ``allowed``, or a FieldError in words."""
    raw = raw.strip()
    if not raw:
        return allowed
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= allowed:
        raise SelTimeError("The token's life is not allowed", [FieldError(
            "days", f"Enter a whole number of days from 1 to {allowed}")], 422)
    return int(raw)


@bp.route("/account/tokens", methods=["GET", "POST"])
@roles_required(*UserRole)
def api_tokens() -> Any:
    allowed = token_days_allowed()
    errors: list[FieldError] = []
    created: dict[str, Any] | None = None
    values = {"name": "", "days": str(allowed)}
    if request.method == "POST":
        values = {"name": request.form.get("name", "").strip(),
                  "days": request.form.get("days", "")}
        try:
            with boundary():  # a refused token rolls back; the form shows why
                days = _days(values["days"], allowed)
                row, secret = issue_api_token(current_user, values["name"], days,
                                              Actor.for_user(current_user))
            created = {"secret": secret, **token_dict(row), "expires": row.expires_at}
            values = {"name": "", "days": str(allowed)}
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("name", exc.detail)]
    newest_first = (ApiToken.created_at.desc(), ApiToken.id.desc())
    query = visible_tokens(current_user).order_by(*newest_first).limit(SHOWN)
    tokens = [{**token_dict(r), "row": r} for r in db.session.scalars(query)]
    return render_template("account/tokens.html", title="API tokens", tokens=tokens,
                           created=created, errors=errors, values=values, allowed=allowed,
                           api_docs=url_for("api.docs"),
                           everyone=current_user.role == UserRole.ADMIN), (422 if errors else 200)


@bp.post("/account/tokens/<int:token_id>/revoke")
@roles_required(*UserRole)
def revoke_api_token_page(token_id: int) -> Any:
    row = revoke_token_of(current_user, token_id, Actor.for_user(current_user))  # 404 if not yours
    flash(f"Revoked token {row.prefix}…: it no longer works", "success")
    return redirect(url_for("web.api_tokens"))

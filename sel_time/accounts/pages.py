"""Signing in and out, and the start page for each role."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from ..core import audit
from ..core.errors import FieldError
from ..core.extensions import db
from ..core.transaction import boundary, discard
from ..models import User
from ..web import HOME, bp
from . import login_throttle

log = logging.getLogger(__name__)
SIGN_IN_ACTOR = audit.Actor("sign-in form")
DUMMY_HASH = "scrypt:32768:8:1$abcdefghijklmnop$" + "0" * 128


@bp.get("/")
def home() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    return redirect(url_for(HOME[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    errors: list[FieldError] = []
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        keys = login_throttle.Keys.of(email, request.remote_addr or "unknown")
        if not email:
            errors.append(FieldError("email", "Enter your email address"))
        if not password:
            errors.append(FieldError("password", "Enter your password"))
        refusal = login_throttle.refusal(keys) if not errors else None
        if refusal is not None:
            discard()  # a refused attempt writes nothing: it cannot renew a wait
            log.info("Sign-in refused for %s s (%s)", refusal.seconds, refusal.scope)
            errors.append(FieldError("email", refusal.message))
            page = render_template("login.html", title="Sign in", errors=errors, email=email)
            return page, 429, {"Retry-After": str(refusal.seconds)}
        if not errors:
            login_throttle.pause(login_throttle.account_delay(keys))
            user = db.session.scalar(sa.select(User).where(User.email == email))
            ok = check_password_hash(
                user.password_hash if user and user.password_hash else DUMMY_HASH, password
            )
            if user is not None and user.active and user.password_hash and ok:
                with boundary():
                    login_throttle.clear(keys)
                    login_user(user)
                target = request.args.get("next", "")
                if not target.startswith("/") or target.startswith("//"):
                    target = url_for("web.home")
                return redirect(target)
            with boundary():  # the failure counts, in every process, whatever happens next
                _record_failure(keys, user)
            errors.append(FieldError("email", "The email address or password is not right"))
        else:
            discard()
        return render_template("login.html", title="Sign in", errors=errors, email=email), 400
    return render_template("login.html", title="Sign in", errors=errors, email=email)


def _record_failure(keys: login_throttle.Keys, user: User | None) -> None:
    """Count the failure and write it to the audit trail, with the wait it starts if any.
    Neither the password nor the email or address typed is kept: only the throttle's
    digests, and the account's id when the email names one."""
    started = login_throttle.record_failure(keys)
    user_id = user.id if user is not None else None
    who = {"email_sha256": keys.account, "address_sha256": keys.address}
    audit.record(SIGN_IN_ACTOR, "sign_in_failed", "user", user_id, new=who)
    if started is not None:
        log.warning("Sign-in throttled for %s s (%s)", started.seconds, started.scope)
        audit.record(
            SIGN_IN_ACTOR,
            "sign_in_throttled",
            "user",
            user_id,
            new={**who, "scope": started.scope, "seconds": started.seconds},
        )


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("web.login"))

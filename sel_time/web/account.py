"""Signing in and out, and the start page for each role."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from ..errors import FieldError
from ..extensions import db
from ..models import User
from ..services import login_throttle
from . import HOME, bp

DUMMY_HASH = "scrypt:32768:8:1$abcdefghijklmnop$" + "0" * 128


@bp.get("/")
def home() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    return redirect(url_for(HOME[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    errors: list[FieldError] = []
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        keys = (f"email:{email}", f"ip:{request.remote_addr}")
        if not email:
            errors.append(FieldError("email", "Enter your email address"))
        if not password:
            errors.append(FieldError("password", "Enter your password"))
        if not errors and login_throttle.blocked(*keys):
            db.session.rollback()
            errors.append(FieldError("email", "Too many failed attempts: wait 15 minutes and try again"))
            return render_template("login.html", title="Sign in", errors=errors, email=email), 429
        if not errors:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            ok = check_password_hash(user.password_hash if user and user.password_hash else DUMMY_HASH, password)
            if user is not None and user.active and user.password_hash and ok:
                login_throttle.clear(f"email:{email}")
                login_user(user)
                db.session.commit()
                target = request.args.get("next", "")
                if not target.startswith("/") or target.startswith("//"):
                    target = url_for("web.home")
                return redirect(target)
            login_throttle.record_failure(*keys)
            db.session.commit()  # the failure counts, in every process, whatever happens next
            errors.append(FieldError("email", "The email address or password is not right"))
        else:
            db.session.rollback()
        return render_template("login.html", title="Sign in", errors=errors, email=email), 400
    return render_template("login.html", title="Sign in", errors=errors, email=email)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("web.login"))

"""Signing in and out, and the start page for each role."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import User
from ..errors import FieldError
from . import HOME, bp

MAX_FAILURES = 5
WINDOW = 15 * 60  # seconds


class LoginThrottle:
    """After 5 failed sign-ins for one email (or from one address) in 15 minutes, further
    attempts are refused until the window passes, whatever the password."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and now - q[0] > WINDOW:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= MAX_FAILURES for k in keys)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


throttle = LoginThrottle()
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
        if not errors and throttle.blocked(*keys):
            errors.append(FieldError("email", "Too many failed attempts: wait 15 minutes and try again"))
            return render_template("login.html", title="Sign in", errors=errors, email=email), 429
        if not errors:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            ok = check_password_hash(user.password_hash if user and user.password_hash else DUMMY_HASH, password)
            if user is not None and user.active and user.password_hash and ok:
                throttle.clear(f"email:{email}")
                login_user(user)
                db.session.commit()
                target = request.args.get("next", "")
                if not target.startswith("/") or target.startswith("//"):
                    target = url_for("web.home")
                return redirect(target)
            throttle.fail(*keys)
            errors.append(FieldError("email", "The email address or password is not right"))
        db.session.rollback()
        return render_template("login.html", title="Sign in", errors=errors, email=email), 400
    return render_template("login.html", title="Sign in", errors=errors, email=email)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You have signed out", "success")
    return redirect(url_for("web.login"))

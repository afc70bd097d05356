"""Pages: "Your data" on the account (download everything held about you, JSON or
spreadsheet), the privacy notice (what is held, why, for how long), and an administrator's
erasure of a leaver, with a confirmation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.errors import FieldError, NotFound
from ..core.extensions import db
from ..core.transaction import boundary, read_only
from ..models import Person, User, UserRole
from ..web import bp, roles_required
from .downloads import download
from .erasure import erase_person
from .retention import RULES, period_days
from .subject import subject_data


@bp.get("/account/data")
@roles_required(*UserRole)
def my_data_page() -> Any:
    with read_only():
        data = subject_data(user_id=current_user.id)
        counts = {name: len(rows) for name, rows in data.tables.items()}
    return render_template("privacy/my_data.html", title="Your data", counts=counts)


@bp.get("/account/data.<fmt>")
@roles_required(*UserRole)
def my_data_download(fmt: str) -> Any:
    if fmt not in ("json", "xlsx"):
        return redirect(url_for("web.my_data_page"))
    return download(Actor.for_user(current_user), fmt, user_id=current_user.id)


@bp.get("/privacy")
def privacy_notice() -> Any:
    periods = []
    for rule in RULES:
        days = period_days(rule, current_app.config)
        periods.append({"label": rule.label, "days": days,
                        "setting": "SEL_TIME_" + rule.setting})
    return render_template("privacy/notice.html", title="Your personal data in sel-time",
                           periods=periods)


@bp.route("/manage/people/<int:ident>/erase", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def erase_person_page(ident: int) -> Any:
    person = db.session.get(Person, ident)
    if person is None:
        raise NotFound(f"There is no person {ident}")
    users = db.session.scalars(sa.select(User).where(User.person_id == ident)).all()
    errors: list[FieldError] = []
    typed = ""
    if request.method == "POST":
        typed = request.form.get("confirm_email", "").strip()
        if request.form.get("understood") != "yes":
            errors.append(FieldError("understood", "Confirm that you understand erasure cannot "
                                                   "be undone"))
        if typed.lower() != person.email.lower():
            errors.append(FieldError("confirm_email",
                                     "Type the person's email address exactly as shown"))
        if current_user.person_id == ident:
            errors.append(FieldError("understood", "You cannot erase yourself: ask another "
                                                   "administrator"))
        if not errors:
            with boundary():
                report = erase_person(ident, Actor.for_user(current_user))
            flash(f"Erased: the person is now “{report.pseudonym}”; their sign-in and calendar "
                  "links no longer work", "success")
            return redirect(url_for("web.people"))
    return render_template("privacy/erase.html", title="Erase a leaver’s personal data",
                           person=person, users=users, errors=errors, typed=typed), (
        422 if errors else 200)

"""Pages: a leader's change page for one session (ranked alternatives, swap, give back, team
session), their requests and mail preferences; the rota managers' queue (oldest first), each
organisation's approval rule, and protected time recovered beside time lost."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.clock import now_utc
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.slots import slot_label
from ..core.transaction import boundary
from ..models import Attendance, Organisation, Outcome, ProtectedSession, RosterStatus, UserRole
from ..web import MANAGERS, bp, roles_required
from . import dashboard, preferences, service
from .models import ChangeRequest, RequestStatus, SessionsBy

LEADERS = (UserRole.LEADER,)
LOSSES = [(Outcome.LOST_CLINICAL.value, "Clinical or care pressure"),
          (Outcome.LOST_SICKNESS.value, "I will be off sick"),
          (Outcome.LOST_OTHER.value, "Another reason")]


def _int(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _colleagues(att: Attendance) -> list[tuple[int, str]]:
    """Sessions of colleagues in the same department or a shared team that could be swapped
    with: (attendance id, "Name – Thu 29 Apr AM")."""
    from ..models import Person, team_member

    me = att.person
    teams = sa.select(team_member.c.team_id).where(team_member.c.person_id == me.id)
    mates = sa.select(team_member.c.person_id).where(team_member.c.team_id.in_(teams))
    q = (sa.select(Attendance).join(ProtectedSession).join(Person, Attendance.person_id ==
                                                          Person.id)
         .where(ProtectedSession.status == RosterStatus.CONFIRMED,
                ProtectedSession.team_id.is_(None), Attendance.person_id != me.id,
                ProtectedSession.start_at > now_utc(),
                sa.or_(Person.id.in_(mates),
                       sa.and_(Person.department_id.isnot(None),
                               Person.department_id == me.department_id)))
         .order_by(ProtectedSession.start_at).limit(60))
    return [(a.id, f"{a.person.name} – {slot_label(a.session.slot)}")
            for a in db.session.scalars(q)]


def _change_page(att_id: int, errors: list[FieldError], status: int = 200,
                 form: dict[str, str] | None = None) -> tuple[str, int]:
    att, options = service.options(current_user, att_id)
    session = att.session
    what = (f"Team: {session.team.name}" if session.team else
            (session.assignment.role.title if session.assignment else "Protected time"))
    refusal = service.team_move_refusal(current_user, att)
    return render_template(
        "requests/change.html", title="Change a session", att=att, session=session,
        what=what, when=slot_label(session.slot), options=options,
        move_refused=service.who_moves(session.team) if refusal and session.team else None,
        colleagues=[] if session.team else _colleagues(att), losses=LOSSES,
        errors=errors, form=form or {}), status


@bp.get("/me/sessions/<int:att_id>/change")
@roles_required(*LEADERS, *MANAGERS)
def change_session(att_id: int) -> Any:
    try:
        return _change_page(att_id, [])
    except SelTimeError as exc:
        flash(exc.detail + (": " + "; ".join(e.message for e in exc.errors)
                            if exc.errors else ""), "error")
        return redirect(url_for("web.my_requests"))


@bp.post("/me/sessions/<int:att_id>/change")
@roles_required(*LEADERS, *MANAGERS)
def ask_change(att_id: int) -> Any:
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    data: dict[str, Any] = {"kind": form.get("kind", ""), "attendance_id": att_id}
    if form.get("to_slot"):
        data["to_slot"] = form["to_slot"]
    if "partner_attendance_id" in form:
        data["partner_attendance_id"] = _int("partner_attendance_id") or form[
            "partner_attendance_id"]
    if form.get("outcome"):
        data["outcome"] = form["outcome"]
    if "reason" in form:
        data["reason"] = form["reason"]
    try:
        with boundary():
            req = service.ask(current_user, data)
            status = req.status
    except SelTimeError as exc:
        errors = exc.errors or [FieldError("kind", exc.detail)]
        return _change_page(att_id, errors, exc.status if exc.status != 409 else 409, form)
    message = {
        RequestStatus.APPROVED: "Done: your calendar will show the change",
        RequestStatus.PENDING: "Asked: a rota manager will decide, and you will be told",
        RequestStatus.AWAITING_PARTNER: "Asked: your colleague must accept the swap",
    }.get(status, "Asked")
    flash(message, "success")
    return redirect(url_for("web.my_requests"))


@bp.get("/me/requests")
@roles_required(*LEADERS)
def my_requests() -> str:
    mine = service.mine(current_user)
    return render_template(
        "requests/mine.html", title="My requests", requests=mine,
        to_answer=[r for r in mine if r.partner_person_id == current_user.person_id
                   and r.status == RequestStatus.AWAITING_PARTNER],
        pref=preferences.get(current_user), sessions_by=[s.value for s in SessionsBy],
        label=slot_label, errors=[])


@bp.post("/me/requests/<int:request_id>/answer")
@roles_required(*LEADERS)
def answer_swap(request_id: int) -> Any:
    try:
        with boundary():
            service.answer_swap(current_user, request_id, request.form.get("accept") == "1")
        flash("Your answer was saved", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.my_requests"))


@bp.post("/me/requests/<int:request_id>/withdraw")
@roles_required(*LEADERS)
def withdraw_request(request_id: int) -> Any:
    try:
        with boundary():
            service.withdraw(current_user, request_id)
        flash("Request withdrawn", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.my_requests"))


@bp.post("/me/mail-preferences")
@roles_required()
def save_preferences() -> Any:
    data: dict[str, Any] = {"sessions_by": request.form.get("sessions_by", "")}
    for flag in preferences.FLAGS:
        data[flag] = request.form.get(flag) == "1"
    try:
        with boundary():
            preferences.update(current_user, data, Actor.for_user(current_user))
        flash("Your e-mail choices were saved", "success")
    except SelTimeError as exc:
        flash("; ".join(e.message for e in exc.errors) or exc.detail, "error")
    back = "web.manage_requests" if current_user.role in MANAGERS else "web.my_requests"
    return redirect(url_for(back))


def _queue_page(errors: list[FieldError], status: int = 200) -> tuple[str, int]:
    queue = service.waiting()
    organisations = db.session.scalars(sa.select(Organisation).order_by(Organisation.name))
    rules = [(o, service.rule_for(o.id)) for o in organisations]
    return render_template(
        "requests/queue.html", title="Requests", queue=queue, rules=rules,
        recovered=dashboard.recovered_and_lost("organisation"),
        by_profession=dashboard.recovered_and_lost("profession"), label=slot_label,
        pref=preferences.get(current_user), sessions_by=[s.value for s in SessionsBy],
        errors=errors), status


@bp.get("/manage/requests")
@roles_required(*MANAGERS)
def manage_requests() -> Any:
    return _queue_page([])


@bp.post("/manage/requests/<int:request_id>/decision")
@roles_required(*MANAGERS)
def decide_request(request_id: int) -> Any:
    approve = request.form.get("decision") == "approve"
    try:
        with boundary():
            req: ChangeRequest = service.decide(current_user, request_id, approve,
                                                request.form.get("reason"))
            status = req.status
    except SelTimeError as exc:
        errors = [FieldError(f"reason-{request_id}" if e.field == "reason" else e.field,
                             e.message) for e in exc.errors] or [
            FieldError(f"reason-{request_id}", exc.detail)]
        return _queue_page(errors, exc.status)
    flash(f"Request {request_id} {status.value}", "success")
    return redirect(url_for("web.manage_requests"))


@bp.post("/manage/approval-rules")
@roles_required(*MANAGERS)
def save_rule() -> Any:
    org = _int("organisation_id")
    raw = request.form.get("max_rise", "").strip().lstrip("£")
    try:
        rise = float(raw) if raw else 0.0
    except ValueError:
        rise = -1.0
    errors: list[FieldError] = []
    if org is None or db.session.get(Organisation, org) is None:
        errors.append(FieldError("organisation_id", "Choose an organisation"))
    if not 0 <= rise <= 10000 or rise != rise:
        errors.append(FieldError(f"max_rise-{org}", "Enter the most a session's backfill cost "
                                 "may rise, in pounds, from 0 to 10000"))
    if errors:
        return _queue_page(errors, 422)
    assert org is not None
    with boundary():
        service.set_rule(org, request.form.get("auto_approve") == "1", round(rise * 100),
                         Actor.for_user(current_user))
    flash("Approval rule saved", "success")
    return redirect(url_for("web.manage_requests"))

"""Pages for leaders: my protected time (upcoming and past, record whether it was taken,
book leave, half-days I would rather avoid). Subscribing to my calendar feed is in
:mod:`sel_time.feeds.pages`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.clock import LONDON, now_utc
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.slots import slot_label
from ..core.transaction import boundary
from ..directory import leave as leave_service
from ..directory import records
from ..models import (
    WEEKDAYS,
    Attendance,
    AvoidPreference,
    Outcome,
    ProtectedSession,
    RosterStatus,
    UserRole,
)
from ..web import bp, roles_required
from ..web.formats import day_half, label, place, slot, times
from ..web.forms import in_words
from . import recording


def _person_id() -> int:
    if current_user.person_id is None:
        abort(403)
    return int(current_user.person_id)


@bp.get("/me")
@roles_required(UserRole.LEADER)
def my_time() -> str:
    pid = _person_id()
    now = now_utc()
    rows = db.session.execute(
        sa.select(Attendance, ProtectedSession)
        .join(ProtectedSession)
        .where(Attendance.person_id == pid, ProtectedSession.status == RosterStatus.CONFIRMED)
        .order_by(ProtectedSession.start_at)
    ).all()
    upcoming: dict[str, list[dict[str, Any]]] = defaultdict(list)
    past = []
    for att, s in rows:
        what = (
            f"Team: {s.team.name}"
            if s.team
            else (s.assignment.role.title if s.assignment else "Protected time")
        )
        item = {
            "id": att.id,
            "what": what,
            "label": slot_label(s.slot),
            "slot": s.slot,
            "start": s.start_at.astimezone(LONDON),
            "times": times(s.start_at, s.end_at),
            "place": place(s),
            "outcome": att.outcome.value if att.outcome else None,
            "fraction": att.fraction_taken,
            "note": att.note,
        }
        if s.start_at > now:
            upcoming[what].append(item)
        else:
            past.append(item)
    person = current_user.person
    prefs = db.session.scalars(
        sa.select(AvoidPreference)
        .where(AvoidPreference.person_id == pid)
        .order_by(AvoidPreference.weekday, AvoidPreference.half)
    ).all()
    leave = [
        records.ENTITIES["absences"].to_dict(a)
        for a in sorted(person.absences, key=lambda a: a.start_date)
    ]
    summary = recording.planned_vs_delivered("role", None, None, pid)
    return render_template(
        "me/time.html",
        title="My protected time",
        upcoming=dict(upcoming),
        past=list(reversed(past))[:40],
        prefs=[(p.id, WEEKDAYS[p.weekday], p.half.value) for p in prefs],
        leave=leave,
        outcomes=[o.value for o in Outcome],
        summary=summary,
        weekdays=WEEKDAYS[:5],
        today=now.astimezone(LONDON).date().isoformat(),
        errors=[],
    )


@bp.post("/me/attendances/<int:att_id>")
@roles_required(UserRole.LEADER)
def record_my_session(att_id: int) -> Any:
    try:
        with boundary():  # a refused record rolls back; the page says why
            att = recording.attendance_for(current_user, att_id)
            outcome = request.form.get("outcome", "")
            if not outcome:  # nothing is assumed: an unanswered session stays unrecorded
                raise SelTimeError(
                    "Say whether you got the time",
                    [FieldError(f"outcome-{att_id}", "Choose whether you got this protected time")],
                    422,
                )
            fraction = None
            if outcome == Outcome.PARTIAL.value:
                try:
                    fraction = int(request.form.get("percent", "")) / 100
                except ValueError:
                    raise SelTimeError(
                        "Say how much",
                        [
                            FieldError(
                                f"percent-{att_id}",
                                "Enter the percentage of the session you took, 1 to 99",
                            )
                        ],
                        422,
                    ) from None
            recording.record_delivery(
                att,
                outcome,
                fraction,
                request.form.get("note") or None,
                Actor.for_user(current_user),
            )
        flash(f"Recorded {slot(att.session.slot)}: {label(outcome).lower()}", "success")
    except SelTimeError as exc:
        flash("; ".join(e.message for e in exc.errors) or exc.detail, "error")
    return redirect(url_for("web.my_time"))  # the confirmation sits at the top and takes focus


@bp.post("/me/leave")
@roles_required(UserRole.LEADER)
def book_leave() -> Any:
    payload: dict[str, str | int] = {
        k: v
        for k, v in request.form.items()
        if k in ("kind", "start_date", "start_half", "end_date", "end_half", "note") and v
    }
    payload["person_id"] = _person_id()
    try:
        with boundary():  # a refused booking rolls back; the page says why
            absence = records.create(
                records.ENTITIES["absences"], payload, Actor.for_user(current_user)
            )
            covered = [slot(s.slot) for s in leave_service.sessions_covered(absence)]
        flash("Leave booked: the next plan will keep that time free", "success")
        if covered:
            flash(
                f"Your leave falls on {len(covered)} published protected "
                f"session{'s' if len(covered) != 1 else ''} ({', '.join(covered[:6])}"
                f"{', …' if len(covered) > 6 else ''}). They stay in your calendar until your "
                "rota manager re-plans: tell them, or record the time as lost afterwards.",
                "warning",
            )
    except SelTimeError as exc:
        flash(
            "Leave not booked. "
            + (" ".join(f"{e.message}." for e in in_words(exc.errors)) or exc.detail),
            "error",
        )
    return redirect(url_for("web.my_time") + "#leave")


@bp.post("/me/leave/<int:absence_id>/cancel")
@roles_required(UserRole.LEADER)
def cancel_leave(absence_id: int) -> Any:
    try:
        with boundary():  # someone else's leave, or a refused delete, changes nothing
            actor = Actor.for_user(current_user)
            absence = leave_service.cancel_own(_person_id(), absence_id, actor)
        flash(
            f"Leave cancelled: {label(absence.kind).lower()} from "
            f"{day_half(absence.start_date, absence.start_half.value)} to "
            f"{day_half(absence.end_date, absence.end_half.value)}",
            "success",
        )
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.my_time") + "#leave")


@bp.post("/me/preferences")
@roles_required(UserRole.LEADER)
def add_preference() -> Any:
    pid = _person_id()
    try:
        with boundary():  # a refused change rolls back; the page says why
            if request.form.get("remove"):
                raw = request.form["remove"]  # an id: ASCII digits within 32 bits, else none
                ok = raw.isascii() and raw.isdigit() and int(raw) <= 2**31 - 1
                pref = db.session.get(AvoidPreference, int(raw)) if ok else None
                if pref is None or pref.person_id != pid:
                    abort(404)
                records.delete(records.ENTITIES["preferences"], pref, Actor.for_user(current_user))
            else:
                records.create(
                    records.ENTITIES["preferences"],
                    {
                        "person_id": pid,
                        "day": request.form.get("day"),
                        "half": request.form.get("half"),
                    },
                    Actor.for_user(current_user),
                )
        flash("Preferences saved", "success")
    except SelTimeError as exc:
        flash(" ".join(f"{e.message}." for e in in_words(exc.errors)) or exc.detail, "error")
    return redirect(url_for("web.my_time") + "#avoid")

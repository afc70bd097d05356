"""The rota manager's dashboard page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import render_template, request

from ..core.clock import LONDON, now_utc, today_london
from ..core.extensions import db
from ..finance.backfill import fy_quarter
from ..models import (
    Attendance,
    Outcome,
    Plan,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
)
from ..nightly.scheduler import last_success
from ..web import MANAGERS, bp, roles_required

SHORTFALLS_SHOWN = 50  # the rest behind "show all"


def quarter_bounds(day: date) -> tuple[date, date]:
    q_start_month = ((day.month - 1) // 3) * 3 + 1
    first = date(day.year, q_start_month, 1)
    nxt = date(day.year + (q_start_month == 10), (q_start_month + 2) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


@bp.get("/manage")
@roles_required(*MANAGERS)
def manage_dashboard() -> str:
    today = today_london()
    first, last = quarter_bounds(today)
    live_plans = list(
        db.session.scalars(sa.select(Plan).where(Plan.status == PlanStatus.PUBLISHED))
    )
    shortfalls = [
        s
        for p in live_plans
        for s in p.shortfalls
        if s.window_to >= first and s.window_from <= last
    ]
    short_ids = {s.assignment_id for s in shortfalls if s.assignment_id}
    q_start = datetime.combine(first, time()).replace(tzinfo=LONDON)
    q_end = datetime.combine(last + timedelta(days=1), time()).replace(tzinfo=LONDON)
    rows = db.session.execute(
        sa.select(ProtectedSession.assignment_id, ProtectedSession.end_at, Attendance.outcome)
        .join(Attendance, Attendance.session_id == ProtectedSession.id)
        .where(
            ProtectedSession.status == RosterStatus.CONFIRMED,
            ProtectedSession.assignment_id.is_not(None),
            ProtectedSession.start_at >= q_start,
            ProtectedSession.start_at < q_end,
        )
    ).all()
    now = now_utc()
    at_risk: set[int] = set()
    planned: set[int] = set()
    for aid, end_at, outcome in rows:
        assert aid is not None  # the query keeps sessions of an assignment only
        planned.add(aid)
        lost = outcome is not None and outcome not in (Outcome.TAKEN, Outcome.PARTIAL)
        overdue = outcome is None and end_at < now - timedelta(days=7)
        if lost or overdue:
            at_risk.add(aid)
    at_risk -= short_ids
    met = planned - short_ids - at_risk
    refresh = last_success()
    return render_template(
        "manage/dashboard.html",
        title="Rota manager dashboard",
        quarter=fy_quarter(first),
        first=first,
        last=last,
        met=len(met),
        short=len(short_ids),
        at_risk=len(at_risk),
        shortfalls=sorted(shortfalls, key=lambda s: (s.window_from, s.explanation))[
            : None if request.args.get("shortfalls") == "all" else SHORTFALLS_SHOWN
        ],
        total_shortfalls=len(shortfalls),
        refresh=refresh,
        drafts=db.session.scalars(
            sa.select(Plan).where(Plan.status == PlanStatus.DRAFT).order_by(Plan.id.desc()).limit(5)
        ).all(),
        warnings=[w for p in live_plans for w in (p.warnings or [])],
        london=LONDON,
    )

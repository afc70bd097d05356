"""Pages for rota managers: the dashboard, the directory (people, roles, assignments, teams,
departments, leave) and plans from generation to publication (the spreadsheet upload
page is in sel_time.imports.pages)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import defer, selectinload
from werkzeug.wrappers import Response as BaseResponse

from ..core.audit import Actor
from ..core.cache import VersionedCache
from ..core.clock import LONDON, now_utc, today_london
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..finance.backfill import fy_quarter
from ..models import (
    WEEKDAYS,
    Attendance,
    Organisation,
    Outcome,
    Person,
    Plan,
    PlanSession,
    PlanStatus,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
)
from ..nightly.scheduler import last_success
from ..plans import planning, publishing
from ..plans import tasks as plan_tasks
from ..plans.fairness import plan_profession_shares
from ..plans.hand_edits import move_options
from ..web import MANAGERS, bp, roles_required
from ..web.compress import MARKER, Fragment, accepts_gzip, gzip_page, join_page
from ..web.forms import fields_for, form_values, payload_from_form
from . import records

PAGES = {  # url name → (entity, title, columns shown in the list)
    "people": ("people", "People", ["name", "email", "profession", "staff_group", "fte"]),
    "roles": (
        "roles",
        "Leadership roles",
        ["title", "code", "level", "commitment_amount", "commitment_unit", "commitment_per"],
    ),
    "assignments": (
        "assignments",
        "Role assignments",
        ["person_id", "role_id", "start_date", "end_date", "share"],
    ),
    "teams": (
        "teams",
        "Teams",
        ["name", "code", "kind", "sessions_amount", "sessions_per", "quorum"],
    ),
    "departments": (
        "departments",
        "Departments and services",
        ["name", "code", "organisation_id", "max_away"],
    ),
    "leave": (
        "absences",
        "Leave and fixed commitments",
        ["person_id", "kind", "start_date", "start_half", "end_date", "end_half"],
    ),
}


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
        shortfalls=sorted(shortfalls, key=lambda s: (s.window_from, s.explanation))[:50],
        total_shortfalls=len(shortfalls),
        refresh=refresh,
        drafts=db.session.scalars(
            sa.select(Plan).where(Plan.status == PlanStatus.DRAFT).order_by(Plan.id.desc()).limit(5)
        ).all(),
        warnings=[w for p in live_plans for w in (p.warnings or [])],
        london=LONDON,
    )


# -- the directory ---------------------------------------------------------------------------------


def _page(name: str) -> tuple[records.Entity, str, list[str]]:
    if name not in PAGES:
        abort(404)
    entity_name, title, columns = PAGES[name]
    return records.ENTITIES[entity_name], title, columns


def _names(entity: records.Entity, items: list[dict[str, Any]]) -> dict[str, dict[int, str]]:
    """Show referenced records by name, not id."""
    from ..web.forms import REFERENCES, reference_options

    refs: dict[str, dict[int, str]] = {}
    for col in {c for item in items for c in item if c in REFERENCES}:
        refs[col] = {int(i): n for i, n in reference_options(REFERENCES[col])}
    return refs


@bp.get("/manage/<page>")
@roles_required(*MANAGERS)
def directory(page: str) -> str:
    entity, title, columns = _page(page)
    q = request.args.get("q", "").strip()
    query: sa.Select[Any] = sa.select(entity.model)
    if q and entity.search:
        pattern = f"%{q.lower()}%"
        query = query.where(
            sa.or_(*[sa.func.lower(getattr(entity.model, c)).like(pattern) for c in entity.search])
        )
    if q and entity.owner == "person_id":
        pattern = f"%{q.lower()}%"
        query = query.join(Person, Person.id == getattr(entity.model, entity.owner)).where(
            sa.func.lower(Person.name).like(pattern)
        )
    page_no = min(max(1, request.args.get("page", 1, type=int) or 1), 100000)  # offsets in range
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    items = [
        entity.to_dict(o)
        for o in db.session.scalars(
            query.order_by(*[getattr(entity.model, c) for c in entity.order_by])
            .limit(50)
            .offset((page_no - 1) * 50)
        )
    ]
    return render_template(
        "manage/directory.html",
        title=title,
        page=page,
        columns=columns,
        items=items,
        refs=_names(entity, items),
        q=q,
        page_no=page_no,
        total=total,
        searchable=bool(entity.search) or entity.owner == "person_id",
    )


@bp.route("/manage/<page>/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def directory_new(page: str) -> Any:
    entity, title, _ = _page(page)
    fields = fields_for(entity.create_schema)
    values: dict[str, str] = {k: v for k, v in request.args.items()}
    errors: list[FieldError] = []
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with boundary():  # a refused change rolls back; the form shows why
                obj = records.create(
                    entity,
                    payload_from_form(fields, request.form, partial=False),
                    Actor.for_user(current_user),
                )
            flash(f"Saved {entity.label} {obj.id}", "success")
            return redirect(url_for("web.directory", page=page))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("body", exc.detail)]
    return render_template(
        "manage/form.html",
        title=f"Add {entity.label}",
        page=page,
        fields=fields,
        values=values,
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/manage/<page>/<int:ident>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def directory_edit(page: str, ident: int) -> Any:
    entity, title, _ = _page(page)
    obj = db.session.get(entity.model, ident)
    if obj is None:
        abort(404)
    fields = fields_for(entity.create_schema, skip=("password",))
    values = form_values(entity.to_dict(obj))
    errors: list[FieldError] = []
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with boundary():  # a refused change rolls back; the form shows why
                records.update(
                    entity,
                    obj,
                    payload_from_form(fields, request.form, partial=True),
                    Actor.for_user(current_user),
                )
            flash(f"Saved {entity.label} {ident}", "success")
            return redirect(url_for("web.directory", page=page))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("body", exc.detail)]
    return render_template(
        "manage/form.html",
        title=f"Edit {entity.label}",
        page=page,
        fields=fields,
        values=values,
        errors=errors,
        ident=ident,
    ), (422 if errors else 200)


@bp.get("/manage/people", endpoint="people")
@roles_required(*MANAGERS)
def people() -> Response:
    return directory("people")  # type: ignore[return-value]


@bp.get("/manage/roles", endpoint="roles")
@roles_required(*MANAGERS)
def roles() -> Response:
    return directory("roles")  # type: ignore[return-value]


@bp.get("/manage/teams", endpoint="teams")
@roles_required(*MANAGERS)
def teams() -> Response:
    return directory("teams")  # type: ignore[return-value]


# -- plans -----------------------------------------------------------------------------------------


def _next_monday() -> date:
    today = today_london()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


@bp.route("/manage/plans", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plans() -> Any:
    errors: list[FieldError] = []
    values = {
        "start": _next_monday().isoformat(),
        "weeks": "12",
        "scope": "system",
        "time_limit": str(int(current_app.config["SOLVER_TIME_LIMIT"])),
    }
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with boundary():  # committed, then queued for a worker
                plan = plan_tasks.queue_solve(_request_plan(values))
            return redirect(url_for("web.plan_page", plan_id=plan.id))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("scope", exc.detail)]
    scopes = [("system", "The whole system")] + [
        (f"organisation:{o.code}", o.name)
        for o in db.session.scalars(sa.select(Organisation).order_by(Organisation.name))
    ]
    items = [
        planning.plan_summary(p)
        for p in db.session.scalars(sa.select(Plan).order_by(Plan.id.desc()).limit(30))
    ]
    return render_template(
        "manage/plans.html", title="Plans", items=items, errors=errors, values=values, scopes=scopes
    ), (422 if errors else 200)


def _request_plan(values: dict[str, str]) -> Plan:
    """Queue the plan the form asks for (flushed), or say which field is wrong."""
    try:
        start = date.fromisoformat(values.get("start", ""))
    except ValueError:
        raise SelTimeError(
            "The start is not a date",
            [FieldError("start", "Enter the first day as a date, for example 30 11 2026")],
            422,
        ) from None
    try:
        weeks = int(values.get("weeks", ""))
        limit = float(values.get("time_limit", "") or current_app.config["SOLVER_TIME_LIMIT"])
    except ValueError:
        raise SelTimeError(
            "Numbers needed",
            [FieldError("weeks", "Enter whole numbers for weeks and seconds")],
            422,
        ) from None
    return planning.request_plan(
        start, weeks, values.get("scope") or "system", limit, Actor.for_user(current_user)
    )


def _grid(plan: Plan, org_id: int | None) -> dict[str, Any]:
    """People × weeks, each week ten half-day cells, with cost per person and in total."""
    problem = plan.problem or {}
    weeks = [plan.start_date + timedelta(weeks=i) for i in range(plan.weeks)]
    cells: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    cost: dict[int, int] = defaultdict(int)
    for s in plan.sessions:
        if s.person_id is not None:
            cells[s.person_id][s.slot] = {
                "kind": "session",
                "id": s.id,
                "pinned": s.pinned,
                "title": s.assignment.role.title if s.assignment else "",
            }
            cost[s.person_id] += s.cost_pence
        else:
            for a in s.attendees:
                if a.attending:
                    cells[a.person_id][s.slot] = {
                        "kind": "team",
                        "id": s.id,
                        "pinned": s.pinned,
                        "title": s.team.name if s.team else "",
                    }
                    cost[a.person_id] += a.cost_pence
    pids = [int(p["id"][1:]) for p in problem.get("people", [])]
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(pids)))}
    shown = sorted(
        (p for p in people.values() if org_id is None or p.organisation_id == org_id),
        key=lambda p: p.name,
    )
    available = {int(p["id"][1:]): set(p["available"]) for p in problem.get("people", [])}
    return {
        "weeks": weeks,
        "people": shown,
        "cells": cells,
        "cost": cost,
        "available": available,
        "total": sum(cost[p.id] for p in shown),
        "halves": ["AM", "PM"],
        "days": range(5),
    }


@bp.get("/manage/plans/<int:plan_id>")
@roles_required(*MANAGERS)
def plan_page(plan_id: int) -> Response:
    # the problem and solution documents are large: read them only when the grid is built
    plan = db.session.get(Plan, plan_id, options=[defer(Plan.problem), defer(Plan.solution)])
    if plan is None:
        abort(404)
    orgs = db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all()
    org_id = request.args.get("org", type=int)
    # a large plan opens on one organisation; "All" (``?org=``) still shows everyone
    if (
        org_id is None
        and "org" not in request.args
        and orgs
        and plan.problem
        and len(plan.problem.get("people", [])) > 60
    ):
        org_id = orgs[0].id
    solving = plan.status in (PlanStatus.QUEUED, PlanStatus.RUNNING)

    def derived() -> dict[str, Any]:
        # one query per relationship the grid reads, not one per session
        db.session.scalars(
            sa.select(PlanSession)
            .where(PlanSession.plan_id == plan.id)
            .options(
                selectinload(PlanSession.assignment).selectinload(RoleAssignment.role),
                selectinload(PlanSession.team),
                selectinload(PlanSession.attendees),
            )
        ).all()
        grid = _grid(plan, org_id) if plan.problem and not solving else None
        html = (
            render_template("manage/_plan_grid.html", grid=grid, plan=plan, weekdays=WEEKDAYS)
            if grid
            else ""
        )
        return {
            "summary": planning.plan_summary(plan),
            "grid": grid is not None,
            "grid_fragment": Fragment.of(html),
            "shortfalls": [planning.shortfall_dict(s) for s in plan.shortfalls][:100],
            "shares": None if solving else plan_profession_shares(plan),
        }

    # The summary and grid of a plan that is not solving change only with a write (every one
    # is audited): render them once per state and organisation, not on every request, and
    # deflate the grid once for the browsers that accept gzip (all of them).
    key = (plan.id, plan.status.value, plan.edits, plan.finished_at, plan.published_at, org_id)
    page = derived() if solving else PLAN_PAGES.get(key, derived)
    fragment: Fragment = page["grid_fragment"]
    html = render_template(
        "manage/plan.html",
        title=f"Plan {plan.id}",
        plan=plan,
        summary=page["summary"],
        grid=page["grid"],
        grid_html=Markup(MARKER),
        orgs=orgs,
        org_id=org_id,
        weekdays=WEEKDAYS,
        shortfalls=page["shortfalls"],
        shares=page["shares"],
    )
    gzip = accepts_gzip(request)
    response = Response(
        gzip_page(html, fragment) if gzip else join_page(html, fragment), mimetype="text/html"
    )
    if gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


PLAN_PAGES = VersionedCache(size=16)


@bp.route("/manage/plans/<int:plan_id>/sessions/<int:sid>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plan_session_page(plan_id: int, sid: int) -> Any:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    session = next((s for s in plan.sessions if s.id == sid), None)
    if session is None:
        abort(404)
    errors: list[FieldError] = []
    if request.method == "POST":
        action = request.form.get("action")
        actor = Actor.for_user(current_user)
        try:
            with boundary():  # a refused change rolls back; the page shows why
                if action == "pin":
                    planning.set_pinned(plan_id, sid, True, actor)
                elif action == "unpin":
                    planning.set_pinned(plan_id, sid, False, actor)
                elif action == "move":
                    planning.move_session(plan_id, sid, request.form.get("slot", ""), actor)
                elif action == "remove":
                    planning.remove_session(plan_id, sid, actor)
                else:
                    abort(400)
            if action == "remove":
                flash("Session removed", "success")
                return redirect(url_for("web.plan_page", plan_id=plan_id))
            flash("Session updated", "success")
            return redirect(url_for("web.plan_session_page", plan_id=plan_id, sid=sid))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("slot", exc.detail)]
            plan = db.session.get(Plan, plan_id)
            assert plan is not None  # it was there before the refused change
            session = next(s for s in plan.sessions if s.id == sid)
    moves = move_options(plan, session) if plan.status == PlanStatus.DRAFT else []
    options = [(m.slot, f"{m.label}: {_cost_change(m.delta)}") for m in moves if m.allowed]
    refused = [m for m in moves if not m.allowed]
    return render_template(
        "manage/session.html",
        title="Plan session",
        plan=plan,
        s=planning.session_dict(session),
        errors=errors,
        options=options,
        refused=refused,
    ), (422 if errors else 200)


def _cost_change(delta: float | None) -> str:
    """A move's change in the plan's cost, in words."""
    if not delta:
        return "cost unchanged"
    return f"cost {'up' if delta > 0 else 'down'} £{abs(delta):,.2f}"


@bp.post("/manage/plans/<int:plan_id>/publish")
@roles_required(*MANAGERS)
def plan_publish(plan_id: int) -> BaseResponse:
    try:
        with boundary():
            report = publishing.publish(plan_id, Actor.for_user(current_user))
        flash(report.summary(), "success")
    except SelTimeError as exc:
        flash("; ".join([exc.detail, *(e.message for e in exc.errors)]), "error")  # rules broken
    return redirect(url_for("web.plan_page", plan_id=plan_id))


@bp.post("/manage/plans/<int:plan_id>/resolve")
@roles_required(*MANAGERS)
def plan_resolve(plan_id: int) -> BaseResponse:
    try:
        with boundary():  # committed, then queued for a worker
            plan, pins = planning.resolve_plan(plan_id, Actor.for_user(current_user))
            plan_tasks.queue_solve(plan, pins)
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.plan_page", plan_id=plan_id))


@bp.post("/manage/plans/<int:plan_id>/cancel")
@roles_required(*MANAGERS)
def plan_cancel(plan_id: int) -> BaseResponse:
    try:
        with boundary():
            plan = plan_tasks.cancel(plan_id, Actor.for_user(current_user))
        flash("Solve cancelled" if plan.status != PlanStatus.RUNNING
              else "Cancelling: the solver stops within a few seconds", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.plan_page", plan_id=plan_id))

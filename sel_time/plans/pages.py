"""Pages for rota managers: plans from generation to publication, the plan grid, hand edits
of one session, publishing and re-solving."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import defer, selectinload
from werkzeug.wrappers import Response as BaseResponse

from ..core.audit import Actor
from ..core.cache import VersionedCache
from ..core.clock import next_monday
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..models import (
    WEEKDAYS,
    Organisation,
    Person,
    Plan,
    PlanSession,
    PlanStatus,
    RoleAssignment,
)
from ..web import MANAGERS, bp, roles_required
from ..web.compress import MARKER, Fragment, accepts_gzip, gzip_page, join_page
from ..web.formats import place
from . import editing, planning, publishing, serialise
from . import tasks as plan_tasks
from .fairness import plan_profession_shares
from .hand_edits import move_options
from .problem import key_id, parsed_problem
from .review import live_counts

# -- plans -----------------------------------------------------------------------------------------


@bp.route("/manage/plans", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plans() -> Any:
    errors: list[FieldError] = []
    values = {
        "start": next_monday().isoformat(),
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
        serialise.plan_summary(p)
        for p in db.session.scalars(sa.select(Plan).order_by(Plan.id.desc()).limit(30))
    ]
    return render_template(
        "manage/plans.html",
        title="Plans",
        items=items,
        errors=errors,
        values=values,
        scopes=scopes,
        live=live_counts(),
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
    planned = parsed_problem(plan).people if plan.problem else ()
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
    pids = [key_id(p.id) for p in planned]
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(pids)))}
    shown = sorted(
        (p for p in people.values() if org_id is None or p.organisation_id == org_id),
        key=lambda p: p.name,
    )
    available = {key_id(p.id): set(p.available) for p in planned}
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
            "summary": serialise.plan_summary(plan),
            "grid": grid is not None,
            "grid_fragment": Fragment.of(html),
            "shortfalls": [serialise.shortfall_dict(s) for s in plan.shortfalls],
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
        live=live_counts() if plan.status == PlanStatus.PUBLISHED else {},
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
                    editing.set_pinned(plan_id, sid, True, actor)
                elif action == "unpin":
                    editing.set_pinned(plan_id, sid, False, actor)
                elif action == "move":
                    editing.move_session(plan_id, sid, request.form.get("slot", ""), actor)
                elif action == "remove":
                    editing.remove_session(plan_id, sid, actor)
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
        s=serialise.session_dict(session),
        where=place(session),
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

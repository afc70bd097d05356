"""Plans: ask the solver for a roster over a horizon and scope, follow its progress, store
the result as a draft, and let rota managers pin, unpin, move and add sessions — every edit
checked against the hard rules of the solver's contract."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app

import solver

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..core.transaction import boundary, discard
from ..models import (
    WEEKDAYS,
    Plan,
    PlanStatus,
    WhatIfRun,
)
from .editing import _plan_for_edit, pins_of
from .problem import build_problem
from .scope import Scope
from .solutions import _keep_draft, store_solution

log = logging.getLogger(__name__)
ACTIVE = (PlanStatus.QUEUED, PlanStatus.RUNNING)


# -- requesting and running a solve ------------------------------------------------------------


def request_plan(
    start: date, weeks: int, scope_text: str | None, time_limit: float | None, actor: Actor
) -> Plan:
    """Queue a plan; 409 naming the running plan if this scope already has one solving."""
    scope = Scope.parse(scope_text)
    errors = []
    if start.weekday() != 0:
        errors.append(
            FieldError("start", f"{start} is a {WEEKDAYS[start.weekday()]}; start on a Monday")
        )
    if not 1 <= weeks <= 52:
        errors.append(FieldError("weeks", "between 1 and 52"))
    limit = float(time_limit if time_limit is not None else current_app.config["SOLVER_TIME_LIMIT"])
    if not 1 <= limit <= 3600:
        errors.append(FieldError("time_limit", "between 1 and 3600 seconds"))
    if errors:
        raise ValidationError("The plan request is not valid", errors)
    release_lost(str(scope))
    running = db.session.scalar(sa.select(Plan).where(Plan.active_scope == str(scope)))
    if running is not None:
        raise Conflict(
            f"Plan {running.id} is already solving for {scope}; wait for it to finish",
            [FieldError("scope", f"plan {running.id} is running")],
        )
    plan = Plan(
        scope=str(scope),
        active_scope=str(scope),
        start_date=start,
        weeks=weeks,
        status=PlanStatus.QUEUED,
        time_limit=limit,
        progress=0.0,
        progress_message="Waiting to start",
        requested_by=actor.label,
        requested_by_id=actor.user.id if actor.user else None,
        created_at=now_utc(),
    )
    try:
        with db.session.begin_nested():  # undo only this plan, never the caller's work
            db.session.add(plan)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            f"Another plan is already solving for {scope}",
            [FieldError("scope", "a plan is running")],
        ) from None
    record(
        actor,
        "create",
        "plan",
        plan.id,
        None,
        {"scope": plan.scope, "start": start.isoformat(), "weeks": weeks},
    )
    return plan


def release_lost(scope: str) -> None:
    """Free a scope whose solve is overdue (running past its time limit and QUEUE_LOST_AFTER:
    its worker or command was killed): it is failed, saying why (a re-solve keeps its draft).
    The database decides, from the row alone; the workers' sweep would queue it again."""
    from ..core.queue.recovery import lost_before

    for plan in db.session.scalars(sa.select(Plan).where(
            Plan.active_scope == scope, Plan.status == PlanStatus.RUNNING)):
        if plan.started_at is None or plan.started_at > lost_before(plan.time_limit):
            continue
        resolving = bool(plan.sessions) and plan.solution is not None
        plan.status = PlanStatus.DRAFT if resolving else PlanStatus.FAILED
        plan.active_scope = None
        plan.finished_at = now_utc()
        plan.error = ("The process solving this plan stopped without finishing"
                      + ("; the draft is unchanged" if resolving else ""))
    db.session.flush()


def run_plan(
    plan_id: int,
    progress: Callable[[str, float], None] | None = None,
    pins: list[dict[str, str]] | None = None,
    frozen_until: date | None = None,
    drafts: list[int] | None = None,
    stop: threading.Event | None = None,
) -> Plan:
    """Build the problem, solve it and store the draft. Commits in boundaries of its own:
    once to mark it running, briefly for progress, once for the result (or the failure).
    Setting ``stop`` (a cancel) ends the solve at once: the plan is recorded cancelled (a
    re-solve: its draft as it was) and ``solver.Stopped`` is raised."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    kept_problem = plan.problem  # a re-solve that finds no plan keeps the draft it had
    try:
        with boundary(quiet=False):  # marked running, with its problem, for those who follow it
            plan.status = PlanStatus.RUNNING
            plan.started_at = now_utc()
            plan.progress_message = "Building the problem"
            built = build_problem(
                plan.start_date,
                plan.weeks,
                Scope.parse(plan.scope),
                pins=pins or [],
                frozen_until=frozen_until,
                drafts=drafts or [],
            )
            plan.problem = built.problem
            plan.warnings = built.frozen_conflicts or None
        problem = solver.parse_problem(built.problem)
        reporter = ProgressWriter(Plan, plan.id, progress)
        options = solver.SolveOptions(
            time_limit=plan.time_limit,
            workers=current_app.config["SOLVER_WORKERS"],
            processes=current_app.config["SOLVER_PROCESSES"],
            seed=0,
            progress=reporter,
            stop=stop,
        )
        solution = solver.solution_to_dict(solver.solve(problem, options))
        with boundary(quiet=False):  # the result
            plan = db.session.get(Plan, plan_id)
            assert plan is not None
            if solution["status"] not in ("optimal", "feasible") and plan.sessions:
                _keep_draft(plan, kept_problem, solution)
            else:
                store_solution(plan, built, solution)
            plan.active_scope = None
            plan.finished_at = now_utc()
            plan.progress = 1.0
            plan.progress_message = "Done"
        return plan
    except Exception as exc:
        discard()  # whatever the failed step left (a solve's read included) is not kept
        with boundary(quiet=False):  # the failure, in a transaction of its own
            _record_failure(plan_id, kept_problem, exc)
        if not isinstance(exc, (ValidationError, solver.ProblemError, solver.Stopped)):
            log.exception("plan %s failed", plan_id)
        raise


def _record_failure(plan_id: int, kept_problem: dict[str, Any] | None, exc: Exception) -> None:
    """Mark a solve that raised as failed (a re-solve: its draft kept, as it was)."""
    plan = db.session.get(Plan, plan_id)
    assert plan is not None
    resolving = bool(plan.sessions) and plan.solution is not None
    plan.status = PlanStatus.DRAFT if resolving else PlanStatus.FAILED
    if resolving:
        plan.problem = kept_problem
    plan.active_scope = None
    plan.finished_at = now_utc()
    plan.error = (
        str(exc)
        if isinstance(exc, (ValidationError, solver.ProblemError))
        else "The solver failed; see the server log"
    )
    if isinstance(exc, solver.Stopped):  # cancelled: said as such, not as a failure
        plan.status = PlanStatus.DRAFT if resolving else PlanStatus.CANCELLED
        plan.error = "Cancelled" + ("; the draft is unchanged" if resolving else "")
        plan.cancel_requested = False
        plan.progress_message = "Cancelled"
        return
    if resolving:
        plan.error = f"Re-solving failed; the draft is unchanged. {plan.error}"
    plan.progress_message = "Failed"


class ProgressWriter:
    """Writes progress to a row (a plan, a what-if run) and commits it at once, so another
    request can read it: at most every ``min_interval`` seconds (the last report, fraction 1,
    always)."""

    def __init__(
        self,
        model: type[Plan] | type[WhatIfRun],
        row_id: int,
        echo: Callable[[str, float], None] | None,
        min_interval: float = 0.5,
    ) -> None:
        self.model = model
        self.row_id = row_id
        self.echo = echo
        self.min_interval = min_interval
        self.last = 0.0

    def __call__(self, message: str, fraction: float) -> None:
        if self.echo is not None:
            self.echo(message, fraction)
        now = time.monotonic()
        if self.min_interval and now - self.last < self.min_interval and fraction < 1.0:
            return
        self.last = now
        values: dict[str, Any] = {
            "progress": max(0.0, min(1.0, fraction)),
            "progress_message": message[:200],
        }
        if not (db.session.new or db.session.dirty or db.session.deleted):
            # End the read the solve began (an expired attribute's SELECT): on SQLite a read
            # that turns into a write fails at once if another process committed since (a
            # cancel, another worker's progress), whatever the busy timeout.
            discard()
        with boundary(quiet=False):  # its own short transaction: seen at once by others
            db.session.execute(
                sa.update(self.model).where(self.model.id == self.row_id).values(**values)
            )


# -- the solution of a plan as it stands (after edits) ----------------------------------------


# -- hand edits ---------------------------------------------------------------------------------


def resolve_plan(
    plan_id: int, actor: Actor, time_limit: float | None = None
) -> tuple[Plan, list[dict[str, str]]]:
    """Queue a re-solve of a draft that keeps its pins (and minimises changes to what is
    published)."""
    plan = _plan_for_edit(plan_id)
    release_lost(plan.scope)
    running = db.session.scalar(sa.select(Plan).where(Plan.active_scope == plan.scope))
    if running is not None:
        raise Conflict(
            f"Plan {running.id} is already solving for {plan.scope}; wait for it to finish",
            [FieldError("scope", f"plan {running.id} is running")],
        )
    pins = pins_of(plan)
    plan.status = PlanStatus.QUEUED
    plan.active_scope = plan.scope
    plan.progress = 0.0
    plan.progress_message = "Waiting to start"
    if time_limit is not None:
        plan.time_limit = float(time_limit)
    record(actor, "resolve", "plan", plan.id, None, {"pins": len(pins)})
    db.session.flush()
    return plan, pins



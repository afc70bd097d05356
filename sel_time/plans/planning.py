"""Plans: ask the solver for a roster over a horizon and scope, follow its progress, store
the result as a draft, and let rota managers pin, unpin, move and add sessions — every edit
checked against the hard rules of the solver's contract."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

import solver
from solver.explain import build_solution
from solver.plan import Plan as SolverPlan

from ..core.audit import Actor, record
from ..core.clock import LONDON, now_utc
from ..core.errors import Conflict, FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..core.transaction import boundary, discard
from ..models import (
    WEEKDAYS,
    Person,
    Plan,
    PlanAttendee,
    PlanSession,
    PlanShortfall,
    PlanStatus,
    RoleAssignment,
    SessionOrigin,
    Team,
    WhatIfRun,
)
from .hand_edits import EditRules
from .scheduling import (
    BuiltProblem,
    Calendar,
    Scope,
    assignment_key,
    build_problem,
    key_id,
    person_key,
    slot_times,
    team_key,
)

log = logging.getLogger(__name__)
ACTIVE = (PlanStatus.QUEUED, PlanStatus.RUNNING)


def slot_label(slot_id: str) -> str:
    """``2026-03-03/AM`` → ``Tue 3 Mar AM``."""
    day_s, _, code = slot_id.partition("/")
    day = date.fromisoformat(day_s)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%b} {code}"


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


def store_solution(plan: Plan, built: BuiltProblem | None, solution: dict[str, Any]) -> None:
    """Replace the plan's sessions and shortfalls with the solver's (pins kept as pins)."""
    pinned = {
        (p.get("person"), p.get("team"), p["slot"]) for p in (plan.problem or {}).get("pinned", [])
    }
    cal = Calendar.from_config()
    costs = _available_costs(plan.problem or {})
    plan.sessions.clear()
    plan.shortfalls.clear()
    db.session.flush()
    for s in solution.get("sessions", []):
        start, end = slot_times(s["slot"], cal)
        plan.sessions.append(
            PlanSession(
                person_id=key_id(s["person"]),
                assignment_id=key_id(s["commitment"]),
                slot=s["slot"],
                start_at=start,
                end_at=end,
                cost_pence=round(s["cost"] * 100),
                pinned=(s["person"], None, s["slot"]) in pinned,
                origin=SessionOrigin.SOLVER,
            )
        )
    for t in solution.get("team_sessions", []):
        start, end = slot_times(t["slot"], cal)
        session = PlanSession(
            team_id=key_id(t["team"]),
            slot=t["slot"],
            start_at=start,
            end_at=end,
            cost_pence=round(t["cost"] * 100),
            pinned=(None, t["team"], t["slot"]) in pinned,
            origin=SessionOrigin.SOLVER,
        )
        for pid in t["attendees"]:
            session.attendees.append(
                PlanAttendee(
                    person_id=key_id(pid),
                    attending=True,
                    cost_pence=round(costs[pid][t["slot"]] * 100),
                )
            )
        for pid in t.get("absent", []):
            session.attendees.append(
                PlanAttendee(person_id=key_id(pid), attending=False, cost_pence=0)
            )
        plan.sessions.append(session)
    windows = _windows(plan.problem or {})
    for sf in solution.get("shortfalls", []):
        owner = sf.get("commitment") or sf.get("team")
        w_from, w_to = windows[owner][sf["window"]]
        plan.shortfalls.append(
            PlanShortfall(
                assignment_id=key_id(sf["commitment"]) if sf.get("commitment") else None,
                team_id=key_id(sf["team"]) if sf.get("team") else None,
                window_from=w_from,
                window_to=w_to,
                required=sf["required"],
                scheduled=sf["scheduled"],
                reason=sf["reason"],
                explanation=sf.get("explanation") or sf["reason"],
            )
        )
    plan.solution = solution
    plan.solver_status = solution["status"]
    plan.objective = solution.get("objective")
    plan.bound = solution.get("bound")
    plan.wall_seconds = solution.get("wall_seconds")
    plan.conflicts = list(solution.get("conflicts", []))
    plan.status = (
        PlanStatus.INFEASIBLE
        if solution["status"] == "infeasible"
        else (
            PlanStatus.DRAFT if solution["status"] in ("optimal", "feasible") else PlanStatus.FAILED
        )
    )
    plan.edits = 0
    plan.error = (
        "The solver found no plan within the time limit; allow it more time"
        if plan.status == PlanStatus.FAILED
        else None
    )
    db.session.flush()


def _keep_draft(plan: Plan, problem: dict[str, Any] | None, solution: dict[str, Any]) -> None:
    """A re-solve that found no plan leaves the draft as it was (sessions, pins, edits and the
    problem they were checked against) and says why, so the rota manager can fix a pin and
    try again rather than lose their work."""
    plan.problem = problem
    plan.status = PlanStatus.DRAFT
    plan.conflicts = list(solution.get("conflicts", []))
    plan.error = (
        "Re-solving found no plan: "
        + (
            "pins, caps or limits clash"
            if solution["status"] == "infeasible"
            else "none within the time limit"
        )
        + "; the draft is unchanged"
    )
    db.session.flush()


def _available_costs(problem: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {p["id"]: p["available"] for p in problem.get("people", [])}


def _windows(problem: dict[str, Any]) -> dict[str, list[tuple[date, date]]]:
    out: dict[str, list[tuple[date, date]]] = {}
    for c in [*problem.get("commitments", []), *problem.get("teams", [])]:
        out[c["id"]] = [
            (date.fromisoformat(w["from"]), date.fromisoformat(w["to"])) for w in c["windows"]
        ]
    return out


# -- the solution of a plan as it stands (after edits) ----------------------------------------


def plan_as_solution(plan: Plan) -> dict[str, Any]:
    """The plan's sessions now (edits included) as a ``sel-time/solution@1`` document, with
    the objective, totals and shortfalls recomputed by the solver's own evaluation."""
    if not plan.problem:
        raise ValidationError("This plan has no problem yet", [FieldError("plan", "not solved")])
    problem = solver.parse_problem(plan.problem)
    index = {s.id: i for i, s in enumerate(problem.slots)}
    sp = SolverPlan()
    for s in plan.sessions:
        if s.person_id is not None:
            sp.sessions[(person_key(s.person_id), index[s.slot])] = assignment_key(
                s.assignment_id or 0
            )
        else:
            attendees = tuple(
                sorted(
                    (person_key(a.person_id) for a in s.attendees if a.attending),
                    key=lambda k: problem_order(problem, k),
                )
            )
            sp.meetings[(team_key(s.team_id or 0), index[s.slot])] = attendees
    info = dict((plan.solution or {}).get("solver", {}))
    info["edits"] = plan.edits
    status = plan.solver_status if plan.edits == 0 and plan.solver_status else "feasible"
    bound = plan.bound if plan.edits == 0 else None
    return solver.solution_to_dict(
        build_solution(problem, sp, status or "feasible", bound, plan.wall_seconds or 0.0, info)
    )


def problem_order(problem: solver.Problem, person: str) -> int:
    for t in problem.teams:
        if person in t.members:
            return t.members.index(person)
    return 0


# -- hand edits ---------------------------------------------------------------------------------


def check_individual(
    plan: Plan, person_id: int, assignment_id: int, slot: str, ignore: PlanSession | None = None
) -> None:
    """Refuse (422, in words) an individual session that would break a hard rule, as the
    solver's rules judge it: `ignore` is the session being moved there, else it is added."""
    rules = EditRules(plan, moving=ignore)
    problem = rules.problem
    pkey = person_key(person_id)
    name = problem.person[pkey].label if pkey in problem.person else f"person {person_id}"
    if slot not in problem.slot_index:
        raise ValidationError(
            "That session is outside the plan",
            [FieldError("slot", f"{slot_label(slot)} is not a session of this plan's horizon")],
        )
    commitment = problem.commitment.get(assignment_key(assignment_id))
    if commitment is None or commitment.person != pkey:
        raise ValidationError(
            "Unknown commitment",
            [FieldError("assignment_id", f"{name} has no commitment {assignment_id} in this plan")],
        )
    rules.refuse(person_id, assignment_id, slot, ignore.slot if ignore is not None else None)


def _plan_for_edit(plan_id: int) -> Plan:
    """The draft to edit, locked for the rest of the transaction (``SELECT ... FOR UPDATE`` on
    PostgreSQL), with its sessions read afresh after the lock: two rota managers editing one
    plan at once take turns, and the second checks its edit against the first's. SQLite has
    one writer at a time: there the second's write waits or is refused, never both pass."""
    plan = db.session.scalars(
        sa.select(Plan)
        .where(Plan.id == plan_id)
        .with_for_update(of=Plan)
        .options(selectinload(Plan.sessions).selectinload(PlanSession.attendees))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(
            f"Plan {plan_id} is {plan.status.value}; only a draft can be edited",
            [FieldError("plan", plan.status.value)],
        )
    return plan


def _session(plan: Plan, session_id: int) -> PlanSession:
    for s in plan.sessions:
        if s.id == session_id:
            return s
    raise NotFound(f"No session {session_id} in plan {plan.id}")


def set_pinned(plan_id: int, session_id: int, pinned: bool, actor: Actor) -> PlanSession:
    plan = _plan_for_edit(plan_id)
    session = _session(plan, session_id)
    if session.pinned != pinned:
        session.pinned = pinned
        plan.edits += 1
        _pins_to_problem(plan)
        record(
            actor,
            "pin" if pinned else "unpin",
            "plan_session",
            session.id,
            {"pinned": not pinned},
            {"pinned": pinned, "plan": plan.id, "slot": session.slot},
        )
    db.session.flush()
    return session


def move_session(plan_id: int, session_id: int, slot: str, actor: Actor) -> PlanSession:
    """Move an individual session to another slot (it becomes pinned there)."""
    plan = _plan_for_edit(plan_id)
    session = _session(plan, session_id)
    if session.person_id is None:
        raise ValidationError(
            "Team sessions move by removing and adding", [FieldError("session", "a team session")]
        )
    check_individual(plan, session.person_id, session.assignment_id or 0, slot, ignore=session)
    old = {"slot": session.slot}
    start, end = slot_times(slot, Calendar.from_config())
    session.slot, session.start_at, session.end_at = slot, start, end
    session.cost_pence = round(
        _available_costs(plan.problem or {})[person_key(session.person_id)][slot] * 100
    )
    session.pinned = True
    session.origin = SessionOrigin.MANUAL
    plan.edits += 1
    _pins_to_problem(plan)
    record(actor, "move", "plan_session", session.id, old, {"slot": slot, "plan": plan.id})
    db.session.flush()
    return session


def add_session(plan_id: int, assignment_id: int, slot: str, actor: Actor) -> PlanSession:
    """Add an individual session by hand (pinned)."""
    plan = _plan_for_edit(plan_id)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None:
        raise ValidationError(
            "Unknown assignment", [FieldError("assignment_id", f"no assignment {assignment_id}")]
        )
    check_individual(plan, assignment.person_id, assignment_id, slot)
    start, end = slot_times(slot, Calendar.from_config())
    session = PlanSession(
        person_id=assignment.person_id,
        assignment_id=assignment_id,
        slot=slot,
        start_at=start,
        end_at=end,
        cost_pence=round(
            _available_costs(plan.problem or {})[person_key(assignment.person_id)][slot] * 100
        ),
        pinned=True,
        origin=SessionOrigin.MANUAL,
    )
    plan.sessions.append(session)
    plan.edits += 1
    _pins_to_problem(plan)
    db.session.flush()
    record(
        actor,
        "add",
        "plan_session",
        session.id,
        None,
        {"plan": plan.id, "slot": slot, "assignment": assignment_id},
    )
    return session


def remove_session(plan_id: int, session_id: int, actor: Actor) -> None:
    plan = _plan_for_edit(plan_id)
    session = _session(plan, session_id)
    if session.pinned:
        raise Conflict("Unpin the session before removing it", [FieldError("session", "pinned")])
    old = {"slot": session.slot, "person": session.person_id, "team": session.team_id}
    plan.sessions.remove(session)
    plan.edits += 1
    record(actor, "remove", "plan_session", session_id, old, None)
    db.session.flush()


def pins_of(plan: Plan) -> list[dict[str, str]]:
    """The plan's pinned sessions as solver pins."""
    out = []
    for s in plan.sessions:
        if not s.pinned:
            continue
        if s.person_id is not None:
            out.append(
                {
                    "person": person_key(s.person_id),
                    "commitment": assignment_key(s.assignment_id or 0),
                    "slot": s.slot,
                }
            )
        else:
            out.append({"team": team_key(s.team_id or 0), "slot": s.slot})
    return out


def _pins_to_problem(plan: Plan) -> None:
    """Keep the problem's pins those of the plan as edited: a pin the manager lifts or moves
    is no longer a rule the plan must keep, so the exported pair still checks, and a replay
    keeps what the manager fixed. The audit log keeps every pin, unpin and move."""
    plan.problem = {**(plan.problem or {}), "pinned": pins_of(plan)}


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


def plan_summary(plan: Plan) -> dict[str, Any]:
    totals = (plan.solution or {}).get("totals", {})
    return {
        "id": plan.id,
        "scope": plan.scope,
        "start": plan.start_date.isoformat(),
        "weeks": plan.weeks,
        "end": plan.end_date.isoformat(),
        "status": plan.status.value,
        "progress": round(plan.progress, 3),
        "progress_message": plan.progress_message,
        "solver_status": plan.solver_status,
        "objective": plan.objective,
        "bound": plan.bound,
        "wall_seconds": plan.wall_seconds,
        "time_limit": plan.time_limit,
        "sessions": sum(1 for s in plan.sessions if s.person_id),
        "team_sessions": sum(1 for s in plan.sessions if s.team_id),
        "shortfalls": len(plan.shortfalls),
        "shortfall_sessions": sum(s.required - s.scheduled for s in plan.shortfalls),
        "backfill_cost": round(sum(s.cost_pence for s in plan.sessions) / 100, 2),
        "edits": plan.edits,
        "conflicts": plan.conflicts or [],
        "warnings": plan.warnings or [],
        "error": plan.error,
        "requested_by": plan.requested_by,
        "created_at": plan.created_at.isoformat(),
        "finished_at": plan.finished_at.isoformat() if plan.finished_at else None,
        "published_at": plan.published_at.isoformat() if plan.published_at else None,
        "solver_totals": totals,
    }


def session_dict(s: PlanSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": "individual" if s.person_id else "team",
        "person_id": s.person_id,
        "person": s.person.name if s.person else None,
        "assignment_id": s.assignment_id,
        "role": s.assignment.role.title if s.assignment else None,
        "team_id": s.team_id,
        "team": s.team.name if s.team else None,
        "slot": s.slot,
        "label": slot_label(s.slot),
        "start": s.start_at.isoformat(),
        "end": s.end_at.isoformat(),
        "cost": round(s.cost_pence / 100, 2),
        "pinned": s.pinned,
        "origin": s.origin.value,
        "attendees": [a.person_id for a in s.attendees if a.attending],
        "absent": [a.person_id for a in s.attendees if not a.attending],
    }


def shortfall_dict(s: PlanShortfall) -> dict[str, Any]:
    return {
        "assignment_id": s.assignment_id,
        "team_id": s.team_id,
        "person": s.assignment.person.name if s.assignment else None,
        "role": s.assignment.role.title if s.assignment else None,
        "team": s.team.name if s.team else None,
        "from": s.window_from.isoformat(),
        "to": s.window_to.isoformat(),
        "required": s.required,
        "scheduled": s.scheduled,
        "reason": s.reason,
        "explanation": s.explanation,
    }


__all__ = ["LONDON", "Person", "Team", "datetime"]

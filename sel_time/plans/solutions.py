"""A solver's solution into a plan, and a plan as it stands (after hand edits) back into a
solution: the one module that reads solutions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import solver
from solver.explain import build_solution
from solver.plan import Plan as SolverPlan

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import (
    Plan,
    PlanAttendee,
    PlanSession,
    PlanShortfall,
    PlanStatus,
    ProtectedSession,
    SessionOrigin,
)
from .calendar import Calendar, slot_times
from .problem import BuiltProblem, assignment_key, key_id, person_key, team_key


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


def plan_as_solution(plan: Plan, problem: solver.Problem | None = None) -> dict[str, Any]:
    """The plan's sessions now (edits included) as a ``sel-time/solution@1`` document, with
    the objective, totals and shortfalls recomputed by the solver's own evaluation.
    ``problem`` is the plan's stored problem when the caller has parsed it already."""
    if not plan.problem:
        raise ValidationError("This plan has no problem yet", [FieldError("plan", "not solved")])
    if problem is None:
        problem = solver.parse_problem(plan.problem)
    sp = _solver_plan(
        problem,
        (
            (s.person_id, s.assignment_id, s.team_id, s.slot,
             [a.person_id for a in s.attendees if a.attending])
            for s in plan.sessions
        ),
    )
    info = dict((plan.solution or {}).get("solver", {}))
    info["edits"] = plan.edits
    status = plan.solver_status if plan.edits == 0 and plan.solver_status else "feasible"
    bound = plan.bound if plan.edits == 0 else None
    return solver.solution_to_dict(
        build_solution(problem, sp, status or "feasible", bound, plan.wall_seconds or 0.0, info)
    )


def roster_as_solution(
    problem_doc: dict[str, Any], live: Iterable[ProtectedSession]
) -> tuple[dict[str, Any], list[str]]:
    """The live roster's sessions (every scope's) as a ``sel-time/solution@1`` document
    against ``problem_doc`` (the system's problem over the same horizon), and, in words, the
    sessions left out because the problem can no longer hold them (a role that ended, a
    leader now on leave): those the solver's checker would refuse."""
    problem = solver.parse_problem(problem_doc)
    index = {s.id: i for i, s in enumerate(problem.slots)}
    avail = problem.available_idx
    commitments = {c.id for c in problem.commitments}
    teams = {t.id for t in problem.teams}
    rows, left_out = [], []
    for s in live:
        if s.slot not in index:
            continue
        people = (
            [s.person_id] if s.person_id is not None else [a.person_id for a in s.attendances]
        )
        owner = team_key(s.team_id) if s.team_id is not None else assignment_key(
            s.assignment_id or 0)
        away = [pid for pid in people if index[s.slot] not in avail.get(person_key(pid), {})]
        if owner not in (teams if s.team_id is not None else commitments):
            left_out.append(f"{s.slot}: {_owner_name(s)} is no longer planned")
        elif away:
            left_out.append(f"{s.slot}: {_owner_name(s)}, {len(away)} attendee(s) no longer "
                            "available")
        else:
            rows.append((s.person_id, s.assignment_id, s.team_id, s.slot, people))
    sp = _solver_plan(problem, rows)
    info = {"source": "live roster", "left_out": len(left_out)}
    return (
        solver.solution_to_dict(build_solution(problem, sp, "feasible", None, 0.0, info)),
        left_out,
    )


def _owner_name(s: ProtectedSession) -> str:
    if s.team is not None:
        return s.team.name
    who = s.person.name if s.person else f"person {s.person_id}"
    role = s.assignment.role.title if s.assignment else "an ended role"
    return f"{who} ({role})"


_Row = tuple[int | None, int | None, int | None, str, list[int]]


def _solver_plan(problem: solver.Problem, rows: Iterable[_Row]) -> SolverPlan:
    """Sessions as (person, assignment, team, slot, attendees) into the solver's plan."""
    index = {s.id: i for i, s in enumerate(problem.slots)}
    sp = SolverPlan()
    for person_id, assignment_id, team_id, slot, attendees in rows:
        if person_id is not None:
            sp.sessions[(person_key(person_id), index[slot])] = assignment_key(
                assignment_id or 0
            )
        else:
            sp.meetings[(team_key(team_id or 0), index[slot])] = tuple(
                sorted(
                    (person_key(pid) for pid in attendees),
                    key=lambda k: problem_order(problem, k),
                )
            )
    return sp


def problem_order(problem: solver.Problem, person: str) -> int:
    for t in problem.teams:
        if person in t.members:
            return t.members.index(person)
    return 0

"""Hand edits of a draft plan: pin, move, add and remove sessions (each judged by the solver's
own rules through :mod:`sel_time.plans.hand_edits`), and the pins a re-solve keeps. Flush only."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.audit import Actor, record
from ..core.errors import Conflict, FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..core.slots import slot_label
from ..models import (
    Plan,
    PlanSession,
    PlanStatus,
    RoleAssignment,
    SessionOrigin,
)
from .calendar import Calendar, slot_times
from .hand_edits import EditRules
from .problem import assignment_key, person_key, team_key
from .solutions import _available_costs


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

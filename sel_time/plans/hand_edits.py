"""Hand edits judged by the solver's own hard rules (`solver.rules`), never by rules of their
own: the plan as it stands is held once as a `Roster`, the proposed move or add is applied
and undone, and what it would break is said in the rules' sentences. The move list of a
session is built the same way, so it offers only what a move then accepts."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa

import solver
from solver.alternatives import Alternative, Mover
from solver.rules import Roster, when

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import Department, Plan, PlanSession
from .scheduling import assignment_key, person_key, team_key

__all__ = ["EditRules", "MoveOption", "move_options"]

# The short title of a refusal, by the number of the first rule it breaks.
TITLES = {1: "Already busy", 2: "Not available", 3: "Team rules", 4: "Service cover",
          5: "Over a limit", 6: "Pinned by a manager"}


@dataclass(frozen=True)
class MoveOption:
    """One slot a session could move to: allowed (with the change in the plan's cost, in
    pounds) or not (with the rules' reasons)."""

    slot: str
    label: str
    allowed: bool
    delta: float | None
    reasons: tuple[str, ...]


class EditRules:
    """A draft's problem and sessions, ready to judge one edit of an individual session.
    The session in `moving` (if any) leaves its pin behind: a moved session is pinned where
    it goes, so its old pin no longer binds."""

    def __init__(self, plan: Plan, moving: PlanSession | None = None) -> None:
        if not plan.problem:
            raise ValidationError("This plan has no problem yet",
                                  [FieldError("plan", "not solved")])
        problem = solver.parse_problem(plan.problem)
        if moving is not None and moving.pinned and moving.person_id is not None:
            gone = (person_key(moving.person_id), moving.slot)
            problem = dataclasses.replace(problem, pinned=tuple(
                p for p in problem.pinned if p.team is not None or (p.person, p.slot) != gone))
        self.problem = problem
        index = problem.slot_index
        sessions: dict[tuple[str, int], str] = {}
        meetings: dict[tuple[str, int], tuple[str, ...]] = {}
        stacked: list[tuple[str, int, str]] = []
        for s in plan.sessions:
            i = index.get(s.slot)
            if i is None:
                continue
            if s.person_id is not None:
                key = (person_key(s.person_id), i)
                if key in sessions:
                    stacked.append((*key, assignment_key(s.assignment_id or 0)))
                else:
                    sessions[key] = assignment_key(s.assignment_id or 0)
            else:
                meetings[(team_key(s.team_id or 0), i)] = tuple(
                    person_key(a.person_id) for a in s.attendees if a.attending)
        roster = Roster.of(problem, sessions, meetings)
        for p, i, c in stacked:
            roster.add_session(p, c, i)
        roster.department_names = {code: name for code, name in db.session.execute(
            sa.select(Department.code, Department.name))}
        self.mover = Mover(problem, roster)

    def judge(self, person_id: int, assignment_id: int, slot: str,
              moving_from: str | None = None) -> Alternative:
        """A session of `assignment_id` in `slot`, moved from `moving_from` or added."""
        index = self.problem.slot_index
        frm = index[moving_from] if moving_from in index else None
        return self.mover.judge_session(person_key(person_id), assignment_key(assignment_id),
                                        index[slot], frm)

    def refuse(self, person_id: int, assignment_id: int, slot: str,
               moving_from: str | None = None) -> None:
        """Raise 422, in the rules' sentences, if the edit would break a hard rule."""
        verdict = self.judge(person_id, assignment_id, slot, moving_from)
        if verdict.allowed:
            return
        raise ValidationError(TITLES.get(verdict.rules[0], "Breaks a rule"),
                              [FieldError("slot", reason) for reason in verdict.reasons])


def move_options(plan: Plan, session: PlanSession) -> list[MoveOption]:
    """Every other slot of the horizon the session's person is available in, judged as a move
    of that session: allowed ones first, cheapest first, then those the rules refuse."""
    if session.person_id is None or not plan.problem:
        return []
    rules = EditRules(plan, moving=session)
    problem = rules.problem
    person = problem.person.get(person_key(session.person_id))
    if person is None or session.slot not in problem.slot_index:
        return []
    found = [rules.judge(session.person_id, session.assignment_id or 0, slot, session.slot)
             for slot in person.available if slot != session.slot]
    return [MoveOption(a.slot, when(problem, problem.slot_index[a.slot]), a.allowed,
                       a.objective_delta, a.reasons) for a in rules.mover.ordered(found)]

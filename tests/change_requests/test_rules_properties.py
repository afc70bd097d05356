"""Property tests of what the change page offers, on the small published roster with random
leave, weekly limits and cover caps added after publication: an alternative that would break a
cover cap, a quorum, a weekly limit or leave is never offered as allowed, and every allowed one,
applied, passes the solver's own checker (``python -m solver check``) with no hard rule broken
that was not broken before."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver
from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.core.transaction import sandbox
from sel_time.models import (
    Absence,
    AbsenceKind,
    Attendance,
    Department,
    Half,
    Person,
    ProtectedSession,
    RosterStatus,
)
from sel_time.requests import rules as rules_module
from sel_time.requests.rules import LiveRules

from .conftest import Published

# Leave is added in the first week only: Cara's own leave fills the second (and PostgreSQL
# refuses overlapping leave of one person).
DAYS = [date(2027, 4, 26) + timedelta(days=d) for d in range(5)]
HALF_DAYS = [(d, h) for d in DAYS for h in (Half.AM, Half.PM)]


def solution_of(rules: LiveRules) -> dict[str, Any]:
    pr, r = rules.problem, rules.roster
    sessions = [{"person": p, "commitment": c, "slot": pr.slots[s].id,
                 "cost": pr.person[p].available.get(pr.slots[s].id, 0.0)}
                for (p, s), c in r.sessions.items()]
    teams = [{"team": t, "slot": pr.slots[s].id, "attendees": list(att)}
             for (t, s), att in r.meetings.items()]
    return {"format": "sel-time/solution@1", "status": "feasible", "sessions": sessions,
            "team_sessions": teams}


def hard(violations: list[str]) -> set[str]:
    return {v for v in violations if "(rule " in v}


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(who=st.sampled_from(["ada", "ben", "cara"]),
       leave=st.sets(st.sampled_from(HALF_DAYS), max_size=5),
       weekly=st.sampled_from([None, 1, 2]),
       cap=st.sampled_from([1, 2]))
def test_allowed_alternatives_break_no_hard_rule(published: Published, who: str,
                                                 leave: set[tuple[date, Half]],
                                                 weekly: int | None, cap: int) -> None:
    person_id = getattr(published.small, who)
    # The leave, limits and caps below are written straight to the database, without the
    # audit trail every real write leaves (and rolled back after each example): the problem
    # kept for the data version would not see them.
    rules_module.forget()
    with sandbox():
        person = db.session.get(Person, person_id)
        assert person is not None
        person.max_per_week = weekly
        db.session.get(Department, published.small.ed).max_away = cap  # type: ignore[union-attr]
        for day, half in leave:
            db.session.add(Absence(person_id=person_id, kind=AbsenceKind.OTHER, start_date=day,
                                   start_half=half, end_date=day, end_half=half))
        db.session.flush()
        mine = db.session.scalars(
            sa.select(Attendance).join(ProtectedSession)
            .where(Attendance.person_id == person_id,
                   ProtectedSession.status == RosterStatus.CONFIRMED,
                   ProtectedSession.start_at > now_utc())).all()
        for att in mine:
            session = att.session
            rules = LiveRules(session)
            team = session.team_id is not None
            options = rules.team_options(session) if team else rules.person_options(
                session, person_id, att.cost_pence)
            before = hard(solver.check(rules.problem, solution_of(rules)).violations)
            index = rules.problem.slot_index
            for option in options:
                day, half = option.slot.split("/")
                on_leave = (date.fromisoformat(day), Half(half)) in leave
                if on_leave and not team:
                    assert not option.allowed, (option, "offered on leave")
                if not option.allowed:
                    assert option.reasons  # a refusal always says why
                    continue
                if team:
                    assert len(option.attendees or ()) >= session.team.quorum  # type: ignore
                    continue
                p = f"p{person_id}"
                c = f"a{session.assignment_id}"
                rules.roster.remove_session(p, index[session.slot])
                rules.roster.add_session(p, c, index[option.slot])
                try:
                    after = hard(solver.check(rules.problem, solution_of(rules)).violations)
                finally:
                    rules.roster.remove_session(p, index[option.slot])
                    rules.roster.add_session(p, c, index[session.slot])
                assert after <= before, (option.slot, after - before)

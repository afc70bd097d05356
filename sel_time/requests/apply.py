"""Applying an approved request to the live roster: the session keeps its identity (and
calendar UID), its SEQUENCE rises, the backfill cost of its new slot is fixed on it, the
published plan follows (pinned where it went), and the feeds are rendered again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.extensions import db
from ..feeds import mark_stale
from ..models import Attendance, PlanSession, ProtectedSession, SessionOrigin
from ..plans.calendar import Calendar, slot_times


@dataclass
class Changed:
    """What an application changed: sessions whose people must hear of it."""

    updated: list[tuple[ProtectedSession, int]] = field(default_factory=list)  # (session, person)
    removed: list[tuple[ProtectedSession, int]] = field(default_factory=list)  # no longer theirs
    moves: list[tuple[ProtectedSession, str, str]] = field(default_factory=list)  # from, to


def _follow_plan(session: ProtectedSession, frm: str, to: str, costs: dict[int, int]) -> None:
    """The published plan's own session follows the roster, pinned where it went (so a
    re-solve keeps it there)."""
    if session.plan_id is None:
        return
    q = sa.select(PlanSession).where(PlanSession.plan_id == session.plan_id,
                                     PlanSession.slot == frm)
    if session.team_id is not None:
        q = q.where(PlanSession.team_id == session.team_id)
    else:
        q = q.where(PlanSession.assignment_id == session.assignment_id)
    ps = db.session.scalar(q)
    if ps is None:
        return
    ps.slot, ps.start_at, ps.end_at = to, session.start_at, session.end_at
    ps.pinned, ps.origin = True, SessionOrigin.MANUAL
    if ps.person_id is not None:
        ps.cost_pence = costs.get(ps.person_id, ps.cost_pence)
    else:
        ps.attendees.clear()
        db.session.flush()
        from ..models import PlanAttendee

        for pid, cost in costs.items():
            ps.attendees.append(PlanAttendee(person_id=pid, attending=True, cost_pence=cost))


def move(session: ProtectedSession, to: str, costs: dict[int, int], actor: Actor,
         now: datetime, changed: Changed, request_id: int) -> None:
    """Move a session to slot ``to``; ``costs`` are its attendees there (person → pence):
    attendees not in it stop attending (a team move), new ones start."""
    frm = session.slot
    start, end = slot_times(to, Calendar.from_config())
    before = {a.person_id for a in session.attendances}
    session.slot, session.start_at, session.end_at = to, start, end
    session.sequence += 1
    session.last_modified = now
    for att in list(session.attendances):
        if att.person_id in costs:
            att.cost_pence = costs[att.person_id]
        else:
            session.attendances.remove(att)
            changed.removed.append((session, att.person_id))
    for pid, cost in costs.items():
        if pid not in before:
            session.attendances.append(Attendance(person_id=pid, cost_pence=cost))
    db.session.flush()
    _follow_plan(session, frm, to, costs)
    changed.moves.append((session, frm, to))
    changed.updated.extend((session, pid) for pid in costs)
    record(actor, "move", "protected_session", session.id, {"slot": frm, "sequence":
           session.sequence - 1}, {"slot": to, "sequence": session.sequence,
                                   "request": request_id})
    mark_stale(set(costs) | before, [session.team_id] if session.team_id else [])


def leave_team_session(session: ProtectedSession, person_id: int, actor: Actor,
                       now: datetime, changed: Changed, request_id: int) -> None:
    """One member no longer attends a team session (its SEQUENCE rises for the others)."""
    for att in list(session.attendances):
        if att.person_id == person_id:
            session.attendances.remove(att)
    session.sequence += 1
    session.last_modified = now
    db.session.flush()
    if session.plan_id is not None:
        ps = db.session.scalar(sa.select(PlanSession).where(
            PlanSession.plan_id == session.plan_id, PlanSession.team_id == session.team_id,
            PlanSession.slot == session.slot))
        if ps is not None:
            for a in ps.attendees:
                if a.person_id == person_id:
                    a.attending = False
    changed.removed.append((session, person_id))
    changed.updated.extend((session, a.person_id) for a in session.attendances)
    record(actor, "cannot_attend", "protected_session", session.id, None,
           {"person": person_id, "sequence": session.sequence, "request": request_id})
    mark_stale([person_id], [session.team_id] if session.team_id else [])


def give_back(attendance: Attendance, outcome: str, reason: str, actor: Actor,
              now: datetime, request_id: int) -> None:
    """Record the session as lost, with its reason, before it happens (it shows as lost
    protected time on the dashboards)."""
    from ..models import Outcome

    old = {"outcome": attendance.outcome.value if attendance.outcome else None}
    attendance.outcome = Outcome(outcome)
    attendance.fraction_taken = 0.0
    attendance.note = reason
    attendance.recorded_at = now
    attendance.recorded_by = actor.label
    db.session.flush()
    record(actor, "give_back", "attendance", attendance.id, old,
           {"outcome": outcome, "request": request_id})

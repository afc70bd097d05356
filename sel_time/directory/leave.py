"""Leave as a leader meets it: the published sessions a booking falls on (they stay in the
calendar until the next plan, so the leader is told at once), and cancelling one's own leave."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..core.audit import Actor
from ..core.clock import LONDON, now_utc
from ..core.errors import NotFound
from ..core.extensions import db
from ..models import Absence, Attendance, ProtectedSession, RosterStatus
from . import records


def _half_index(day: date, half: str) -> int:
    return day.toordinal() * 2 + (1 if half == "PM" else 0)


def sessions_covered(absence: Absence) -> list[ProtectedSession]:
    """The person's published sessions still to come that fall in the leave's half-days."""
    first = _half_index(absence.start_date, getattr(absence.start_half, "value", "AM"))
    last = _half_index(absence.end_date, getattr(absence.end_half, "value", "PM"))
    sessions = db.session.scalars(
        sa.select(ProtectedSession)
        .join(Attendance, Attendance.session_id == ProtectedSession.id)
        .where(
            ProtectedSession.status == RosterStatus.CONFIRMED,
            ProtectedSession.start_at > now_utc(),
            Attendance.person_id == absence.person_id,
        )
        .order_by(ProtectedSession.start_at)
    ).all()
    out = []
    for s in sessions:
        day_text, _, half = s.slot.partition("/")
        at = _half_index(date.fromisoformat(day_text), half)
        if first <= at <= last:
            out.append(s)
    return out


def cancel_own(person_id: int, absence_id: int, actor: Actor) -> Absence:
    """Delete a leave booking of the person's own (404 for anyone else's); flushes."""
    absence = db.session.get(Absence, absence_id)
    if absence is None or absence.person_id != person_id:
        raise NotFound("No such leave of yours")
    records.delete(records.ENTITIES["absences"], absence, actor)
    return absence


def starts_in_future(absence: Absence) -> bool:
    return absence.end_date >= now_utc().astimezone(LONDON).date()

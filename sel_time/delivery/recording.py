"""Was the protected time actually taken? Leaders record each past session, through the API
or a one-click signed link in their calendar; this is how the system tracks progress."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..core.audit import Actor, record
from ..core.clock import LONDON, now_utc
from ..core.errors import FieldError, Forbidden, NotFound, ValidationError
from ..core.extensions import db
from ..models import (
    Attendance,
    LeadershipRole,
    Organisation,
    Outcome,
    Person,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
    Team,
    User,
    UserRole,
)

# The purpose of a one-click link, from which its signing key is derived (HMAC of SECRET_KEY):
# no other signed value of the app (a session cookie, any other link) verifies as one, nor the
# other way round. "v2" links carry the person's link generation; older ones are refused.
LINK_SALT = "sel-time/one-click-record-link/v2"
LINK_DAYS_AFTER = 120  # a link in a calendar event works until 120 days after the session


def fraction_for(outcome: Outcome, fraction: float | None) -> float:
    if outcome == Outcome.TAKEN:
        return 1.0
    if outcome == Outcome.PARTIAL:
        if fraction is None or not 0 < fraction < 1:
            raise ValidationError(
                "Say how much of the session was taken",
                [FieldError("fraction_taken", "between 0 and 1 (exclusive) when partly taken")],
            )
        return float(fraction)
    return 0.0


def record_delivery(
    attendance: Attendance,
    outcome_text: str,
    fraction: float | None,
    note: str | None,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> Attendance:
    """Record the outcome of one person's past session (may be corrected later)."""
    try:
        outcome = Outcome(outcome_text)
    except ValueError:
        raise ValidationError(
            "Unknown outcome",
            [FieldError("outcome", "one of " + ", ".join(o.value for o in Outcome))],
        ) from None
    session = attendance.session
    if session.status != RosterStatus.CONFIRMED:
        raise ValidationError(
            "This session was removed from the roster", [FieldError("session", "cancelled")]
        )
    if session.start_at > (now or now_utc()):
        raise ValidationError(
            "The session has not started yet",
            [FieldError("session", f"starts {session.start_at.astimezone(LONDON):%a %d %b %H:%M}")],
        )
    if note is not None and len(note) > 500:
        raise ValidationError(
            "The note is too long", [FieldError("note", "at most 500 characters")]
        )
    old = {
        "outcome": attendance.outcome.value if attendance.outcome else None,
        "fraction_taken": attendance.fraction_taken,
    }
    attendance.outcome = outcome
    attendance.fraction_taken = fraction_for(outcome, fraction)
    attendance.note = note
    attendance.recorded_at = now or now_utc()
    attendance.recorded_by = actor.label
    db.session.flush()
    record(
        actor,
        "record_delivery",
        "attendance",
        attendance.id,
        old,
        {"outcome": outcome.value, "fraction_taken": attendance.fraction_taken},
    )
    return attendance


def attendance_for(user: User, attendance_id: int) -> Attendance:
    """The attendance a user may record: their own (leader) or anyone's (rota manager, admin)."""
    attendance = db.session.get(Attendance, attendance_id)
    if attendance is None:
        raise NotFound(f"No attendance {attendance_id}")
    if user.role == UserRole.LEADER and attendance.person_id != user.person_id:
        raise NotFound(f"No attendance {attendance_id}")
    if user.role == UserRole.FINANCE:
        raise Forbidden("Finance can read delivery but not record it")
    return attendance


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(
        current_app.config["SECRET_KEY"],
        salt=LINK_SALT,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )


def delivery_link_token(attendance: Attendance) -> str:
    """A signed token that lets its holder record this one attendance only, until 120 days
    after the session, and only while the person's link generation is the one it carries (a
    feed reset, unlinking or deactivating their user ends it). It carries its own expiry
    rather than a signing time, so the same session always gives the same link (and a calendar
    feed the same bytes)."""
    expires = attendance.session.end_at + timedelta(days=LINK_DAYS_AFTER)
    return _serializer().dumps(
        {
            "a": attendance.id,
            "p": attendance.person_id,
            "g": attendance.person.link_generation,
            "e": int(expires.timestamp()),
        }
    )


def attendance_from_link(token: str, *, now: datetime | None = None) -> Attendance:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise NotFound("This link is not valid") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("e"), int)
        or not isinstance(data.get("a"), int)
        or not isinstance(data.get("g"), int)
    ):
        raise NotFound("This link is not valid")
    if (now or now_utc()).timestamp() > data["e"]:
        raise ValidationError(
            "This link has expired; record the session in sel-time instead",
            [FieldError("token", "expired")],
        )
    attendance = db.session.get(Attendance, data["a"])
    if attendance is None or attendance.person_id != data.get("p"):
        raise NotFound("This link is not valid")
    if attendance.person.link_generation != data["g"]:
        raise NotFound(
            "This link is no longer valid: use the link in your calendar once it has "
            "refreshed, or record the session in sel-time"
        )
    return attendance


# -- planned versus delivered ---------------------------------------------------------------------

GROUPINGS = ("person", "role", "profession", "organisation", "month")


def london_midnight(day: date) -> datetime:
    """The start of ``day`` on London's wall clocks, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=LONDON)


def planned_vs_delivered(
    by: str, first: date | None, last: date | None, person_id: int | None = None
) -> list[dict[str, Any]]:
    """Hours and sessions of protected time planned (published) and delivered (recorded as
    taken, part-taken pro rata), grouped ``by`` person, role, profession, organisation or month.
    ``first`` and ``last`` (London dates, inclusive) are applied in SQL, and only the columns
    the figures need are read: no attendance outside the period is ever loaded."""
    if by not in GROUPINGS:
        raise ValidationError(
            "Unknown grouping", [FieldError("by", "one of " + ", ".join(GROUPINGS))]
        )
    q = (
        sa.select(
            ProtectedSession.start_at,
            ProtectedSession.end_at,
            Attendance.outcome,
            Attendance.fraction_taken,
            Person.name,
            Person.profession,
            Organisation.name.label("organisation"),
            LeadershipRole.title,
            Team.name.label("team"),
        )
        .select_from(Attendance)
        .join(ProtectedSession, Attendance.session_id == ProtectedSession.id)
        .join(Person, Attendance.person_id == Person.id)
        .join(Organisation, Person.organisation_id == Organisation.id)
        .outerjoin(RoleAssignment, ProtectedSession.assignment_id == RoleAssignment.id)
        .outerjoin(LeadershipRole, RoleAssignment.role_id == LeadershipRole.id)
        .outerjoin(Team, ProtectedSession.team_id == Team.id)
        .where(ProtectedSession.status == RosterStatus.CONFIRMED)
    )
    if person_id is not None:
        q = q.where(Attendance.person_id == person_id)
    if first is not None:
        q = q.where(ProtectedSession.start_at >= london_midnight(first))
    if last is not None:
        q = q.where(ProtectedSession.start_at < london_midnight(last + timedelta(days=1)))
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "sessions_planned": 0,
            "hours_planned": 0.0,
            "sessions_past": 0,
            "hours_past": 0.0,
            "sessions_recorded": 0,
            "hours_delivered": 0.0,
            "sessions_lost": 0,
        }
    )
    now = now_utc()
    for r in db.session.execute(q):
        day = r.start_at.astimezone(LONDON).date()
        if by == "person":
            key = r.name
        elif by == "role":
            team = r.team if r.team is not None else "?"
            key = r.title if r.title is not None else f"Team: {team}"
        elif by == "profession":
            key = r.profession.value
        elif by == "organisation":
            key = r.organisation
        else:
            key = day.strftime("%Y-%m")
        hours = (r.end_at - r.start_at).total_seconds() / 3600
        row = rows[key]
        row["sessions_planned"] += 1
        row["hours_planned"] += hours
        if r.start_at <= now:
            row["sessions_past"] += 1
            row["hours_past"] += hours
        if r.outcome is not None:
            row["sessions_recorded"] += 1
            row["hours_delivered"] += hours * (r.fraction_taken or 0.0)
            if r.outcome not in (Outcome.TAKEN, Outcome.PARTIAL):
                row["sessions_lost"] += 1
    out = []
    for key in sorted(rows):
        row = rows[key]
        row["hours_planned"] = round(row["hours_planned"], 2)
        row["hours_delivered"] = round(row["hours_delivered"], 2)
        # Of the protected time that should already have happened, the share delivered.
        row["delivery_rate"] = (
            round(row["hours_delivered"] / row["hours_past"], 4) if row["hours_past"] else None
        )
        row["hours_past"] = round(row["hours_past"], 2)
        out.append({by: key, **row})
    return out

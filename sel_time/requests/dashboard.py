"""Protected time recovered (moved or swapped rather than lost) beside time lost (given back
or recorded lost), by organisation or profession."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import Attendance, Organisation, Outcome, Person, ProtectedSession, RosterStatus
from .models import ChangeRequest, RequestKind, RequestStatus

GROUPS = ("organisation", "profession")
RECOVERING = (RequestKind.MOVE, RequestKind.SWAP, RequestKind.TEAM_MOVE)
LOST = (Outcome.LOST_CLINICAL, Outcome.LOST_SICKNESS, Outcome.LOST_OTHER)


def _key(by: str) -> Any:
    return Organisation.name if by == "organisation" else Person.profession


def recovered_and_lost(by: str) -> list[dict[str, Any]]:
    if by not in GROUPS:
        raise ValidationError("Unknown grouping", [FieldError("by", "organisation or profession")])
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"sessions_recovered": 0,
                                                           "sessions_lost": 0,
                                                           "sessions_given_back": 0})
    key = _key(by)
    recovered = db.session.execute(
        sa.select(key, sa.func.count(ChangeRequest.id))
        .select_from(ChangeRequest).join(Person, ChangeRequest.person_id == Person.id)
        .join(Organisation, Person.organisation_id == Organisation.id)
        .where(ChangeRequest.status == RequestStatus.APPROVED,
               ChangeRequest.kind.in_(RECOVERING)).group_by(key))
    for name, n in recovered:
        rows[str(getattr(name, "value", name))]["sessions_recovered"] += n
    lost = db.session.execute(
        sa.select(key, sa.func.count(Attendance.id))
        .select_from(Attendance).join(ProtectedSession)
        .join(Person, Attendance.person_id == Person.id)
        .join(Organisation, Person.organisation_id == Organisation.id)
        .where(ProtectedSession.status == RosterStatus.CONFIRMED, Attendance.outcome.in_(LOST))
        .group_by(key))
    for name, n in lost:
        rows[str(getattr(name, "value", name))]["sessions_lost"] += n
    given = db.session.execute(
        sa.select(key, sa.func.count(ChangeRequest.id))
        .select_from(ChangeRequest).join(Person, ChangeRequest.person_id == Person.id)
        .join(Organisation, Person.organisation_id == Organisation.id)
        .where(ChangeRequest.status == RequestStatus.APPROVED,
               ChangeRequest.kind == RequestKind.GIVE_BACK).group_by(key))
    for name, n in given:
        rows[str(getattr(name, "value", name))]["sessions_given_back"] += n
    out = []
    for name in sorted(rows):
        r = rows[name]
        at_risk = r["sessions_recovered"] + r["sessions_lost"]
        r["recovery_rate"] = round(r["sessions_recovered"] / at_risk, 4) if at_risk else None
        out.append({by: name, **r})
    return out

"""Training programmes: a cohort (a training-cohort team, so the solver rosters its sessions
as protected time for training) working through modules held, in order, in its sessions.
Attendance comes from the delivery records; completion and the cohort's mix of professions
are reported. A cohort may hold aspiring leaders with no role yet (frontline staff)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.clock import LONDON, now_utc
from ..core.errors import FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..models import (
    Attendance,
    Outcome,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
    Team,
    TeamKind,
)
from .bank import PROFESSION_GROUPS
from .models import Programme, ProgrammeKind, ProgrammeModule

ATTENDED = (Outcome.TAKEN, Outcome.PARTIAL)


def create_programme(name: str, kind: str, team_id: int, modules: Sequence[str],
                     completion_modules: int | None, actor: Actor) -> Programme:
    errors = []
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        errors.append(FieldError("name", "Enter a name of 1 to 200 characters"))
    try:
        pkind = ProgrammeKind(kind)
    except ValueError:
        errors.append(FieldError("kind", "Choose leadership_academy or system_course"))
        pkind = ProgrammeKind.SYSTEM_COURSE
    team = db.session.get(Team, team_id) if isinstance(team_id, int) else None
    if team is None or team.kind != TeamKind.TRAINING_COHORT:
        errors.append(FieldError("team_id", "Choose a team of the kind training cohort"))
    titles = [str(m).strip() for m in modules if str(m).strip()]
    if not titles:
        errors.append(FieldError("modules", "Name at least one module"))
    if completion_modules is not None and not 1 <= completion_modules <= max(1, len(titles)):
        errors.append(FieldError("completion_modules", "From 1 to the number of modules"))
    if errors:
        raise ValidationError("The programme cannot be created", errors)
    assert team is not None
    programme = Programme(name=name, kind=pkind, cohort=team,
                          completion_modules=completion_modules)
    for i, title in enumerate(titles, start=1):
        programme.modules.append(ProgrammeModule(position=i, title=title[:200]))
    db.session.add(programme)
    db.session.flush()
    record(actor, "create", "programme", programme.id, None, {"name": name, "team": team.code})
    return programme


def get_programme(programme_id: int) -> Programme:
    p = db.session.get(Programme, programme_id)
    if p is None:
        raise NotFound(f"No programme {programme_id}")
    return p


def programme_report(p: Programme, first: date | None = None,
                     last: date | None = None) -> dict[str, Any]:
    """Modules with their sessions, each member's attendance and completion, the cohort's
    mix of professions, and its aspiring leaders (members holding no role)."""
    sessions = db.session.scalars(
        sa.select(ProtectedSession)
        .where(ProtectedSession.team_id == p.cohort_team_id,
               ProtectedSession.status == RosterStatus.CONFIRMED)
        .order_by(ProtectedSession.start_at)
    ).all()
    now = now_utc()
    modules: list[dict[str, Any]] = []
    module_sessions: dict[int, int] = {}
    for i, m in enumerate(p.modules):
        s = sessions[i] if i < len(sessions) else None
        if s is not None:
            module_sessions[s.id] = m.position
        modules.append({"position": m.position, "title": m.title,
                        "date": s.start_at.astimezone(LONDON).date().isoformat() if s else None,
                        "held": bool(s and s.start_at <= now)})
    attended: dict[int, set[int]] = {}
    for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.session_id.in_(list(module_sessions)))
    ):
        if a.outcome in ATTENDED:
            attended.setdefault(a.person_id, set()).add(module_sessions[a.session_id])
    needed = p.completion_modules or len(p.modules)
    today = now.astimezone(LONDON).date()
    role_holders = set(db.session.scalars(
        sa.select(RoleAssignment.person_id).where(
            RoleAssignment.start_date <= (last or today),
            sa.or_(RoleAssignment.end_date.is_(None),
                   RoleAssignment.end_date >= (first or today)))))
    members: list[dict[str, Any]] = []
    for person in p.cohort.members:
        done = len(attended.get(person.id, set()))
        members.append({"person": person.name, "profession": person.profession.value,
                        "aspiring": person.id not in role_holders,
                        "modules_attended": done, "completed": done >= needed})
    mix = Counter(PROFESSION_GROUPS.get(m.profession, "Other") for m in p.cohort.members)
    held = sum(1 for m in modules if m["held"])
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind.value,
        "cohort": p.cohort.name,
        "modules": modules,
        "members": members,
        "enrolled": len(members),
        "aspiring": sum(1 for m in members if m["aspiring"]),
        "completed": sum(1 for m in members if m["completed"]),
        "modules_needed": needed,
        "modules_held": held,
        "attendance_rate": (round(sum(m["modules_attended"] for m in members)
                                  / (held * len(members)), 4) if held and members else None),
        "profession_mix": dict(sorted(mix.items())),
    }

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


KIND_WORDS = {
    ProgrammeKind.LEADERSHIP_ACADEMY: "A cohort of an NHS Leadership Academy programme",
    ProgrammeKind.SYSTEM_COURSE: "The system's own leadership course",
}


def _checked(name: str, kind: str, team_id: int, modules: Sequence[str],
             completion_modules: int | None, programme: Programme | None,
             ) -> tuple[str, ProgrammeKind, Team, list[str]]:
    """The fields of a programme, or every fault in words, each naming its field."""
    errors = []
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        errors.append(FieldError("name", "Enter a name of 1 to 200 characters"))
    try:
        pkind = ProgrammeKind(kind)
    except ValueError:
        errors.append(FieldError("kind", "Choose the kind of programme: an NHS Leadership "
                                 "Academy cohort or the system's own course"))
        pkind = ProgrammeKind.SYSTEM_COURSE
    team = db.session.get(Team, team_id) if isinstance(team_id, int) else None
    if team is None or team.kind != TeamKind.TRAINING_COHORT:
        errors.append(FieldError("team_id", "Choose a cohort: a team of the kind training "
                                 "cohort"))
        team = None
    else:
        taken = db.session.scalar(sa.select(Programme).where(
            Programme.cohort_team_id == team.id,
            Programme.id != (programme.id if programme is not None else -1)))
        if taken is not None:
            errors.append(FieldError("team_id", f"The cohort {team.name} already follows "
                                     f"the programme '{taken.name}': choose another"))
    titles = [str(m).strip() for m in modules if str(m).strip()]
    if not titles:
        errors.append(FieldError("modules", "Name at least one module, one a line"))
    elif any(len(m) > 200 for m in titles):
        errors.append(FieldError("modules", "Keep each module's title to 200 characters"))
    if completion_modules is not None and not 1 <= completion_modules <= max(1, len(titles)):
        errors.append(FieldError("completion_modules", "Modules to attend to complete must "
                                 "be from 1 to the number of modules"))
    if errors:
        verb = "created" if programme is None else "changed"
        raise ValidationError(f"The programme cannot be {verb}", errors)
    assert team is not None
    return name, pkind, team, titles


def _state(p: Programme) -> dict[str, Any]:
    return {"name": p.name, "kind": p.kind.value, "team": p.cohort.code,
            "modules": [m.title for m in p.modules],
            "completion_modules": p.completion_modules}


def create_programme(name: str, kind: str, team_id: int, modules: Sequence[str],
                     completion_modules: int | None, actor: Actor) -> Programme:
    name, pkind, team, titles = _checked(name, kind, team_id, modules, completion_modules, None)
    programme = Programme(name=name, kind=pkind, cohort=team,
                          completion_modules=completion_modules)
    for i, title in enumerate(titles, start=1):
        programme.modules.append(ProgrammeModule(position=i, title=title))
    db.session.add(programme)
    db.session.flush()
    record(actor, "create", "programme", programme.id, None, {"name": name, "team": team.code})
    return programme


def update_programme(programme: Programme, name: str, kind: str, team_id: int,
                     modules: Sequence[str], completion_modules: int | None,
                     actor: Actor) -> Programme:
    """Change a programme: its name, kind, cohort, modules (in order: the first is held in
    the cohort's first session) and how many modules complete it. Audited, old and new."""
    name, pkind, team, titles = _checked(name, kind, team_id, modules, completion_modules,
                                         programme)
    before = _state(programme)
    programme.name, programme.kind, programme.cohort = name, pkind, team
    programme.completion_modules = completion_modules
    kept = programme.modules[:len(titles)]
    for module, title in zip(kept, titles, strict=False):
        module.title = title  # in place: the positions stay unique
    for module in programme.modules[len(titles):]:
        programme.modules.remove(module)
    db.session.flush()
    for i, title in enumerate(titles[len(kept):], start=len(kept) + 1):
        programme.modules.append(ProgrammeModule(position=i, title=title))
    db.session.flush()
    after = _state(programme)
    if after != before:
        record(actor, "update", "programme", programme.id, before, after)
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

"""What-if projections for finance: describe a policy change, and sel-time plans the changed
scenario with the solver in a sandbox (a savepoint that is always rolled back), next to a
baseline planned the same way, and reports the cost delta. The published roster is never
touched."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app
from pydantic import Field

import solver

from .errors import FieldError, ValidationError
from .extensions import db
from .models import (
    CommitmentUnit,
    LeadershipRole,
    Organisation,
    OrgKind,
    Period,
    Person,
    Profession,
    RateCardEntry,
    RoleAssignment,
    RoleLevel,
)
from .scheduling import Scope, build_problem
from .schemas import Strict

BANDS = ["2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9"]


class PeopleFilter(Strict):
    profession: Profession | None = None
    min_band: str | None = Field(None, description='lowest AfC band, e.g. "7" (7, 8a–8d, 9 match)')
    organisation: str | None = Field(None, description="organisation code")
    leaders_only: bool = Field(True, description="only people who hold a leadership role")


class RoleFilter(Strict):
    code_prefix: str | None = None
    title_contains: str | None = None
    level: RoleLevel | None = None


class CommitmentChange(Strict):
    """Change the commitment of every role matching ``roles``."""

    roles: RoleFilter
    amount: float = Field(gt=0, le=40)
    unit: CommitmentUnit = CommitmentUnit.SESSION
    per: Period = Period.WEEK


class NewEntitlement(Strict):
    """Give everyone matching ``people`` a new protected-time entitlement."""

    people: PeopleFilter
    amount: float = Field(gt=0, le=40)
    unit: CommitmentUnit = CommitmentUnit.SESSION
    per: Period = Period.FORTNIGHT
    title: str = Field("What-if entitlement", max_length=200)


class WhatIfRequest(Strict):
    start: date = Field(description="a Monday")
    weeks: int = Field(12, ge=1, le=52)
    scope: str = "system"
    rate_change_percent: float | None = Field(None, ge=-90, le=500, description="e.g. 4 for rates rising 4 %")
    commitment_changes: list[CommitmentChange] = Field(default_factory=list)
    new_entitlements: list[NewEntitlement] = Field(default_factory=list)
    time_limit: float = Field(20, ge=1, le=600, description="seconds for each of the two solves")


@dataclass
class Outcome:
    backfill_cost: float
    sessions: int
    shortfall_sessions: int
    status: str


def _band_at_least(band: str | None, minimum: str) -> bool:
    if band is None:
        return False
    b = band.strip().lower().removeprefix("band").strip()
    m = minimum.strip().lower().removeprefix("band").strip()
    return b in BANDS and m in BANDS and BANDS.index(b) >= BANDS.index(m)


def _matching_people(f: PeopleFilter, field: str = "people") -> list[Person]:
    q = sa.select(Person).where(Person.active.is_(True)).order_by(Person.id)
    if f.profession is not None:
        q = q.where(Person.profession == f.profession)
    if f.organisation:
        q = q.join(Organisation, Person.organisation_id == Organisation.id).where(Organisation.code == f.organisation)
    if f.leaders_only:
        q = q.where(Person.id.in_(sa.select(RoleAssignment.person_id)))
    people = list(db.session.scalars(q))
    if f.min_band:
        if f.min_band.strip().lower().removeprefix("band").strip() not in BANDS:
            raise ValidationError("Unknown band", [FieldError(f"{field}.min_band", f'"{f.min_band}" is not an AfC band')])
        people = [p for p in people if _band_at_least(p.band, f.min_band)]
    return people


def _matching_roles(f: RoleFilter) -> list[LeadershipRole]:
    q = sa.select(LeadershipRole).order_by(LeadershipRole.id)
    if f.code_prefix:
        q = q.where(LeadershipRole.code.startswith(f.code_prefix))
    if f.title_contains:
        q = q.where(sa.func.lower(LeadershipRole.title).contains(f.title_contains.lower()))
    if f.level is not None:
        q = q.where(LeadershipRole.level == f.level)
    return list(db.session.scalars(q))


def _solve(problem: dict[str, Any], time_limit: float) -> Outcome:
    sol = solver.solution_to_dict(solver.solve(
        solver.parse_problem(problem),
        solver.SolveOptions(time_limit=time_limit, workers=current_app.config["SOLVER_WORKERS"], seed=0)))
    return Outcome(sol["totals"]["backfill_cost"], len(sol["sessions"]) + sum(len(t["attendees"]) for t in sol["team_sessions"]),
                   sol["totals"]["shortfall_sessions"], sol["status"])


def _scaled(pence: int, percent: float) -> int:
    """``pence`` changed by ``percent``, to the penny half-up like every other figure (not
    ``round(float)``: £31.75 + 2 % is £32.385, so £32.39)."""
    exact = Fraction(pence) * (1 + Fraction(str(percent)) / 100)
    return int(exact + Fraction(1, 2))


def _apply(req: WhatIfRequest) -> dict[str, int]:
    """Make the scenario's changes in the (sandboxed) session; say how much they touched."""
    touched = {"rates": 0, "roles": 0, "people": 0}
    if req.rate_change_percent is not None:
        percent = req.rate_change_percent
        for rate in db.session.scalars(sa.select(RateCardEntry)):
            rate.rate_pence_per_hour = _scaled(rate.rate_pence_per_hour, percent)
            touched["rates"] += 1
        for person in db.session.scalars(sa.select(Person).where(Person.backfill_rate_pence.is_not(None))):
            person.backfill_rate_pence = _scaled(person.backfill_rate_pence or 0, percent)
    for i, change in enumerate(req.commitment_changes):
        roles = _matching_roles(change.roles)
        if not roles:
            raise ValidationError("No role matches", [FieldError(f"commitment_changes.{i}.roles", "matches no role")])
        for role in roles:
            role.commitment_amount, role.commitment_unit, role.commitment_per = change.amount, change.unit, change.per
            touched["roles"] += 1
    host = db.session.scalar(sa.select(Organisation).where(Organisation.kind == OrgKind.ICB)) or \
        db.session.scalar(sa.select(Organisation).order_by(Organisation.id))
    for i, ent in enumerate(req.new_entitlements):
        people = _matching_people(ent.people, f"new_entitlements.{i}.people")
        if not people:
            raise ValidationError("No one matches", [FieldError(f"new_entitlements.{i}.people", "matches no one")])
        role = LeadershipRole(code=f"what-if-{i}", title=ent.title, level=RoleLevel.SYSTEM,
                              host_organisation_id=host.id if host else people[0].organisation_id,
                              commitment_amount=ent.amount, commitment_unit=ent.unit, commitment_per=ent.per)
        db.session.add(role)
        db.session.flush()
        for p in people:
            db.session.add(RoleAssignment(person_id=p.id, role_id=role.id, start_date=req.start))
            touched["people"] += 1
    db.session.flush()
    return touched


def run_whatif(req: WhatIfRequest) -> dict[str, Any]:
    """Baseline and scenario planned the same way; the scenario's changes are rolled back.

    Read-only, and it ends the session's transaction (a rollback: there is nothing to keep)
    before solving, as ``run_plan`` commits before it solves: the sandbox's writes take
    SQLite's write lock until the transaction ends, and the two solves may run for minutes."""
    scope = Scope.parse(req.scope)
    baseline_problem = build_problem(req.start, req.weeks, scope).problem
    sandbox = db.session.begin_nested()
    try:
        touched = _apply(req)
        scenario_problem = build_problem(req.start, req.weeks, scope).problem
    finally:
        sandbox.rollback()
    db.session.rollback()
    base = _solve(baseline_problem, req.time_limit)
    scen = _solve(scenario_problem, req.time_limit)
    return {
        "start": req.start.isoformat(), "weeks": req.weeks, "scope": str(scope), "changes": touched,
        "baseline": base.__dict__, "scenario": scen.__dict__,
        "delta": {"backfill_cost": round(scen.backfill_cost - base.backfill_cost, 2),
                  "sessions": scen.sessions - base.sessions,
                  "shortfall_sessions": scen.shortfall_sessions - base.shortfall_sessions},
        "annualised_delta": round((scen.backfill_cost - base.backfill_cost) * 52 / req.weeks, 2),
    }


__all__ = ["Literal", "WhatIfRequest", "run_whatif"]

"""A plan's scope (the whole system, one organisation or one team) and what it governs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import sqlalchemy as sa

from ..core.errors import FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..models import (
    Person,
    ProtectedSession,
    RoleAssignment,
    Team,
)


@dataclass(frozen=True)
class Scope:
    """What a plan governs: the whole system, one organisation, or one team."""

    kind: str
    code: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Scope:
        text = (text or "system").strip()
        if text == "system":
            return cls("system")
        kind, _, code = text.partition(":")
        if kind not in {"organisation", "team"} or not code:
            raise ValidationError(
                "Unknown scope",
                [FieldError("scope", 'use "system", "organisation:<code>" or "team:<code>"')],
            )
        return cls(kind, code)

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


@dataclass
class Governed:
    """The assignments and teams whose sessions a plan decides."""

    assignments: list[RoleAssignment]
    teams: list[Team]
    # Whose individual sessions the plan also decides when their role has ended or they have
    # left (so that publishing cancels them): these people, or everyone when None.
    people: set[int] | None = field(default_factory=set)

    # Worked out once: ``governs`` asks for them for every session of a roster.
    @cached_property
    def assignment_ids(self) -> set[int]:
        return {a.id for a in self.assignments}

    @cached_property
    def team_ids(self) -> set[int]:
        return {t.id for t in self.teams}

    def governs(self, s: ProtectedSession) -> bool:
        if s.team_id is not None:
            return s.team_id in self.team_ids
        return (
            s.assignment_id in self.assignment_ids
            or self.people is None
            or s.person_id in self.people
        )


def governed(scope: Scope, first: date, last: date) -> Governed:
    active = sa.and_(
        RoleAssignment.start_date <= last,
        sa.or_(RoleAssignment.end_date.is_(None), RoleAssignment.end_date >= first),
    )
    q = sa.select(RoleAssignment).join(Person).where(active, Person.active.is_(True))
    teams_q = sa.select(Team).order_by(Team.id)
    if scope.kind == "organisation":
        from ..models import Organisation

        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == scope.code))
        if org is None:
            raise NotFound(f"No organisation with code {scope.code}")
        q = q.where(Person.organisation_id == org.id)
        teams = [
            t
            for t in db.session.scalars(teams_q)
            if t.members and all(m.organisation_id == org.id for m in t.members)
        ]
        members = set(
            db.session.scalars(sa.select(Person.id).where(Person.organisation_id == org.id))
        )
        return Governed(list(db.session.scalars(q.order_by(RoleAssignment.id))), teams, members)
    elif scope.kind == "team":
        team = db.session.scalar(sa.select(Team).where(Team.code == scope.code))
        if team is None:
            raise NotFound(f"No team with code {scope.code}")
        return Governed([], [team])
    teams = list(db.session.scalars(teams_q))
    return Governed(list(db.session.scalars(q.order_by(RoleAssignment.id))), teams, None)

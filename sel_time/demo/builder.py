"""A deterministic south-east-London demo system.

:func:`load_demo` adds the ICB, its real partner organisations (acute, mental health and
community trusts, the six borough councils, a handful of primary care networks with generic
names), their services with service-cover limits, about 200 fictional leaders across every
profession, their working patterns, leave and fixed commitments over the 16 weeks from
``start``, leadership roles with budgets, teams, demo user accounts and the default rate card.

The same seed always gives the same data: every random choice comes from one
``random.Random(seed)`` and nothing reads the clock. The data are sized so that most
commitments can be met: every service's weekly demand for protected time stays well inside
what its cover limit allows, and every team has a quorum of members who work in its slots.

Names and email addresses are generated and belong to no real person.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.errors import Conflict
from ..finance.rate_card import load_default_rate_card
from ..models import Organisation, User, UserRole
from .accounts import DEMO_ACCOUNTS, LEADER_ACCOUNT_PCN, DemoAccount
from .appointments import RoleSteps
from .horizon import DEFAULT_START, monday_on_or_after
from .leave import LeaveSteps
from .organisations import ICB_CODE
from .staffing import StaffingSteps
from .teams import TeamSteps

log = logging.getLogger(__package__)

DEFAULT_SEED = 2026


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`load_demo` added."""

    seed: int
    start: date
    organisations: int
    departments: int
    people: int
    pattern_sessions: int
    absences: int
    avoid_preferences: int
    roles: int
    assignments: int
    teams: int
    team_memberships: int
    users: int
    rate_card_entries: int  # rows of the default card added (0 if it was already there)
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return (
            f"{self.people} leaders in {self.organisations} organisations "
            f"({self.departments} services), {self.roles} roles held in {self.assignments} "
            f"assignments, {self.teams} teams ({self.team_memberships} memberships), "
            f"{self.absences} leave and fixed commitments from {self.start.isoformat()}, "
            f"{self.users} demo accounts, {self.rate_card_entries} rate card rows added "
            f"(seed {self.seed})"
        )


class DemoAlreadyLoaded(Conflict):
    """The demo organisations are already in the database."""

    def __init__(self) -> None:
        super().__init__(
            "The demo data set is already loaded (organisation "
            f"{ICB_CODE} exists); load it into an empty database."
        )


class DemoBuilder(StaffingSteps, RoleSteps, TeamSteps, LeaveSteps):
    """One build of the demo: the steps, run in order by :func:`load_demo`, share one seeded
    generator, so the order of the steps is part of the data."""

    # ---- users -------------------------------------------------------------------------------

    def users(self) -> list[DemoAccount]:
        """The demo accounts, and a leader account for a PCN clinical director."""
        accounts: list[DemoAccount] = []
        for email, name, role in DEMO_ACCOUNTS:
            self.s.add(User(email=email, name=name, role=role, password_hash=None))
            accounts.append(DemoAccount(email, role))
        leader = self.holders[f"pcn:{LEADER_ACCOUNT_PCN}"][0].person
        self.s.add(User(email=leader.email, name=leader.name, role=UserRole.LEADER,
                        password_hash=None, person=leader))
        accounts.append(DemoAccount(leader.email, UserRole.LEADER, leader.email))
        return accounts


def load_demo(session: Session, seed: int = DEFAULT_SEED, start: date | None = None,
              ) -> DemoSummary:
    """Add the south-east-London demo system to an empty database, flush, never commit.

    ``start`` is the first Monday of the demo horizon (default the Monday on or after
    30 November 2026); leave and fixed commitments fall in the 16 weeks from it, and role
    start and end dates are set relative to it. Raises :class:`DemoAlreadyLoaded` if the demo
    organisations are already there.
    """
    start = monday_on_or_after(start or DEFAULT_START)
    if session.scalar(sa.select(Organisation.id).where(Organisation.code == ICB_CODE)):
        raise DemoAlreadyLoaded()
    rate_rows = load_default_rate_card(session)
    b = DemoBuilder(session, seed, start)
    b.organisations()
    b.people()
    b.leadership_roles()
    b.build_teams()
    b.fit_cover()
    b.limits()
    b.leave()
    accounts = b.users()
    session.flush()
    summary = DemoSummary(
        seed=seed,
        start=start,
        organisations=len(b.orgs),
        departments=len(b.depts),
        people=len(b.leaders),
        pattern_sessions=b.counts["patterns"],
        absences=b.counts["absences"],
        avoid_preferences=b.counts["avoids"],
        roles=len(b.roles),
        assignments=len(b.assignments),
        teams=len(b.teams),
        team_memberships=b.counts["memberships"],
        users=len(accounts),
        rate_card_entries=rate_rows,
        accounts=tuple(accounts),
    )
    log.info("Demo loaded (seed %d, from %s): %d people, %d roles, %d teams",
             seed, start, summary.people, summary.roles, summary.teams)
    return summary

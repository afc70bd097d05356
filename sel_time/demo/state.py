"""The state one demo build shares between its steps."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy.orm import Session

from ..finance.rate_card import default_rate_card
from ..models import (
    Borough,
    Department,
    Half,
    LeadershipRole,
    Organisation,
    Person,
    RoleAssignment,
    Team,
)
from .organisations import ORGS, DeptSpec, OrgSpec


@dataclass
class Leader:
    """A person being built, with what the build steps need to know about them."""

    person: Person
    dept: DeptSpec
    org: OrgSpec
    borough: Borough  # where they work
    worked: list[tuple[int, Half]]  # (weekday, half)
    roles: int = 0
    demand: Fraction = Fraction(0)  # sessions a week of individual commitments and team meetings
    teams: int = 0
    busy: set[tuple[date, Half]] = field(default_factory=set)


class BuildState:
    """What the build steps share: the session, the seeded generator, what has been added."""

    def __init__(self, session: Session, seed: int, start: date) -> None:
        self.s = session
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.orgs: dict[str, Organisation] = {}
        self.org_specs = {o.code: o for o in ORGS}
        self.depts: dict[str, Department] = {}
        self.leaders: list[Leader] = []
        self.by_dept: dict[str, list[Leader]] = {}
        self.roles: list[LeadershipRole] = []
        self.role_codes: set[str] = set()
        self.assignments: list[RoleAssignment] = []
        self.holders: dict[str, list[Leader]] = {}  # role key -> holders
        self.role_by_key: dict[str, LeadershipRole] = {}
        self.teams: list[Team] = []
        self.counts = {"patterns": 0, "absences": 0, "avoids": 0, "memberships": 0}
        self.rates = {r.staff_group: r.rate_pence_per_hour for r in default_rate_card()}

"""Build steps: the organisations and services, the people who work there and their working
patterns, and a few personal limits and preferences."""
from __future__ import annotations

import math

from ..finance.rate_card import staff_group_for
from ..models import (
    AvoidPreference,
    Department,
    Half,
    Organisation,
    OrgKind,
    PatternSession,
    Person,
    Profession,
    SessionKind,
)
from .names import FIRST_NAMES, LAST_NAMES, email_part
from .organisations import DEPTS, ORGS, DeptSpec, OrgSpec
from .state import BuildState, Leader

P = Profession
AM, PM = Half.AM, Half.PM


class StaffingSteps(BuildState):
    """Organisations, services, people, patterns, limits and preferences."""

    # ---- organisations --------------------------------------------------------------------

    def organisations(self) -> None:
        """Add the organisations and their services."""
        for spec in ORGS:
            org = Organisation(code=spec.code, name=spec.name, kind=spec.kind,
                               borough=spec.borough)
            self.s.add(org)
            self.orgs[spec.code] = org
        for d in DEPTS:
            dept = Department(code=d.code, name=d.name, max_away=d.max_away,
                              organisation=self.orgs[d.org])
            self.s.add(dept)
            self.depts[d.code] = dept

    # ---- people -----------------------------------------------------------------------------

    def people(self) -> None:
        """Add the people of every service, with unique generated names."""
        used_names: set[str] = set()
        n = 0
        for d in DEPTS:
            org = self.org_specs[d.org]
            for seat in d.seats:
                spec, count = seat.split("*")
                head, _, specialty = spec.partition(":")
                prof_text, _, band = head.partition("/")
                prof = Profession(prof_text)
                for _ in range(int(count)):
                    n += 1
                    while True:
                        first = self.rng.choice(FIRST_NAMES)
                        last = self.rng.choice(LAST_NAMES)
                        if f"{first} {last}" not in used_names:
                            break
                    used_names.add(f"{first} {last}")
                    self._person(n, first, last, prof, band or None, specialty or None, d, org)

    def _person(self, n: int, first: str, last: str, prof: Profession, band: str | None,
                specialty: str | None, d: DeptSpec, org: OrgSpec) -> None:
        council = org.kind == OrgKind.LOCAL_AUTHORITY
        halves = self._halves(prof, d)
        worked = self._worked(halves)
        fte = round(halves / 9, 2) if prof == P.GP else halves / 10
        person = Person(
            staff_number=f"DEMO-{n:04d}",
            email=f"{email_part(first)}.{email_part(last)}@{org.domain}",
            name=f"{first} {last}",
            profession=prof,
            specialty=specialty,
            staff_group=staff_group_for(prof, band, council=council),
            band=band,
            organisation=self.orgs[org.code],
            department=self.depts[d.code],
            fte=min(fte, 1.0),
        )
        non_clinical = self._non_clinical(prof, worked, d)
        for weekday, half in worked:
            kind = (SessionKind.NON_CLINICAL if (weekday, half) in non_clinical
                    else SessionKind.CLINICAL)
            person.pattern.append(PatternSession(weekday=weekday, half=half, kind=kind))
            self.counts["patterns"] += 1
        self.s.add(person)
        leader = Leader(person, d, org, d.borough or org.borough, worked)
        self.leaders.append(leader)
        self.by_dept.setdefault(d.code, []).append(leader)

    def _halves(self, prof: Profession, d: DeptSpec) -> int:
        """Half-days worked a week: most full time, some part time."""
        r = self.rng.random()
        if prof == P.GP:  # a full-time salaried GP works 9 sessions
            return (6, 7, 8, 9)[int(r * 4)]
        if prof in (P.CONSULTANT, P.SAS_DOCTOR) or d.non_clinical:
            return 10 if r < 0.85 else 8
        return 10 if r < 0.7 else (8 if r < 0.85 else 6)

    def _worked(self, halves: int) -> list[tuple[int, Half]]:
        days = list(range(5))
        off = self.rng.sample(days, 5 - math.ceil(halves / 2))
        on = [d for d in days if d not in off]
        worked = [(d, h) for d in on for h in (AM, PM)]
        if halves % 2:  # one afternoon off
            worked.remove((self.rng.choice(on), PM))
        return worked

    def _non_clinical(self, prof: Profession, worked: list[tuple[int, Half]],
                      d: DeptSpec) -> set[tuple[int, Half]]:
        if d.non_clinical:
            return set(worked)
        k = 2 if prof in (P.CONSULTANT, P.SAS_DOCTOR) else self.rng.choice((1, 1, 2))
        return set(self.rng.sample(worked, k))

    # ---- limits, rates and preferences ----------------------------------------------------------

    def limits(self) -> None:
        """Personal backfill rates, weekly and daily limits and half-days to avoid."""
        consultants_gps = [x for x in self.leaders if x.person.profession in (P.CONSULTANT, P.GP)]
        for x in self.rng.sample(consultants_gps, 8):
            # Internal cover at substantive cost (consultant, 2025/26 scales derived, GBP 73-97)
            # or a partner's agreed locum rate (GP).
            x.person.backfill_rate_pence = 8_500 if x.person.profession == P.CONSULTANT else 11_000
        for x in self.rng.sample(self.leaders, 8):
            x.person.max_per_week = max(3, math.ceil(x.demand) + 1)
        for x in self.rng.sample([x for x in self.leaders if x.demand <= 1.5], 5):
            x.person.max_per_day = 1
        for x in self.rng.sample(self.leaders, 15):
            for weekday, half in self.rng.sample(x.worked, self.rng.choice((1, 1, 2))):
                x.person.avoids.append(AvoidPreference(weekday=weekday, half=half))
                self.counts["avoids"] += 1

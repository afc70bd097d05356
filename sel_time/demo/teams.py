"""Build steps: the leadership teams, councils, networks, the fellows' cohort and the action
learning sets, with quorums and meeting slots their members can make; then service cover
raised where protected time would not fit."""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from ..models import Half, LeadershipRole, Period, Profession, Team, TeamKind
from .organisations import BOROUGH_ABBR, BOROUGHS, PCN_CODES, PCNS
from .sizing import PERIOD_WEEKS
from .state import BuildState, Leader

log = logging.getLogger(__package__)

P = Profession
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
_FN, _MO = Period.FORTNIGHT, Period.MONTH


class TeamSteps(BuildState):
    """Teams and their members, and service cover."""

    # ---- teams -----------------------------------------------------------------------------

    def _team(self, code: str, name: str, kind: TeamKind, members: Sequence[Leader],
              sessions: int, per: Period, candidates: Sequence[str] | None,
              budget_code: str | None, budget_gbp: int | None = None,
              funding_role: LeadershipRole | None = None, location: str | None = None) -> None:
        uniq: list[Leader] = []
        for m in members:
            if all(m is not u for u in uniq):
                uniq.append(m)
        slots = self._team_slots(uniq, candidates) if candidates else None
        # Quorum about 60 %, but always below what service cover lets away at once and below
        # the number of members who work in the team's best slot.
        per_dept: dict[str, int] = {}
        for m in uniq:
            per_dept[m.dept.code] = per_dept.get(m.dept.code, 0) + 1
        can_meet = sum(min(n, self.depts[d].max_away) for d, n in per_dept.items())
        if slots:
            can_meet = min(can_meet, max(self._working(uniq, slot) for slot in slots))
        quorum = max(2, min(math.ceil(0.6 * len(uniq)), can_meet - 1))
        team = Team(code=code, name=name, kind=kind, sessions_amount=sessions,
                    sessions_per=per, quorum=quorum,
                    allowed_slots=slots, location=location, budget_code=budget_code,
                    annual_budget_pence=None if budget_gbp is None else budget_gbp * 100,
                    funding_role=funding_role)
        team.members.extend(m.person for m in uniq)
        team.lead = uniq[0].person  # the first named member leads (may ask to move its sessions)
        self.s.add(team)
        self.teams.append(team)
        weekly = sessions / PERIOD_WEEKS[per]
        for m in uniq:
            m.teams += 1
            m.demand += weekly
        self.counts["memberships"] += len(uniq)

    @staticmethod
    def _working(members: Sequence[Leader], slot: str) -> int:
        """How many of ``members`` normally work the half-day ``slot`` ("Wed/PM")."""
        day, half = slot.split("/")
        key = (DAYS.index(day), Half(half))
        return sum(1 for m in members if key in m.worked)

    def _team_slots(self, members: Sequence[Leader], candidates: Sequence[str]) -> list[str]:
        """The candidate half-day (or "Thu/AM+Thu/PM" day) most members work; ties go to the
        first."""
        best = max(candidates,
                   key=lambda c: sum(self._working(members, s) for s in c.split("+")))
        return best.split("+")

    def _free(self, pool: Sequence[Leader], n: int, max_teams: int,
              exclude: Sequence[Leader] = ()) -> list[Leader]:
        """``n`` leaders from ``pool``, spread over services, with few teams and light load."""
        ok = [x for x in pool if x.teams < max_teams and x.demand <= 2.0
              and all(x is not e for e in exclude)]
        self.rng.shuffle(ok)
        ok.sort(key=lambda x: x.teams)
        out: list[Leader] = []
        per_dept: dict[str, int] = {}
        for x in ok:
            if per_dept.get(x.dept.code, 0) >= 1:
                continue
            out.append(x)
            per_dept[x.dept.code] = per_dept.get(x.dept.code, 0) + 1
            if len(out) == n:
                break
        return out

    def build_teams(self) -> None:
        """Leadership teams, councils and networks, the fellows' cohort and learning sets."""
        h = self.holders
        tue_thu = ("Tue/PM", "Wed/PM", "Thu/PM")
        for i, borough in enumerate(BOROUGHS):
            abbr = BOROUGH_ABBR[borough]
            members = [x for key, hs in h.items() if key.startswith(f"place:{abbr}:")
                       for x in hs]
            members += [x for code, _, b, _ in PCNS if b == borough for x in h[f"pcn:{code}"]]
            members += h[f"psw:{abbr}"]
            self._team(f"LT-{abbr}", f"{borough.value} Clinical and Care Professional Leadership "
                       "Team", TeamKind.LEADERSHIP_TEAM, members, 1, _MO,
                       tue_thu if i % 2 == 0 else None, f"SEL-CCPL-{abbr}",
                       location=f"{borough.value} Local Care Partnership")
        council = [x for key, hs in h.items() if key.startswith("sys:")
                   and key not in ("sys:care-management", "sys:leadership-development",
                                   "sys:healthcare-science")
                   for x in hs[:1]]
        chair_role = self.role_by_key["sys:chair"]
        self._team("SEL-CCPL-COUNCIL", "SEL Clinical and Care Professional Leadership Council",
                   TeamKind.BOARD, council, 1, _MO, ("Tue/PM", "Wed/PM", "Thu/PM"),
                   "SEL-CCPL-SYS", funding_role=chair_role,
                   location="ICB offices, 160 Tooley Street")
        cds = [x for code in PCN_CODES for x in h[f"pcn:{code}"]]
        self._team("SEL-PCN-CD-FORUM", "SEL Primary Care Clinical Directors Forum",
                   TeamKind.LEADERSHIP_TEAM, cds, 1, _MO, ("Wed/PM", "Thu/PM", "Tue/PM"),
                   "SEL-CCPL-SYS")
        by_prof = self._by_profession
        ahps = h["sys:ahp"] + [x for b in BOROUGHS for x in h[f"place:{BOROUGH_ABBR[b]}:ahp"]]
        ahps += self._free(by_prof(P.AHP), 10 - len(ahps), 2, ahps)
        self._team("SEL-AHP-COUNCIL", "SEL Allied Health Professions Council",
                   TeamKind.LEADERSHIP_TEAM, ahps, 1, _MO, None, "SEL-CCPL-SYS")
        nm = h["sys:nursing"] + h["sys:midwifery"]
        nm += [x for b in BOROUGHS for x in h[f"place:{BOROUGH_ABBR[b]}:nursing"][:1]]
        nm += self._free(by_prof(P.MIDWIFE), 2, 2, nm)
        self._team("SEL-NM-GROUP", "SEL Nursing and Midwifery Leadership Group",
                   TeamKind.LEADERSHIP_TEAM, nm, 1, _MO, ("Mon/PM", "Fri/AM"), "SEL-CCPL-SYS")
        ph = h["sys:pharmacy"] + self._free(by_prof(P.PHARMACIST), 7, 2, h["sys:pharmacy"])
        self._team("SEL-PHARMACY-NETWORK", "SEL Pharmacy and Medicines Optimisation Network",
                   TeamKind.LEADERSHIP_TEAM, ph, 1, _MO, None, "SEL-CCPL-SYS")
        psw = h["sys:social-care"] + h["sys:care-management"]
        psw += [x for b in BOROUGHS for x in h[f"psw:{BOROUGH_ABBR[b]}"]]
        self._team("SEL-PSW-NETWORK", "SEL Principal Social Workers and Social Care Leads "
                   "Network", TeamKind.LEADERSHIP_TEAM, psw, 1, _MO, None, "SEL-CCPL-SYS")
        # A development cohort across professions and organisations, and learning sets.
        fellows: list[Leader] = []
        for prof in Profession:
            fellows += self._free(by_prof(prof), 1, 1, fellows)
        self._team("SEL-FELLOWS-2026", "SEL Leadership Fellows 2026 cohort",
                   TeamKind.TRAINING_COHORT, fellows, 1, _FN, ("Thu/AM+Thu/PM", "Wed/AM+Wed/PM"),
                   "SEL-LDP-FELLOWS-2026", budget_gbp=60_000,
                   location="In person, London Bridge, and online")
        sets = ("Integrated Neighbourhood Teams", "Urgent and Emergency Care",
                "Mental Health and Wellbeing", "Children and Families")
        for i, theme in enumerate(sets):
            members = self._free(self.leaders, 6, 1)
            self._team(f"SEL-ALS-{chr(65 + i)}", f"Action Learning Set {chr(65 + i)}: {theme}",
                       TeamKind.ACTION_LEARNING_SET, members, 1, _FN if i % 2 else _MO,
                       ("Mon/PM", "Tue/AM", "Fri/AM") if i % 2 == 0 else None,
                       "SEL-LDP-ALS", budget_gbp=6_000)

    def fit_cover(self) -> None:
        """Make sure each service's weekly demand for protected time (roles and team meetings)
        stays within 60 % of what its cover limit allows, raising a limit (up to 3) if not."""
        for code, leaders in self.by_dept.items():
            dept = self.depts[code]
            asked = sum(x.demand for x in leaders)
            while asked > 0.6 * dept.max_away * 10 and dept.max_away < 3:
                dept.max_away += 1
                log.info("Demo: %s may now have %d away at once", code, dept.max_away)

    def _by_profession(self, prof: Profession) -> list[Leader]:
        return [x for x in self.leaders if x.person.profession == prof]

"""Build steps: the leadership roles (system, place, neighbourhood and organisation), who
holds them, and the few that change hands during the horizon."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from ..models import (
    Borough,
    CommitmentUnit,
    LeadershipRole,
    OrgKind,
    Period,
    Profession,
    RoleAssignment,
    RoleLevel,
)
from .names import slug
from .organisations import BOROUGH_ABBR, BOROUGHS, COUNCILS, ICB_CODE, PCNS
from .roles import ORG_ROLES, SECOND_ROLES, SYSTEM_ROLES, OrgRole, RoleSpec, place_roles
from .sizing import annual_hours, sessions_per_week
from .state import BuildState, Leader

P = Profession


class RoleSteps(BuildState):
    """Leadership roles and their holders."""

    # ---- roles -----------------------------------------------------------------------------

    def _pick(self, spec: RoleSpec, borough: Borough | None = None,
              org_codes: Sequence[str] = (), exclude: Iterable[Leader] = ()) -> Leader:
        """Choose a holder: the right profession, preferably in the preferred services and
        borough, preferably holding no role yet; ties broken by the seeded generator."""
        taken = [id(x) for x in exclude]
        pool = [x for x in self.leaders if x.person.profession in spec.professions
                and id(x) not in taken and x.roles < 2
                and (not org_codes or x.org.code in org_codes)
                and (not spec.strict or x.dept.code in spec.prefer_depts)]
        if not pool:
            raise RuntimeError(f"no candidate for demo role {spec.title!r}")

        def rank(x: Leader) -> tuple[int, int, int]:
            preferred = (x.dept.code in spec.prefer_depts or x.org.code in spec.prefer_orgs)
            return (x.roles, 0 if borough is None or x.borough == borough else 1,
                    0 if preferred or not (spec.prefer_depts or spec.prefer_orgs) else 1)

        best = min(rank(x) for x in pool)
        return self.rng.choice([x for x in pool if rank(x) == best])

    def _role(self, code: str, title: str, level: RoleLevel, host: str, amount: float,
              unit: CommitmentUnit, per: Period, budget_code: str, staff_group: str,
              description: str | None = None) -> LeadershipRole:
        code = code[:60]
        base, i = code, 2
        while code in self.role_codes:
            code = f"{base[:56]}-{i}"
            i += 1
        self.role_codes.add(code)
        hours = annual_hours(amount, unit, per)
        budget_gbp = round(hours * self.rates[staff_group] / 100 / 100) * 100
        role = LeadershipRole(
            code=code, title=title[:200], level=level, host_organisation=self.orgs[host],
            commitment_amount=amount, commitment_unit=unit, commitment_per=per,
            budget_code=budget_code, annual_budget_pence=budget_gbp * 100,
            description=description,
        )
        self.s.add(role)
        self.roles.append(role)
        return role

    def _since(self) -> date:
        """A start date three months to five years before the horizon (drawn the same way
        whatever ``start`` is, so a later start shifts the dates and changes nothing else)."""
        return self.start - timedelta(days=90 + self.rng.randrange(5 * 365 - 90))

    def _assign(self, leader: Leader, role: LeadershipRole, share: float = 1.0,
                start: date | None = None, end: date | None = None) -> RoleAssignment:
        a = RoleAssignment(person=leader.person, role=role, share=share,
                           start_date=start or self._since(), end_date=end)
        self.s.add(a)
        self.assignments.append(a)
        leader.roles += 1
        leader.demand += sessions_per_week(
            role.commitment_amount, role.commitment_unit, role.commitment_per, share)
        return a

    def _fill(self, spec: RoleSpec, key: str, code: str, title: str, level: RoleLevel,
              host: str, budget: str, borough: Borough | None = None,
              org_codes: Sequence[str] = ()) -> list[Leader]:
        holders: list[Leader] = []
        for _ in range(spec.holders):
            holders.append(self._pick(spec, borough, org_codes, holders))
        role = self._role(code, title, level, host, spec.amount, spec.unit, spec.per, budget,
                          holders[0].person.staff_group, spec.description)
        share = 1.0 if spec.holders == 1 else 0.5
        for h in holders:
            self._assign(h, role, share)
        self.holders[key] = holders
        self.role_by_key[key] = role
        return holders

    def leadership_roles(self) -> None:
        """System, place, PCN and principal social worker roles, then organisation roles for
        everyone else, second roles and handovers."""
        for spec in SYSTEM_ROLES:
            self._fill(spec, f"sys:{spec.key}", f"SEL-SYS-{spec.key.upper()}", spec.title,
                       RoleLevel.SYSTEM, ICB_CODE, "SEL-CCPL-SYS")
        for borough in BOROUGHS:
            abbr = BOROUGH_ABBR[borough]
            for spec in place_roles(borough):
                self._fill(spec, f"place:{abbr}:{spec.key}",
                           f"SEL-{abbr}-{spec.key.upper()}", spec.title, RoleLevel.PLACE,
                           ICB_CODE, f"SEL-CCPL-{abbr}", borough=borough)
        for code, name, borough, cd_sessions in PCNS:
            spec = RoleSpec("cd", f"Clinical Director, {name}", (P.GP,), cd_sessions,
                            CommitmentUnit.GP_SESSION, Period.WEEK)
            self._fill(spec, f"pcn:{code}", f"{code}-CD", spec.title, RoleLevel.NEIGHBOURHOOD,
                       code, f"{code}-DES", org_codes=(code,))
        for borough in BOROUGHS:
            council, name, _, abbr = COUNCILS[borough]
            spec = RoleSpec("psw", f"Principal Social Worker, {name}", (P.SOCIAL_WORKER,),
                            1, CommitmentUnit.SESSION, Period.WEEK)
            self._fill(spec, f"psw:{abbr}", f"{council}-PSW", spec.title,
                       RoleLevel.ORGANISATION, council, f"{council}-ASC-LDR",
                       org_codes=(council,))
        self._organisation_roles()
        self._second_roles()
        self._handovers()

    def _org_title(self, leader: Leader, title: str) -> str:
        org = leader.org
        if org.kind == OrgKind.PRIMARY_CARE_NETWORK:
            service = org.name
        elif org.kind == OrgKind.LOCAL_AUTHORITY:
            service = f"{org.borough.value} {leader.dept.name}"
        else:
            service = leader.dept.name
        return title.format(dept=service, org=org.name,
                            specialty=leader.person.specialty or "Practice")

    def _org_role(self, leader: Leader, template: OrgRole, share: float = 1.0,
                  extra: Sequence[Leader] = (), shared: bool = False) -> None:
        """Give ``leader`` (and any ``extra`` job-sharers) an organisation-level role; with
        ``shared``, a role of the same title that already exists takes another holder."""
        title, amount, unit, per = template
        org = leader.org
        text = self._org_title(leader, title)
        role = self.role_by_key.get(f"title:{text}") if shared else None
        if role is None:
            level = (RoleLevel.NEIGHBOURHOOD if org.kind == OrgKind.PRIMARY_CARE_NETWORK
                     else RoleLevel.ORGANISATION)
            role = self._role(f"{org.code}-{slug(text.split(',')[0]).upper()}", text, level,
                              org.code, amount, unit, per, f"{org.code}-LDR",
                              leader.person.staff_group)
            self.role_by_key[f"title:{text}"] = role
        self._assign(leader, role, share)
        for other in extra:
            self._assign(other, role, share)

    def _organisation_roles(self) -> None:
        """Everyone without a role gets one in their own organisation, a title nobody holds
        yet where possible; a few job-share, and some part-timers hold theirs part time."""
        for leader in self.leaders:
            if leader.roles:
                continue
            options = list(ORG_ROLES[leader.person.profession])
            self.rng.shuffle(options)
            fresh = [t for t in options
                     if f"title:{self._org_title(leader, t[0])}" not in self.role_by_key]
            template = (fresh or options)[0]
            peers = [x for x in self.by_dept[leader.dept.code] if x is not leader
                     and not x.roles and x.person.profession == leader.person.profession]
            if peers and self.rng.random() < 0.15:
                self._org_role(leader, template, 0.5, [self.rng.choice(peers)])
            elif leader.person.fte <= 0.6 and self.rng.random() < 0.5:
                self._org_role(leader, template, 0.6)  # held part time
            else:
                self._org_role(leader, template)

    def _second_roles(self) -> None:
        """Some leaders with light commitments also hold a second, lighter role; several may
        hold the same one (three GP appraisers in one PCN hold one role)."""
        for leader in self.leaders:
            if leader.roles == 1 and leader.demand <= 1.0 and self.rng.random() < 0.3:
                self._org_role(leader, SECOND_ROLES[leader.person.profession], shared=True)

    def _handovers(self) -> None:
        """A few roles change hands during the horizon: one holder leaves on a Friday, and
        for some a successor in the same organisation starts the Monday after."""
        candidates = [a for a in self.assignments if a.role.level == RoleLevel.ORGANISATION
                      and a.share == 1.0]
        chosen = self.rng.sample(candidates, 5)
        for i, a in enumerate(chosen):
            end = self.start + timedelta(weeks=self.rng.randrange(4, 10), days=4)
            a.end_date = end
            if i % 2:
                continue
            holder = next(x for x in self.leaders if x.person is a.person)
            successors = [x for x in self.leaders if x.org is holder.org and x is not holder
                          and x.person.profession == holder.person.profession
                          and x.roles == 1 and x.demand <= 1.5]
            if successors:
                self._assign(self.rng.choice(successors), a.role,
                             start=end + timedelta(days=3))

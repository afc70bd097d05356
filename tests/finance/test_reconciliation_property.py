"""Property: for any published roster, every summary adds up to its sessions, to the penny.

Hypothesis builds a random system (organisations, departments, people of any profession and
staff group, roles and teams with or without budgets and budget codes) and a random roster
(individual and team sessions across financial-year, quarter and clock-change boundaries, some
cancelled, with any cost and any fraction taken), and a random period and organisation. For
every grouping and some pairs, the rows' planned and delivered add up exactly to the sum over
the sessions, worked out here independently of ``finance``, and to the totals row; the rows'
budgets add up exactly to the total budget, which is the annual budgets pro-rated by days.
Each example is one transaction, rolled back at the end.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sel_time.core.clock import LONDON, UTC
from sel_time.core.extensions import db
from sel_time.finance import backfill
from sel_time.models import (
    Attendance,
    Department,
    LeadershipRole,
    Organisation,
    OrgKind,
    Person,
    Profession,
    ProtectedSession,
    RoleAssignment,
    RoleLevel,
    RosterStatus,
    Team,
    TeamKind,
)

GROUPINGS = [[g] for g in backfill.GROUPINGS] + [
    ["organisation", "month"], ["role", "quarter"], ["department", "profession"],
    ["team", "budget_code"], ["staff_group", "year"], ["budget_code", "month"]]
FIRST_DAY = date(2026, 3, 20)  # around the end of 2025/26, the clocks going forward ...
DAYS = 420  # ... to the start of 2027/28 (a year of 366 days, to February 2028)
STAFF_GROUPS = ["consultant", "gp", "afc_band_7", "afc_band_8a", "social_worker"]


@dataclass(frozen=True)
class SessionSpec:
    team: int | None  # team index, or None for an individual session
    owner: int  # person index (individual) or ignored (team)
    role: int  # role index held by that person (individual)
    day: int  # days after FIRST_DAY
    start_minute: int  # UTC minutes after midnight: late starts fall on the next London day
    minutes: int
    cancelled: bool
    attendees: tuple[tuple[int, int, int | None], ...]  # (person index, pence, fraction × 10000)


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    n_orgs = draw(st.integers(1, 3))
    departments = draw(st.lists(st.integers(0, n_orgs - 1), max_size=4))  # each its organisation
    people = draw(st.lists(st.tuples(
        st.integers(0, n_orgs - 1), st.integers(-1, len(departments) - 1),
        st.sampled_from(list(Profession)), st.sampled_from(STAFF_GROUPS)), min_size=1, max_size=6))
    budget = st.one_of(st.none(), st.integers(0, 50_000_000))
    code = st.sampled_from([None, "A", "B", "C"])
    roles = draw(st.lists(st.tuples(st.integers(0, n_orgs - 1), code, budget,
                                    st.sampled_from(["Lead", "Director", "Chair"])),
                          min_size=1, max_size=4))
    funder = st.one_of(st.none(), st.integers(0, len(roles) - 1))
    teams = draw(st.lists(st.tuples(code, budget, funder),
                          max_size=2))
    n_people = len(people)
    fraction = st.one_of(st.sampled_from([None, 0, 2500, 3000, 5000, 7500, 10000]),
                         st.integers(0, 10000))
    # Costs of any size, and small odd ones whose halves and quarters end in half a penny.
    pence = st.one_of(st.integers(0, 2_000_000), st.integers(0, 5000).map(lambda k: 2 * k + 1))
    attendee = st.tuples(st.integers(0, n_people - 1), pence, fraction)
    sessions = draw(st.lists(st.builds(
        SessionSpec,
        team=st.one_of(st.none(), st.integers(0, len(teams) - 1)) if teams else st.none(),
        owner=st.integers(0, n_people - 1), role=st.integers(0, len(roles) - 1),
        day=st.integers(0, DAYS),
        start_minute=st.sampled_from([0, 8 * 60, 9 * 60, 13 * 60, 23 * 60 + 30]),
        minutes=st.sampled_from([90, 240, 250]),
        cancelled=st.sampled_from([False, False, False, True]),
        attendees=st.lists(attendee, min_size=1, max_size=3, unique_by=lambda a: a[0]).map(tuple)),
        min_size=1, max_size=14))
    period = draw(st.one_of(st.none(), st.tuples(st.integers(0, DAYS), st.integers(0, DAYS))))
    organisation = draw(st.one_of(st.none(), st.integers(0, n_orgs - 1)))
    return {"orgs": n_orgs, "departments": departments, "people": people, "roles": roles,
            "teams": teams, "sessions": sessions, "period": period, "organisation": organisation}


def build(world: dict[str, Any]) -> dict[str, Any]:
    """Insert the world (flushed, never committed); return what the checks need."""
    orgs = [Organisation(code=f"o{i}", name=f"Org {i}", kind=OrgKind.ACUTE_TRUST, borough="Lambeth")
            for i in range(world["orgs"])]
    db.session.add_all(orgs)
    db.session.flush()
    depts = [Department(code=f"d{i}", name=f"Dept {i}", organisation_id=orgs[o].id, max_away=1)
             for i, o in enumerate(world["departments"])]
    db.session.add_all(depts)
    db.session.flush()
    people = []
    for i, (o, d, profession, group) in enumerate(world["people"]):
        dept = depts[d] if d >= 0 and depts[d].organisation_id == orgs[o].id else None
        people.append(Person(email=f"p{i}@nhs.net", name=f"P{i}", profession=profession,
                             staff_group=group, organisation_id=orgs[o].id,
                             department_id=dept.id if dept else None))
    db.session.add_all(people)
    roles = [LeadershipRole(code=f"r{i}", title=f"{title} {i % 2}", level=RoleLevel.PLACE,
                            host_organisation_id=orgs[o].id, commitment_amount=1,
                            commitment_unit="session", commitment_per="week", budget_code=code,
                            annual_budget_pence=budget)
             for i, (o, code, budget, title) in enumerate(world["roles"])]
    db.session.add_all(roles)
    db.session.flush()
    teams = [Team(code=f"t{i}", name=f"Team {i}", kind=TeamKind.LEADERSHIP_TEAM,
                  sessions_per="month",
                  quorum=1, budget_code=code, annual_budget_pence=budget,
                  funding_role_id=roles[r].id if r is not None else None)
             for i, (code, budget, r) in enumerate(world["teams"])]
    db.session.add_all(teams)
    db.session.flush()
    assignments: dict[tuple[int, int], RoleAssignment] = {}
    lines = []  # (London day, person org index, pence, fraction) of every confirmed attendance
    for n, s in enumerate(world["sessions"]):
        start = datetime.combine(FIRST_DAY + timedelta(days=s.day), datetime.min.time(), UTC) + \
            timedelta(minutes=s.start_minute)
        if s.team is None:
            key = (s.owner, s.role)
            if key not in assignments:
                assignments[key] = RoleAssignment(person_id=people[s.owner].id,
                                                  role_id=roles[s.role].id,
                                                  start_date=FIRST_DAY)
                db.session.add(assignments[key])
                db.session.flush()
            pence, frac = s.attendees[0][1], s.attendees[0][2]
            attendees = ((s.owner, pence, frac),)
            owner = {"person_id": people[s.owner].id, "assignment_id": assignments[key].id}
        else:
            attendees = s.attendees
            owner = {"team_id": teams[s.team].id}
        status = RosterStatus.CANCELLED if s.cancelled else RosterStatus.CONFIRMED
        db.session.add(ProtectedSession(
            uid=f"s{n}", slot=f"{start.date()}/X{n}", start_at=start,  # one live per slot
            end_at=start + timedelta(minutes=s.minutes),
            status=status, published_at=start, last_modified=start, **owner,
            attendances=[Attendance(person_id=people[p].id, cost_pence=pence,
                                    fraction_taken=None if f is None else f / 10000)
                         for p, pence, f in attendees]))
        if not s.cancelled:
            day = start.astimezone(LONDON).date()
            lines += [(day, world["people"][p][0], pence, f) for p, pence, f in attendees]
    db.session.flush()
    return {"lines": lines, "roles": roles, "teams": teams}


def half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2))


def fy_days(day: date) -> int:
    start = day.year if day.month >= 4 else day.year - 1
    return (date(start + 1, 4, 1) - date(start, 4, 1)).days


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds())
def test_every_summary_adds_up_to_its_sessions(app: Flask, world: dict[str, Any]) -> None:
    try:
        built = build(world)
        first = last = None
        if world["period"] is not None:
            first = FIRST_DAY + timedelta(days=world["period"][0])
            last = first + timedelta(days=world["period"][1])
        org = world["organisation"]
        lines = [ln for ln in built["lines"]
                 if (first is None or first <= ln[0] <= last) and (org is None or ln[1] == org)]
        planned = sum(ln[2] for ln in lines)
        delivered = sum(half_up(ln[2] * Fraction(ln[3] or 0, 10000)) for ln in lines)
        if first is None:
            days = [ln[0] for ln in lines]
            from sel_time.core.clock import today_london
            first, last = (min(days), max(days)) if days else (today_london(), today_london())
        owners = [r.annual_budget_pence for r in built["roles"]
                  if r.annual_budget_pence is not None
                  and (org is None or r.host_organisation.code == f"o{org}")]
        if org is None:
            owners += [t.annual_budget_pence for t in built["teams"]
                       if t.annual_budget_pence is not None]
        exact_budget = sum((Fraction(annual, fy_days(first + timedelta(days=i)))
                            for annual in owners for i in range((last - first).days + 1)),
                           Fraction(0))

        for by in GROUPINGS:
            s = backfill.summarise(by, None if world["period"] is None else first,
                                  None if world["period"] is None else last,
                                  None if org is None else f"o{org}")
            total = (s.total.sessions, s.total.planned, s.total.delivered)
            assert total == (len(lines), planned, delivered), by
            assert sum(r.sessions for r in s.rows) == len(lines)
            assert sum(r.planned for r in s.rows) == planned, by
            assert sum(r.delivered for r in s.rows) == delivered, by
            assert sum(r.hours_planned for r in s.rows) == s.total.hours_planned
            assert sum(r.hours_delivered for r in s.rows) == s.total.hours_delivered
            doc = backfill.summary_json(s)
            pence = lambda v: round(v * 100)  # noqa: E731  the JSON's £, two places, back to pence
            for figure, exact in (("planned", planned), ("delivered", delivered)):
                rows_sum = sum(pence(r[figure]) for r in doc["rows"])
                assert rows_sum == pence(doc["totals"][figure]) == exact, (by, figure)
            if set(by) <= backfill.BUDGET_KEYS:
                assert s.total.budget == half_up(exact_budget), by
                assert sum(r.budget for r in s.rows) == s.total.budget, by
                assert all(r.budget.denominator == 1 for r in s.rows)
                budgets = sum(pence(r["budget"]) for r in doc["rows"])
                assert budgets == pence(doc["totals"]["budget"])
                for r in [*doc["rows"], doc["totals"]]:
                    assert pence(r["variance_planned"]) == pence(r["budget"]) - pence(r["planned"])
                    assert pence(r["variance_delivered"]) == (
                        pence(r["budget"]) - pence(r["delivered"]))
            else:
                assert doc["totals"]["budget"] is None
                assert all(r["budget"] is None for r in doc["rows"])
    finally:
        db.session.rollback()

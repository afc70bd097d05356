"""The south-east-London demo data set and the default backfill rate card."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from sel_time.core.extensions import db
from sel_time.demo import (
    DEFAULT_START,
    HORIZON_WEEKS,
    PERIOD_WEEKS,
    DemoAlreadyLoaded,
    DemoSummary,
    load_demo,
    monday_on_or_after,
    sessions_per_week,
)
from sel_time.finance.rate_card import (
    DEFAULT_EFFECTIVE_FROM,
    default_rate_card,
    default_staff_groups,
    load_default_rate_card,
    staff_group_for,
)
from sel_time.models import (
    Absence,
    AbsenceKind,
    Department,
    LeadershipRole,
    Organisation,
    OrgKind,
    Person,
    Profession,
    RateCardEntry,
    RoleAssignment,
    RoleLevel,
    SessionKind,
    Team,
    TeamKind,
    User,
    UserRole,
)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@contextmanager
def _fresh_session() -> Iterator[Session]:
    """A session on a new in-memory SQLite database with the full schema."""
    engine = sa.create_engine("sqlite://")
    db.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Session, DemoSummary]]:
    with _fresh_session() as session:
        yield session, load_demo(session)


def _all(session: Session, model: Any) -> list[Any]:
    return list(session.scalars(sa.select(model)))


def _weekly_demand(session: Session) -> dict[int, Fraction]:
    """Half-day sessions a week each person is asked for: individual roles and team meetings."""
    demand: Counter[int] = Counter()
    for a in _all(session, RoleAssignment):
        amount, unit, per = a.effective_commitment
        demand[a.person_id] += sessions_per_week(amount, unit, per, a.share)
    for team in _all(session, Team):
        for member in team.members:
            demand[member.id] += team.sessions_amount / PERIOD_WEEKS[team.sessions_per]
    return dict(demand)


def _snapshot(session: Session) -> dict[str, Any]:
    people = [
        (
            p.staff_number, p.email, p.name, p.profession.value, p.specialty, p.staff_group,
            p.band, p.fte, p.organisation.code, p.department.code if p.department else None,
            p.backfill_rate_pence, p.max_per_day, p.max_per_week,
            sorted((s.weekday, s.half.value, s.kind.value) for s in p.pattern),
            sorted((a.kind.value, a.start_date, a.start_half.value, a.end_date,
                    a.end_half.value, a.note or "") for a in p.absences),
            sorted((v.weekday, v.half.value) for v in p.avoids),
        )
        for p in session.scalars(sa.select(Person).order_by(Person.email))
    ]
    roles = sorted(
        (r.code, r.title, r.level.value, r.host_organisation.code, r.commitment_amount,
         r.commitment_unit.value, r.commitment_per.value, r.budget_code, r.annual_budget_pence)
        for r in _all(session, LeadershipRole)
    )
    assignments = sorted(
        (a.person.email, a.role.code, a.start_date, a.end_date or date.max, a.share)
        for a in _all(session, RoleAssignment)
    )
    teams = sorted(
        (t.code, t.name, t.kind.value, t.sessions_amount, t.sessions_per.value, t.quorum,
         tuple(t.allowed_slots or ()), tuple(sorted(m.email for m in t.members)))
        for t in _all(session, Team)
    )
    users = sorted((u.email, u.role.value, u.person.email if u.person else "")
                   for u in _all(session, User))
    return {"people": people, "roles": roles, "assignments": assignments, "teams": teams,
            "users": users}


# ---- size and coverage -------------------------------------------------------------------------


def test_summary_matches_the_database(demo: tuple[Session, DemoSummary]) -> None:
    session, summary = demo

    def count(model: Any) -> int | None:
        return session.scalar(sa.select(sa.func.count()).select_from(model))

    assert summary.people == count(Person)
    assert summary.organisations == count(Organisation)
    assert summary.departments == count(Department)
    assert summary.roles == count(LeadershipRole)
    assert summary.assignments == count(RoleAssignment)
    assert summary.teams == count(Team)
    assert summary.absences == count(Absence)
    assert summary.users == count(User)
    assert summary.rate_card_entries == count(RateCardEntry) == len(default_rate_card())
    assert summary.start == DEFAULT_START == date(2026, 11, 30)


def test_between_150_and_250_leaders_across_every_profession(
    demo: tuple[Session, DemoSummary]
) -> None:
    session, summary = demo
    assert 150 <= summary.people <= 250
    professions = Counter(p.profession for p in _all(session, Person))
    assert set(professions) == set(Profession)
    ahp_specialties = {p.specialty for p in _all(session, Person) if p.profession == Profession.AHP}
    assert {"Physiotherapy", "Occupational therapy", "Speech and language therapy",
            "Dietetics", "Radiography"} <= ahp_specialties


def test_the_real_partner_organisations(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    orgs = _all(session, Organisation)
    names = {o.name for o in orgs}
    for name in ("NHS South East London Integrated Care Board",
                 "Guy's and St Thomas' NHS Foundation Trust",
                 "King's College Hospital NHS Foundation Trust",
                 "Lewisham and Greenwich NHS Trust",
                 "South London and Maudsley NHS Foundation Trust",
                 "Oxleas NHS Foundation Trust",
                 "Bromley Healthcare"):
        assert name in names
    councils = [o for o in orgs if o.kind == OrgKind.LOCAL_AUTHORITY]
    assert sorted(o.borough.value for o in councils) == [
        "Bexley", "Bromley", "Greenwich", "Lambeth", "Lewisham", "Southwark"]
    assert all(any(d.name == "Adult Social Care" for d in o.departments) for o in councils)
    pcns = [o for o in orgs if o.kind == OrgKind.PRIMARY_CARE_NETWORK]
    assert 6 <= len(pcns) <= 8
    assert len({o.borough for o in pcns}) == 6


def test_every_person_has_a_service_with_a_cover_limit(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    assert all(1 <= d.max_away <= 3 for d in _all(session, Department))
    assert all(p.department is not None for p in _all(session, Person))
    assert all(p.department.organisation_id == p.organisation_id for p in _all(session, Person))


def test_emails_are_unique_and_from_the_employer(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    people = _all(session, Person)
    assert len({p.email for p in people}) == len(people)
    for p in people:
        domain = p.email.split("@")[1]
        if p.organisation.kind == OrgKind.LOCAL_AUTHORITY:
            assert domain.endswith(".gov.uk")
        else:
            assert domain == "nhs.net"


# ---- patterns, leave, preferences -------------------------------------------------------------


def test_working_patterns_full_and_part_time(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    people = _all(session, Person)
    halves = Counter(len(p.pattern) for p in people)
    assert halves[10] > len(people) / 2
    assert halves[6] > 0 and halves[8] > 0
    for p in people:
        assert 6 <= len(p.pattern) <= 10
        assert all(s.weekday < 5 for s in p.pattern)
        non_clinical = sum(s.kind == SessionKind.NON_CLINICAL for s in p.pattern)
        if p.organisation.kind == OrgKind.ICB:
            assert non_clinical == len(p.pattern)
        else:
            assert 1 <= non_clinical <= 2
        expected = len(p.pattern) / (9 if p.profession == Profession.GP else 10)
        assert p.fte == pytest.approx(min(expected, 1.0), abs=0.01)


def test_leave_falls_in_the_horizon_without_overlaps(demo: tuple[Session, DemoSummary]) -> None:
    session, summary = demo
    end = summary.start + timedelta(weeks=HORIZON_WEEKS)
    absences = _all(session, Absence)
    assert {a.kind for a in absences} == set(AbsenceKind)
    by_person: dict[int, list[Absence]] = {}
    for a in absences:
        assert summary.start - timedelta(days=7) <= a.start_date <= a.end_date < end
        by_person.setdefault(a.person_id, []).append(a)
    for items in by_person.values():
        items.sort(key=lambda a: a.start_key())
        for before, after in zip(items, items[1:]):
            assert before.end_key() < after.start_key()
    assert len(by_person) > summary.people / 2


def test_limits_overrides_and_preferences(demo: tuple[Session, DemoSummary]) -> None:
    session, summary = demo
    people = _all(session, Person)
    assert sum(p.backfill_rate_pence is not None for p in people) >= 5
    assert sum(p.max_per_week is not None for p in people) >= 3
    assert summary.avoid_preferences >= 10
    demand = _weekly_demand(session)
    for p in people:
        if p.max_per_week is not None:
            assert p.max_per_week >= demand[p.id] + 1


# ---- roles ---------------------------------------------------------------------------------


def test_realistic_roles(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    roles = _all(session, LeadershipRole)
    titles = {r.title for r in roles}
    assert {r.level for r in roles} == set(RoleLevel)
    for pcn in (o for o in _all(session, Organisation) if o.kind == OrgKind.PRIMARY_CARE_NETWORK):
        assert f"Clinical Director, {pcn.name}" in titles
    for borough in ("Bexley", "Bromley", "Greenwich", "Lambeth", "Lewisham", "Southwark"):
        for field in ("Nursing", "Allied Health Professions", "Adult Social Care",
                      "Primary Care"):
            assert f"{borough} Clinical and Care Professional Lead for {field}" in titles
    for field in ("Nursing", "Allied Health Professions", "Pharmacy and Medicines Optimisation",
                  "Social Care"):
        assert f"System Lead for {field}" in titles
    assert all(r.budget_code and r.annual_budget_pence and r.annual_budget_pence > 0
               for r in roles)
    assert all(r.assignments for r in roles)


def test_assignments(demo: tuple[Session, DemoSummary]) -> None:
    session, summary = demo
    assignments = _all(session, RoleAssignment)
    per_person = Counter(a.person_id for a in assignments)
    assert set(per_person.values()) <= {1, 2}
    assert len(per_person) == summary.people
    assert 2 in per_person.values()
    shares = Counter(a.share for a in assignments)
    assert shares[0.5] >= 2 and shares[0.6] >= 1
    horizon_end = summary.start + timedelta(weeks=HORIZON_WEEKS)
    assert any(a.end_date and summary.start < a.end_date < horizon_end for a in assignments)
    assert sum(a.start_date < summary.start for a in assignments) > 0.95 * len(assignments)


# ---- teams -----------------------------------------------------------------------------------


def test_teams(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    teams = _all(session, Team)
    assert 12 <= len(teams) <= 20
    assert set(t.kind for t in teams) == set(TeamKind)
    assert any(t.kind == TeamKind.TRAINING_COHORT and "cohort" in t.name for t in teams)
    assert any(t.allowed_slots for t in teams)
    for t in teams:
        assert 5 <= len(t.members) <= 12
        assert 2 <= t.quorum <= len(t.members)
        assert t.quorum >= 0.5 * len(t.members)
        assert t.budget_code


# ---- most commitments can be met -------------------------------------------------------------


def test_demand_fits_inside_service_cover(demo: tuple[Session, DemoSummary]) -> None:
    """Each service's weekly protected time stays well inside what its cover limit allows."""
    session, _ = demo
    demand = _weekly_demand(session)
    for dept in _all(session, Department):
        asked = sum(demand.get(p.id, 0.0) for p in dept.people)
        assert asked <= 0.6 * dept.max_away * 10, dept.code
    for p in _all(session, Person):
        assert demand[p.id] <= 0.5 * len(p.pattern), p.email


def test_every_team_can_reach_quorum(demo: tuple[Session, DemoSummary]) -> None:
    """Enough members work in the team's slots, and service cover lets a quorum away at once."""
    session, _ = demo
    for team in _all(session, Team):
        per_dept = Counter(m.department for m in team.members)
        assert sum(min(n, d.max_away) for d, n in per_dept.items()) > team.quorum, team.code
        if team.allowed_slots:
            working = max(
                sum(any(f"{DAYS[s.weekday]}/{s.half.value}" == slot for s in m.pattern)
                    for m in team.members)
                for slot in team.allowed_slots
            )
            assert working > team.quorum, team.code


# ---- accounts and rates ----------------------------------------------------------------------


def test_demo_accounts(demo: tuple[Session, DemoSummary]) -> None:
    session, summary = demo
    users = {u.email: u for u in _all(session, User)}
    roles = {a.role: a for a in summary.accounts}
    assert set(roles) == set(UserRole)
    assert roles[UserRole.ADMIN].email == "admin@sel-time.demo"
    assert roles[UserRole.ROTA_MANAGER].email == "rota@sel-time.demo"
    assert roles[UserRole.FINANCE].email == "finance@sel-time.demo"
    leader = users[roles[UserRole.LEADER].email]
    assert leader.person is not None and leader.person.email == leader.email
    assert leader.person.assignments and leader.person.absences is not None
    assert all(u.password_hash is None for u in users.values())


def test_every_staff_group_is_on_the_rate_card(demo: tuple[Session, DemoSummary]) -> None:
    session, _ = demo
    card = {e.staff_group for e in _all(session, RateCardEntry)}
    assert {p.staff_group for p in _all(session, Person)} <= card


# ---- determinism and safety ------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data() -> None:
    with _fresh_session() as one, _fresh_session() as two:
        load_demo(one)
        load_demo(two)
        assert _snapshot(one) == _snapshot(two)


def test_another_seed_gives_other_leaders() -> None:
    with _fresh_session() as one, _fresh_session() as two:
        load_demo(one, seed=1)
        load_demo(two, seed=2)
        first, second = _snapshot(one), _snapshot(two)
        assert [p[1] for p in first["people"]] != [p[1] for p in second["people"]]


def test_a_later_start_moves_the_dates_only() -> None:
    with _fresh_session() as one, _fresh_session() as two:
        load_demo(one)
        summary = load_demo(two, start=date(2027, 3, 3))  # a Wednesday: the Monday after
        assert summary.start == date(2027, 3, 8) == monday_on_or_after(date(2027, 3, 3))
        first, second = _snapshot(one), _snapshot(two)
        assert [p[:13] for p in first["people"]] == [p[:13] for p in second["people"]]
        assert first["roles"] == second["roles"]
        assert first["teams"] == second["teams"]
        shift = summary.start - DEFAULT_START
        assert [(a[0], a[1], a[2] + shift) for a in first["assignments"]] == [
            a[:3] for a in second["assignments"]]


def test_loads_through_the_app_and_refuses_a_second_time(app: Flask) -> None:
    """On the app's database (PostgreSQL in CI): loads, commits, and will not load twice."""
    summary = load_demo(db.session)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == summary.people
    with pytest.raises(DemoAlreadyLoaded) as caught:
        load_demo(db.session)
    assert caught.value.status == 409
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == summary.people


# ---- the rate card ---------------------------------------------------------------------------


def test_default_rate_card_figures() -> None:
    rows = {r.staff_group: r for r in default_rate_card()}
    assert {g: rows[g].rate_pence_per_hour for g in rows} == {
        "consultant": 12_000, "sas_doctor": 6_000, "gp": 10_000, "afc_band_5": 3_000,
        "afc_band_6": 3_500, "afc_band_7": 4_100, "afc_band_8a": 4_700, "afc_band_8b": 5_500,
        "afc_band_8c": 6_500, "afc_band_8d": 7_500, "social_worker": 4_800,
        "care_manager": 3_900, "council_ot": 5_000,
    }
    assert all(r.effective_from == DEFAULT_EFFECTIVE_FROM == date(2025, 4, 1)
               for r in rows.values())
    assert all(r.source and r.label for r in rows.values())
    assert "PSSRU" in rows["social_worker"].source and "10.1.1" in rows["social_worker"].source
    assert "Derived" in rows["afc_band_5"].source
    assert default_staff_groups() == tuple(rows)


def test_loading_the_rate_card_is_idempotent() -> None:
    with _fresh_session() as session:
        assert load_default_rate_card(session) == len(default_rate_card())
        assert load_default_rate_card(session) == 0
        session.delete(session.scalars(
            sa.select(RateCardEntry).where(RateCardEntry.staff_group == "gp")).one())
        session.flush()
        assert load_default_rate_card(session) == 1
        assert not session.new and not session.dirty


@pytest.mark.parametrize(
    ("profession", "band", "council", "group"),
    [
        ("consultant", None, False, "consultant"),
        ("sas_doctor", "7", False, "sas_doctor"),
        ("gp", None, False, "gp"),
        ("social_worker", None, True, "social_worker"),
        ("care_manager", None, True, "care_manager"),
        ("nurse", "7", False, "afc_band_7"),
        ("midwife", "Band 8A", False, "afc_band_8a"),
        ("pharmacist", "8b", False, "afc_band_8b"),
        ("paramedic", " 6 ", False, "afc_band_6"),
        ("psychologist", "8c", False, "afc_band_8c"),
        ("ahp", "5", False, "afc_band_5"),
        ("ahp", None, True, "council_ot"),
        ("other", None, False, "afc_band_6"),
        ("other", "8d", False, "afc_band_8d"),
    ],
)
def test_staff_group_for(profession: str, band: str | None, council: bool, group: str) -> None:
    assert staff_group_for(profession, band, council=council) == group
    assert group in default_staff_groups()


@pytest.mark.parametrize(("profession", "band"), [("nurse", None), ("ahp", "9"),
                                                  ("surgeon", "7")])
def test_staff_group_for_refuses_what_the_card_cannot_price(profession: str,
                                                            band: str | None) -> None:
    with pytest.raises(ValueError):
        staff_group_for(profession, band)

"""A small published roster in the database, read back through the feed endpoint.

One trust with two departments, four leaders (three in a leadership team that meets on
Thursday afternoons in the boardroom), their users, and two ways to publish: the real planner
over the fortnight of the autumn 2027 clock change, or sessions written straight into the
roster on chosen days (the planner never rosters a bank holiday, and Good Friday and Easter
Monday 2027 are the days either side of the spring change).

The clock is frozen at 1 December 2026 (ticking), so every 2027 session is in the future and
inside each feed's window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from feeds.conftest import icaljs  # noqa: F401  (Mozilla's ical.js under Node)
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.feeds import render
from sel_time.feeds.service import issue_token
from sel_time.models import (
    Attendance,
    FeedKind,
    Plan,
    PlanAttendee,
    PlanSession,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
    User,
)
from sel_time.plans.planning import request_plan, run_plan
from sel_time.plans.publishing import publish, stable_uid
from sel_time.plans.scheduling import Calendar, slot_times

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PLAN_START = date(2027, 10, 25)  # Mon; the clocks go back on Sun 31 Oct 2027
PLAN_WEEKS = 2
TIME_LIMIT = 5.0
LOCATION = "Boardroom, Denmark Hill"


@dataclass
class Roster:
    """Ids of the records of the small system."""

    org: int
    ed: int  # Emergency Department: Ada, Ben
    med: int  # Medicine: Cara, Dan
    ada: int
    ben: int
    cara: int
    dan: int  # not in the team
    ada_assignment: int
    ben_assignment: int
    cara_assignment: int
    dan_assignment: int
    team: int

    @property
    def assignments(self) -> dict[int, int]:
        """person id → assignment id"""
        return {
            self.ada: self.ada_assignment,
            self.ben: self.ben_assignment,
            self.cara: self.cara_assignment,
            self.dan: self.dan_assignment,
        }


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _cold_render_caches() -> None:
    render._vevent_bytes.cache_clear()
    render._vtimezone_bytes.cache_clear()


@pytest.fixture()
def app(app: Flask) -> Flask:
    app.config["SOLVER_TIME_LIMIT"] = TIME_LIMIT
    app.config["SOLVER_WORKERS"] = 2
    app.config["PUBLIC_URL"] = "https://sel-time.example.nhs.uk"
    return app


@pytest.fixture()
def roster(app: Flask, make: Callable[..., Any]) -> Roster:
    org = make("organisations", code="kch", name="King's College Hospital")
    ed = make(
        "departments",
        organisation_id=org.id,
        code="kch-ed",
        name="Emergency Department",
        max_away=2,
    )
    med = make("departments", organisation_id=org.id, code="kch-med", name="Medicine", max_away=2)
    for group, rate in (("consultant", "100.00"), ("afc_band_8c", "80.00")):
        make(
            "rates",
            staff_group=group,
            label=group,
            rate_per_hour=rate,
            effective_from="2026-01-01",
            source="test figures",
        )
    people = []
    for name, dept, profession, band in (
        ("Ada Okafor", ed, "consultant", None),
        ("Ben Adeyemi", ed, "consultant", None),
        ("Cara Mensah", med, "nurse", "8c"),
        ("Dan O'Neill", med, "consultant", None),
    ):
        people.append(
            make(
                "people",
                organisation_id=org.id,
                department_id=dept.id,
                name=name,
                profession=profession,
                band=band,
            )
        )
    titles = (
        "Clinical Director, Emergency Care",
        "Deputy Clinical Director",
        "Director of Nursing",
        "Governance Lead",
    )
    assignments = []
    for person, title in zip(people, titles, strict=True):
        role = make(
            "roles",
            host_organisation_id=org.id,
            title=title,
            level="organisation",
            description=f"Leads {title.lower()} across the trust.",
        )
        assignments.append(
            make("assignments", person_id=person.id, role_id=role.id, start_date="2026-06-01")
        )
    team = make(
        "teams",
        code="kch-lt",
        name="KCH leadership team",
        sessions_amount=1,
        sessions_per="week",
        quorum=2,
        allowed_slots=["Thu/PM"],
        location=LOCATION,
        member_ids=[p.id for p in people[:3]],
    )
    return Roster(
        org.id, ed.id, med.id, *(p.id for p in people), *(a.id for a in assignments), team.id
    )


@pytest.fixture()
def user_of(
    app: Flask, login_as: Callable[..., dict[str, str]]
) -> Callable[[int], tuple[User, dict[str, str]]]:
    """``user_of(person_id)``: that person's leader account and its API headers (made once)."""
    made: dict[int, dict[str, str]] = {}

    def _user(person_id: int) -> tuple[User, dict[str, str]]:
        if person_id not in made:
            made[person_id] = login_as("leader", person_id=person_id)
        user = db.session.scalar(sa.select(User).where(User.person_id == person_id))
        assert user is not None
        return user, made[person_id]

    return _user


@pytest.fixture()
def feed_link(client: FlaskClient) -> Callable[[dict[str, str], str, int], str]:
    """``feed_link(headers, kind, target_id)``: a new feed path from POST /api/v1/feeds."""

    def _link(headers: dict[str, str], kind: str, target_id: int) -> str:
        response = client.post(
            "/api/v1/feeds", json={"kind": kind, "target_id": target_id}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        url = response.get_json()["url"]
        assert url.startswith("https://sel-time.example.nhs.uk/feeds/") and url.endswith(".ics")
        return url.removeprefix("https://sel-time.example.nhs.uk")

    return _link


@pytest.fixture()
def manager_link(app: Flask) -> Callable[[FeedKind, int], str]:
    """``manager_link(kind, id)``: a feed path issued to a rota manager (who may read any feed)."""
    from sel_time.models import UserRole

    def _link(kind: FeedKind, target_id: int) -> str:
        manager = db.session.scalar(sa.select(User).where(User.role == UserRole.ROTA_MANAGER))
        if manager is None:
            manager = User(
                email="rota@example.nhs.uk", name="Rota Manager", role=UserRole.ROTA_MANAGER
            )
            db.session.add(manager)
            db.session.flush()
        _, secret = issue_token(manager, kind, target_id, CLI_ACTOR)
        db.session.commit()
        return f"/feeds/{secret}.ics"

    return _link


# -- publishing ----------------------------------------------------------------------------------


@pytest.fixture()
def solve(app: Flask, roster: Roster) -> Callable[..., Plan]:
    """``solve()``: request and run a plan over the autumn fortnight; returns the draft."""

    def _solve(start: date = PLAN_START, weeks: int = PLAN_WEEKS) -> Plan:
        plan = request_plan(start, weeks, "system", TIME_LIMIT, CLI_ACTOR)
        db.session.commit()
        plan = run_plan(plan.id)
        assert plan.status == PlanStatus.DRAFT, (plan.status, plan.error, plan.conflicts)
        return plan

    return _solve


def publish_plan(plan_id: int) -> None:
    publish(plan_id, CLI_ACTOR)
    db.session.commit()


def draft_copy(plan: Plan) -> Plan:
    """A new draft with the same horizon, problem and sessions as ``plan`` (as a rota manager
    gets by re-solving with everything pinned), to edit and publish again."""
    copy = Plan(
        scope=plan.scope,
        start_date=plan.start_date,
        weeks=plan.weeks,
        status=PlanStatus.DRAFT,
        time_limit=plan.time_limit,
        progress=1.0,
        problem=plan.problem,
        solution=plan.solution,
        requested_by="test",
        created_at=plan.created_at,
    )
    for s in plan.sessions:
        copy.sessions.append(
            PlanSession(
                person_id=s.person_id,
                assignment_id=s.assignment_id,
                team_id=s.team_id,
                slot=s.slot,
                start_at=s.start_at,
                end_at=s.end_at,
                cost_pence=s.cost_pence,
                pinned=False,
                origin=s.origin,
                attendees=[
                    PlanAttendee(
                        person_id=a.person_id, attending=a.attending, cost_pence=a.cost_pence
                    )
                    for a in s.attendees
                ],
            )
        )
    db.session.add(copy)
    db.session.commit()
    return copy


def insert_session(
    slot: str,
    *,
    person_id: int | None = None,
    assignment_id: int | None = None,
    team_id: int | None = None,
    attendees: tuple[int, ...] = (),
    status: RosterStatus = RosterStatus.CONFIRMED,
    sequence: int = 0,
) -> ProtectedSession:
    """Write a published session straight into the roster, as publishing would."""
    start, end = slot_times(slot, Calendar.from_config())
    owner = ("t", team_id) if team_id is not None else ("a", assignment_id or 0)
    session = ProtectedSession(
        uid=stable_uid(owner, slot),
        person_id=person_id,
        assignment_id=assignment_id,
        team_id=team_id,
        slot=slot,
        start_at=start,
        end_at=end,
        status=status,
        sequence=sequence,
        published_at=NOW,
        last_modified=NOW,
    )
    for pid in attendees or ((person_id,) if person_id is not None else ()):
        session.attendances.append(Attendance(person_id=pid, cost_pence=40000))
    db.session.add(session)
    db.session.commit()
    return session

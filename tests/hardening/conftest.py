"""A small published system for the hardening tests: one trust, an Emergency Department, two
leaders with roles in it (each with a leader user), a leadership team, a plan solved, published
and partly recorded, and a feed link per leader; plus users of every role with API tokens.

The horizon (two weeks from Monday 26 April 2027) is in the future, so one attendance is put
in the past by moving its session, for delivery records to have something to record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from support.tables import table_counts

from sel_time.core.audit import CLI_ACTOR, Actor
from sel_time.core.auth import create_api_token
from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.feeds.tokens import issue_token
from sel_time.models import Attendance, FeedKind, ProtectedSession, User, UserRole
from sel_time.plans.planning import request_plan, run_plan
from sel_time.plans.publishing import publish

START = date(2027, 4, 26)
WEEKS = 2
ROLES = ("admin", "rota_manager", "finance", "leader")


def weekdays(
    *days: str, kind: str = "clinical", halves: tuple[str, ...] = ("AM", "PM")
) -> list[dict[str, str]]:
    return [{"day": d, "half": h, "kind": kind} for d in days for h in halves]


@dataclass
class System:
    """Ids and API headers of the small published system."""

    org: int
    dept: int
    ada: int  # leader "me"
    ben: int  # leader "other"
    ada_assignment: int
    ben_assignment: int
    team: int
    plan: int
    ada_attendance: int  # in the past: recordable
    ben_attendance: int
    headers: dict[str, dict[str, str]]  # role (and "leader_other") -> Authorization header
    users: dict[str, int]
    feed_secrets: dict[str, str] = field(default_factory=dict)  # "ada"/"ben" -> feed secret
    feed_ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Plans are solved inside the request, with a short time limit (the problems are tiny)."""
    return {**app_config, "SOLVER_TIME_LIMIT": 2.0, "SOLVER_WORKERS": 1}


@pytest.fixture()
def system(app: Flask, make: Callable[..., Any]) -> System:
    org = make("organisations", code="kch", name="King's College Hospital")
    dept = make(
        "departments",
        organisation_id=org.id,
        code="kch-ed",
        name="Emergency Department",
        max_away=1,
    )
    make(
        "rates",
        staff_group="consultant",
        label="Consultant",
        rate_per_hour="100.00",
        effective_from="2027-01-01",
        source="test figures",
    )
    ada = make(
        "people",
        organisation_id=org.id,
        department_id=dept.id,
        name="Ada Okafor",
        email="ada@nhs.net",
        profession="consultant",
        band=None,
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
    )
    ben = make(
        "people",
        organisation_id=org.id,
        department_id=dept.id,
        name="Ben Adeyemi",
        email="ben@nhs.net",
        profession="consultant",
        band=None,
        pattern=weekdays("Mon", "Tue", "Wed", "Thu"),
    )
    roles = [
        make(
            "roles",
            host_organisation_id=org.id,
            title=t,
            commitment_amount=1,
            commitment_unit="session",
            commitment_per="week",
        )
        for t in ("Clinical Director", "Deputy Clinical Director")
    ]
    a_asg, b_asg = (
        make("assignments", person_id=p.id, role_id=r.id, start_date="2027-01-01")
        for p, r in zip((ada, ben), roles)
    )
    team = make(
        "teams",
        code="kch-lt",
        name="KCH leadership team",
        sessions_amount=1,
        sessions_per="week",
        quorum=2,
        allowed_slots=["Thu/PM"],
        member_ids=[ada.id, ben.id],
    )
    plan = request_plan(START, WEEKS, "system", 5.0, CLI_ACTOR)
    db.session.commit()
    plan = run_plan(plan.id)
    publish(plan.id, CLI_ACTOR)
    db.session.commit()

    headers: dict[str, dict[str, str]] = {}
    users: dict[str, int] = {}
    for key, role, person in [
        ("admin", "admin", None),
        ("rota_manager", "rota_manager", None),
        ("finance", "finance", None),
        ("leader", "leader", ada.id),
        ("leader_other", "leader", ben.id),
    ]:
        user = User(email=f"{key}@hardening.test", name=key, role=UserRole(role), person_id=person)
        db.session.add(user)
        db.session.flush()
        _, token = create_api_token(user, "test")
        headers[key] = {"Authorization": f"Bearer {token}"}
        users[key] = user.id
    db.session.commit()

    def attendance_of(person_id: int) -> Attendance:
        return db.session.scalars(
            sa.select(Attendance)
            .join(ProtectedSession)
            .where(Attendance.person_id == person_id)
            .order_by(ProtectedSession.start_at)
        ).first()

    ada_att, ben_att = attendance_of(ada.id), attendance_of(ben.id)
    assert ada_att is not None and ben_att is not None, "the plan rostered nobody"
    for att in (ada_att, ben_att):  # put the session in the past so delivery can be recorded
        s = att.session
        length = s.end_at - s.start_at
        s.start_at = now_utc() - timedelta(days=2)  # recent: its one-click link still works
        s.end_at = s.start_at + length
    db.session.commit()

    out = System(
        org.id,
        dept.id,
        ada.id,
        ben.id,
        a_asg.id,
        b_asg.id,
        team.id,
        plan.id,
        ada_att.id,
        ben_att.id,
        headers,
        users,
    )
    for name, key in (("ada", "leader"), ("ben", "leader_other")):
        user = db.session.get(User, users[key])
        row, secret = issue_token(user, FeedKind.PERSON, user.person_id, Actor.for_user(user))
        out.feed_secrets[name], out.feed_ids[name] = secret, row.id
    db.session.commit()
    return out


@pytest.fixture()
def counts() -> Iterator[Callable[[], dict[str, int]]]:
    def _counts() -> dict[str, int]:
        db.session.rollback()
        return table_counts()

    yield _counts

"""The requests tests: the planning tests' small system, published, with an SMTP server on
loopback receiving what sel-time sends."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import Attendance, ProtectedSession, RosterStatus
from sel_time.plans.publishing import publish
from tests.feeds.conftest import icaljs  # noqa: F401  (a fixture)
from tests.plans.conftest import (  # noqa: F401  (fixtures)
    TIME_LIMIT,
    Small,
    rota,
    small,
    solve_plan,
)
from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (a fixture)


@pytest.fixture()
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:  # noqa: F811
    return {**smtp_server.config(), "PUBLIC_URL": "https://sel-time.example.nhs.uk",
            "PLAN_SYNCHRONOUS": True, "SOLVER_TIME_LIMIT": TIME_LIMIT, "SOLVER_WORKERS": 2}


@dataclass
class Published:
    small: Small
    plan_id: int

    def sessions_of(self, person_id: int, team: bool = False) -> list[Attendance]:
        db.session.expire_all()
        q = (sa.select(Attendance).join(ProtectedSession)
             .where(Attendance.person_id == person_id,
                    ProtectedSession.status == RosterStatus.CONFIRMED,
                    ProtectedSession.team_id.isnot(None) if team
                    else ProtectedSession.team_id.is_(None))
             .order_by(ProtectedSession.start_at))
        return list(db.session.scalars(q))


@pytest.fixture()
def published(small: Small, solve_plan: Callable[..., Any]) -> Published:  # noqa: F811
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    return Published(small, plan.id)


@pytest.fixture()
def leader(login_as: Callable[..., dict[str, str]]) -> Callable[[int], dict[str, str]]:
    """``leader(person_id)``: Authorization headers of that person's leader account (made on
    first use)."""
    made: dict[int, dict[str, str]] = {}

    def _leader(person_id: int) -> dict[str, str]:
        if person_id not in made:
            made[person_id] = login_as("leader", person_id=person_id)
        return made[person_id]

    return _leader

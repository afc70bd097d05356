"""A small system for the nightly-refresh tests, and snapshots of what a refresh must leave
alone: the published roster (uid, slot, status, sequence, attendances) and the rendered feeds.

The system is one trust with an Emergency Department that lets one person away at a time:
four leaders, each with one session a week, and a leadership team that meets once a month on
Thursday afternoons. Dev works Mondays and Fridays only, so bank holidays on those days are
the ones the solver would otherwise want.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import LONDON, UTC
from sel_time.core.extensions import db
from sel_time.directory import records
from sel_time.models import Attendance, FeedCache, ProtectedSession

TIME_LIMIT = 10  # seconds for the whole refresh (the app's REFRESH_TIME_LIMIT)

Create = Callable[..., Any]


def weekdays(
    *days: str, kind: str = "clinical", halves: tuple[str, ...] = ("AM", "PM")
) -> list[dict[str, str]]:
    return [{"day": d, "half": h, "kind": kind} for d in days for h in halves]


@dataclass
class Small:
    """Ids of the small system's records."""

    org: int
    ed: int
    ada: int  # ED consultant, Mon-Fri
    ben: int  # ED consultant, Mon-Thu
    cara: int  # nurse director, no department, Mon-Fri
    dev: int  # nurse, Mondays and Fridays only
    team: int

    @property
    def leaders(self) -> dict[str, int]:
        return {
            "Ada Okafor": self.ada,
            "Ben Adeyemi": self.ben,
            "Cara Mensah": self.cara,
            "Dev Patel": self.dev,
        }


def create_with(session_commit: bool = True) -> Create:
    """``create("people", **fields)`` through the records service, committed (no defaults)."""

    def _create(entity: str, **data: Any) -> Any:
        obj = records.create(records.ENTITIES[entity], data, CLI_ACTOR)
        if session_commit:
            db.session.commit()
        return obj

    return _create


def seed_small(create: Create) -> Small:
    """Add the small system (an empty database, inside an app context)."""
    org = create(
        "organisations",
        code="gst",
        name="Guy's and St Thomas'",
        kind="acute_trust",
        borough="Lambeth",
    )
    ed = create(
        "departments",
        organisation_id=org.id,
        code="gst-ed",
        name="Emergency Department",
        max_away=1,
    )
    create(
        "rates",
        staff_group="consultant",
        label="Consultant",
        rate_per_hour="100.00",
        effective_from="2025-01-01",
        source="test figures",
    )
    create(
        "rates",
        staff_group="afc_band_8c",
        label="Band 8c",
        rate_per_hour="80.00",
        effective_from="2025-01-01",
        source="test figures",
    )

    def person(name: str, email: str, **data: Any) -> Any:
        return create("people", organisation_id=org.id, name=name, email=email, **data)

    ada = person(
        "Ada Okafor",
        "ada@nhs.net",
        department_id=ed.id,
        profession="consultant",
        band=None,
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
    )
    ben = person(
        "Ben Adeyemi",
        "ben@nhs.net",
        department_id=ed.id,
        profession="consultant",
        band=None,
        pattern=weekdays("Mon", "Tue", "Wed", "Thu"),
    )
    cara = person(
        "Cara Mensah",
        "cara@nhs.net",
        profession="nurse",
        band="8c",
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
    )
    dev = person(
        "Dev Patel", "dev@nhs.net", profession="nurse", band="8c", pattern=weekdays("Mon", "Fri")
    )
    for n, p in enumerate((ada, ben, cara, dev), 1):
        role = create(
            "roles",
            host_organisation_id=org.id,
            code=f"role-{n}",
            title=f"Clinical Lead {n}",
            level="place",
            commitment_amount=1,
            commitment_unit="session",
            commitment_per="week",
        )
        create("assignments", person_id=p.id, role_id=role.id, start_date="2025-01-01")
    team = create(
        "teams",
        code="gst-lt",
        name="GSTT leadership team",
        kind="leadership_team",
        sessions_amount=1,
        sessions_per="month",
        quorum=2,
        allowed_slots=["Thu/PM"],
        member_ids=[ada.id, ben.id, cara.id],
    )
    return Small(org.id, ed.id, ada.id, ben.id, cara.id, dev.id, team.id)


@pytest.fixture()
def app(app: Flask) -> Flask:
    app.config["REFRESH_TIME_LIMIT"] = TIME_LIMIT
    app.config["SOLVER_WORKERS"] = 2
    return app


@pytest.fixture()
def small(app: Flask) -> Small:
    return seed_small(create_with())


@pytest.fixture()
def add_leave(app: Flask) -> Callable[[int, date, date | None], Any]:
    create = create_with()

    def _add(person_id: int, first: date, last: date | None = None) -> Any:
        return create(
            "absences",
            person_id=person_id,
            kind="annual",
            start_date=first.isoformat(),
            end_date=(last or first).isoformat(),
        )

    return _add


def london(day: date, at: time = time(2, 0)) -> datetime:
    """A Europe/London wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at).replace(tzinfo=LONDON).astimezone(UTC)


def night(day: date) -> datetime:
    """02:00 Europe/London on ``day``: when the cron trigger runs the refresh."""
    return london(day)


Roster = dict[str, tuple[Any, ...]]


def roster_snapshot() -> Roster:
    """The published roster as uid → (slot, status, sequence, last_modified, attendances)."""
    db.session.expire_all()
    out: Roster = {}
    for s in db.session.scalars(sa.select(ProtectedSession).order_by(ProtectedSession.id)):
        attendances = tuple(
            sorted(
                (a.person_id, a.cost_pence, a.outcome)
                for a in db.session.scalars(
                    sa.select(Attendance).where(Attendance.session_id == s.id)
                )
            )
        )
        out[s.uid] = (
            s.slot,
            s.status.value,
            s.sequence,
            s.person_id,
            s.team_id,
            s.last_modified.isoformat() if s.last_modified else None,
            attendances,
        )
    return out


def feeds_snapshot() -> dict[tuple[str, int], tuple[Any, ...]]:
    """Every cached feed: (kind, target) → (stale, etag, body)."""
    db.session.expire_all()
    return {
        (row.kind.value, row.target_id): (row.stale, row.etag, row.body)
        for row in db.session.scalars(sa.select(FeedCache))
    }

"""A small system for the nightly-refresh tests, and snapshots of what a refresh must leave
alone: the published roster (uid, slot, status, sequence, attendances) and the rendered feeds.

The system is one trust with an Emergency Department that lets one person away at a time:
four leaders, each with one session a week, and a leadership team that meets once a month on
Thursday afternoons. Dev works Mondays and Fridays only, so bank holidays on those days are
the ones the solver would otherwise want.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from support.worlds import (  # noqa: F401  (the nightly tests import them from here)
    Create,
    create_with,
    weekdays,
)
from support.worlds import NightlyWorld as Small
from support.worlds import nightly_world as seed_small  # add it to an empty database

from sel_time.core.clock import LONDON, UTC
from sel_time.core.extensions import db
from sel_time.models import Attendance, FeedCache, ProtectedSession

TIME_LIMIT = 10  # seconds for the whole refresh (the app's REFRESH_TIME_LIMIT)


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "REFRESH_TIME_LIMIT": TIME_LIMIT, "SOLVER_WORKERS": 2}


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

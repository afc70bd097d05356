"""What a refresh does to the roster: new weeks skip bank holidays; the frozen window holds
(new leave there is flagged, not acted on); every run is recorded and visible through
``/api/v1/jobs`` and ``/health``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.models import (
    JobRun,
    Plan,
    PlanShortfall,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
    RunStatus,
)
from sel_time.nightly.refresh import refresh
from tests.jobs.conftest import Small, london, night, roster_snapshot

BANK_HOLIDAYS = {
    date(2026, 12, 25),
    date(2026, 12, 28),
    date(2027, 1, 1),
}  # 28 Dec: Boxing Day moved


def _day(slot: str) -> date:
    return date.fromisoformat(slot.split("/")[0])


def _confirmed() -> list[ProtectedSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProtectedSession)
            .where(ProtectedSession.status == RosterStatus.CONFIRMED)
            .order_by(ProtectedSession.start_at)
        )
    )


def test_new_weeks_skip_bank_holidays(app: Flask, small: Small) -> None:
    app.config["REFRESH_FROZEN_DAYS"] = 0  # so the Christmas weeks are open to the solver
    with time_machine.travel(night(date(2026, 12, 18)), tick=True):
        result = refresh("cron")
    assert result.ran and result.stats["start"] == "2026-12-21", result.message
    sessions = _confirmed()
    days = {_day(s.slot) for s in sessions}
    assert days and not days & BANK_HOLIDAYS, sorted(days & BANK_HOLIDAYS)
    assert min(days) < date(2026, 12, 25) and max(days) > date(2027, 1, 4)
    # Dev works Mondays and Fridays: in Christmas week only Monday 21st is left, and in the
    # week of 28 Dec (Monday and Friday both bank holidays) he has nothing: a shortfall that
    # says why, not a session on a bank holiday
    dev = sorted(_day(s.slot) for s in sessions if s.person_id == small.dev)
    assert date(2026, 12, 21) in dev
    assert not [d for d in dev if date(2026, 12, 28) <= d <= date(2027, 1, 3)]
    plan = db.session.get(Plan, result.stats["plans"][0])
    assert plan is not None and plan.status == PlanStatus.PUBLISHED
    assert not any(
        s["id"][:10] in {d.isoformat() for d in BANK_HOLIDAYS} for s in plan.problem["slots"]
    )
    dev_short = db.session.scalars(
        sa.select(PlanShortfall).where(
            PlanShortfall.plan_id == plan.id, PlanShortfall.assignment_id.is_not(None)
        )
    ).all()
    assert [
        (sf.window_from, sf.reason) for sf in dev_short if sf.assignment.person_id == small.dev
    ] == [(date(2026, 12, 28), "unavailable")], [
        (sf.window_from, sf.explanation) for sf in dev_short
    ]
    # every leader gets their one session a week in the other weeks
    for pid in small.leaders.values():
        weeks = {_day(s.slot).isocalendar()[:2] for s in sessions if s.person_id == pid}
        expected = 12 if pid != small.dev else 11
        assert len(weeks) == expected, (pid, sorted(weeks))


def test_the_frozen_window_holds(app: Flask, small: Small, add_leave: Callable[..., Any]) -> None:
    # Monday 1 March 2027: the first publish, with nothing frozen yet
    app.config["REFRESH_FROZEN_DAYS"] = 0
    with time_machine.travel(night(date(2027, 3, 1)), tick=True):
        first = refresh("cron")
    assert first.ran and first.stats["added"] > 40, first.message
    app.config["REFRESH_FROZEN_DAYS"] = 14
    tonight = date(2027, 3, 2)  # the frozen window is 2–15 March; the horizon starts 8 March
    frozen_from = london(tonight + timedelta(days=14), datetime.min.time())
    ada = [s for s in _confirmed() if s.person_id == small.ada]
    inside = next(s for s in ada if date(2027, 3, 8) <= _day(s.slot) < date(2027, 3, 16))
    outside = next(s for s in ada if _day(s.slot) >= date(2027, 3, 22))
    inside_day, outside_day = _day(inside.slot), _day(outside.slot)
    add_leave(small.ada, inside_day)
    add_leave(small.ada, outside_day)
    before = roster_snapshot()
    in_window_before = {uid: v for uid, v in before.items() if _starts(uid) < frozen_from}

    with time_machine.travel(night(tonight), tick=True):
        result = refresh("cron")
    assert result.ran and result.stats["frozen_until"] == "2027-03-16", result.message
    after = roster_snapshot()
    # the session inside the window stays exactly as published, and is flagged
    assert after[inside.uid] == before[inside.uid]
    conflicts = result.stats["frozen_conflicts"]
    assert len(conflicts) == 1 and "Ada Okafor" in conflicts[0], conflicts
    assert f"{inside_day:%d %b}" in conflicts[0]
    run = db.session.get(JobRun, result.run_id)
    assert run is not None and run.stats["frozen_conflicts"] == conflicts
    assert "1 frozen-window conflicts" in result.message
    # the one outside it is moved (same UID, new slot, higher sequence) or removed
    slot, status, sequence = after[outside.uid][:3]
    assert (slot, status) != before[outside.uid][:2] and sequence > before[outside.uid][2]
    assert not [s for s in _confirmed() if s.person_id == small.ada and _day(s.slot) == outside_day]
    assert result.stats["moved"] + result.stats["removed"] >= 1
    # nothing inside the window changed or appeared
    assert {uid: v for uid, v in after.items() if _starts(uid) < frozen_from} == in_window_before

    # the next night: still flagged, still not acted on, and the rest is a fixed point
    with time_machine.travel(night(tonight + timedelta(days=1)), tick=True):
        again = refresh("cron")
    assert again.ran and len(again.stats["frozen_conflicts"]) == 1, again.message
    assert roster_snapshot()[inside.uid] == before[inside.uid]


def _starts(uid: str) -> datetime:
    s = db.session.scalar(sa.select(ProtectedSession).where(ProtectedSession.uid == uid))
    assert s is not None
    return s.start_at


def test_api_lists_runs_to_managers_only(
    app: Flask, client: FlaskClient, small: Small, login_as: Callable[..., dict[str, str]]
) -> None:
    ran = refresh("cron", now=night(date(2027, 3, 1)))
    db.session.add(
        JobRun(
            job="nightly-refresh",
            run_date=date(2027, 3, 2),
            status=RunStatus.FAILED,
            attempts=1,
            holder="elsewhere:1",
            trigger="manual",
            started_at=night(date(2027, 3, 2)),
            error="RuntimeError: boom",
        )
    )
    db.session.commit()
    assert client.get("/api/v1/jobs").status_code == 401
    leader = client.get("/api/v1/jobs", headers=login_as("leader", person_id=small.ada))
    assert leader.status_code == 403, leader.get_data(as_text=True)
    for role in ("admin", "rota_manager", "finance"):
        response = client.get("/api/v1/jobs", headers=login_as(role))
        assert response.status_code == 200, (role, response.get_data(as_text=True))
        items = response.get_json()["items"]
        assert [(i["run_date"], i["status"]) for i in items] == [
            ("2027-03-02", "failed"),
            ("2027-03-01", "succeeded"),
        ]
        newest, done = items
        assert newest["error"] == "RuntimeError: boom" and newest["finished_at"] is None
        assert done["id"] == ran.run_id and done["trigger"] == "cron" and done["attempts"] == 1
        for key in (
            "weeks",
            "added",
            "moved",
            "removed",
            "shortfalls_new",
            "shortfalls_resolved",
            "frozen_conflicts",
            "solver_seconds",
            "objective",
            "feeds_rendered",
        ):
            assert key in done["stats"], key
        assert done["stats"]["added"] > 0 and done["finished_at"] is not None


def test_health_shows_the_last_successful_refresh_and_its_age(
    app: Flask, client: FlaskClient, small: Small
) -> None:
    assert client.get("/health").get_json()["nightly_refresh"] == {
        "last_success": None,
        "age_hours": None,
    }
    with time_machine.travel(night(date(2027, 3, 1)), tick=False):
        assert refresh("cron").ran
    db.session.add(
        JobRun(
            job="nightly-refresh",
            run_date=date(2027, 3, 2),
            status=RunStatus.FAILED,
            attempts=1,
            holder="elsewhere:1",
            trigger="cron",
            started_at=night(date(2027, 3, 2)),
        )
    )
    db.session.commit()
    with time_machine.travel(night(date(2027, 3, 2)) + timedelta(hours=7, minutes=30), tick=False):
        body = client.get("/health").get_json()
    summary = body["nightly_refresh"]
    assert summary["run_date"] == "2027-03-01"  # the failed run of the 2nd does not count
    assert datetime.fromisoformat(summary["last_success"]).astimezone(UTC) == night(
        date(2027, 3, 1)
    )
    assert summary["age_hours"] == 31.5
    assert body["status"] == "ok"

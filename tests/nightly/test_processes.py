"""Real processes against a real database file or server: two ``sel-time refresh`` started
at once do the work once; a refresh killed with SIGKILL in the middle of its solve or of its
publish leaves last night's roster, sequence numbers and feeds exactly as they were, and the
next refresh completes.

Each test migrates its own database with ``sel-time db upgrade``: a temporary SQLite file, or
a PostgreSQL schema of its own (``search_path``) that is dropped afterwards, so the other
tests' tables are never touched. The PostgreSQL cases run when ``DATABASE_URL`` names
PostgreSQL, and always in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from support.pg_schemas import PG_WANTED, postgres_schema
from support.processes import Database, migrate

from config import TestingConfig
from sel_time import create_app
from sel_time.core.clock import LONDON, now_utc
from sel_time.core.extensions import db
from sel_time.models import (
    JobRun,
    Plan,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
    RunStatus,
)
from sel_time.nightly.refresh import JOB, night_of, refresh
from tests.nightly.conftest import Small, create_with, feeds_snapshot, roster_snapshot, seed_small

pytestmark = pytest.mark.slow  # real processes killed mid-refresh

# A refresh killed with its process is overdue 2 s past its time limit (10 s here).
LOST_AFTER = {"SEL_TIME_QUEUE_LOST_AFTER": "2"}


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once by ``sel-time db upgrade``; each test gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite"
    migrate(Database(f"sqlite:///{path}", LOST_AFTER))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "refresh.sqlite"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield Database(f"sqlite:///{path}", LOST_AFTER)
        return
    if not PG_WANTED:
        pytest.skip("set DATABASE_URL to PostgreSQL (or CI) to run against PostgreSQL")
    for schema in postgres_schema(
        "jobs_" + request.node.name.split("[")[0][-12:].replace("-", "_")
    ):
        database = Database(schema.url, LOST_AFTER)
        migrate(database)
        yield database


@pytest.fixture()
def seeded(database: Database) -> Iterator[tuple[Flask, Small]]:
    """The small system in the migrated database, with last night's roster published."""
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database.url,
        REFRESH_TIME_LIMIT=10,
        SOLVER_WORKERS=2,
        REFRESH_FROZEN_DAYS=0,
    )
    with app.app_context():
        small = seed_small(create_with())
        last_night = refresh("cron", now=now_utc() - timedelta(days=1))
        assert last_night.ran and last_night.stats["added"] > 30, last_night.message
        app.config["REFRESH_FROZEN_DAYS"] = 14
        yield app, small
        db.session.remove()
        db.engine.dispose()


def _tonight_runs() -> list[JobRun]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == night_of(now_utc()))
        )
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err

def test_two_refreshes_started_at_once_do_the_work_once(
    database: Database, seeded: tuple[Flask, Small]
) -> None:
    # Whoever claims the night stays in its publish transaction (uncommitted writes) for 3 s,
    # so the other arrives while the night is claimed, and the database's write lock held.
    pause = {"SEL_TIME_TEST_PAUSE_AT": "publish", "SEL_TIME_TEST_PAUSE_SECONDS": "3"}
    db.session.rollback()
    procs = [database.start_refresh(**pause), database.start_refresh(**pause)]
    results = [_finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    worked = [i for i, (_, out, _) in enumerate(results) if out.startswith("Refreshed")]
    assert len(worked) == 1, results
    other_out = results[1 - worked[0]][1]
    assert "Another refresh is running" in other_out or "already ran" in other_out, other_out
    runs = _tonight_runs()
    assert len(runs) == 1 and runs[0].status == RunStatus.SUCCEEDED and runs[0].attempts == 1


def _wait_for_pause(proc: subprocess.Popen[str], point: str, timeout: float = 60.0) -> list[str]:
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == f"sel-time test pause: {point}":
            return lines
    proc.kill()
    proc.communicate()
    raise AssertionError(f"never reached {point}: {''.join(lines)}")


@pytest.mark.parametrize("point", ["solve", "publish"])
def test_a_refresh_killed_mid_way_leaves_last_nights_roster_and_feeds(
    database: Database, seeded: tuple[Flask, Small], point: str
) -> None:
    app, small = seeded
    # new leave on one of Ada's sessions beyond the frozen window: tonight must move it
    ada = db.session.scalars(
        sa.select(ProtectedSession)
        .where(
            ProtectedSession.person_id == small.ada,
            ProtectedSession.start_at > now_utc() + timedelta(days=16),
        )
        .order_by(ProtectedSession.start_at)
    ).first()
    assert ada is not None
    leave_day = ada.start_at.astimezone(LONDON).date()
    create_with()(
        "absences",
        person_id=small.ada,
        kind="annual",
        start_date=leave_day.isoformat(),
        end_date=leave_day.isoformat(),
    )
    roster, feeds = roster_snapshot(), feeds_snapshot()
    assert feeds and not any(stale for stale, _, _ in feeds.values())

    db.session.rollback()  # end our read: on SQLite a writer waits for every open reader
    proc = database.start_refresh(SEL_TIME_TEST_PAUSE_AT=point, SEL_TIME_TEST_PAUSE_SECONDS="120")
    _wait_for_pause(proc, point)
    db.session.expire_all()
    [running] = _tonight_runs()
    assert running.status == RunStatus.RUNNING
    if point == "solve":
        assert (
            db.session.scalar(sa.select(Plan.status).where(Plan.active_scope.is_not(None)))
            == PlanStatus.RUNNING
        )
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # and close its pipes
    assert proc.returncode == -signal.SIGKILL

    # exactly as before: every session, its sequence, its attendances, and every cached feed
    assert roster_snapshot() == roster
    assert feeds_snapshot() == feeds
    [dead] = _tonight_runs()
    assert dead.status == RunStatus.RUNNING  # nobody said otherwise: the row is the record
    db.session.rollback()
    early = database.run("refresh")  # within its bound, the night is still taken
    assert early.returncode == 0 and "Another refresh is running" in early.stdout, early.stdout

    # past its bound (10 s limit + 2 s here), the next refresh takes over and completes
    assert dead.started_at is not None
    time.sleep(max(0.0, (dead.started_at + timedelta(seconds=12) - now_utc()).total_seconds()))
    started = time.monotonic()
    db.session.rollback()
    again = database.run("refresh")
    assert again.returncode == 0 and again.stdout.startswith("Refreshed"), (
        again.stdout,
        again.stderr,
    )
    assert time.monotonic() - started < 60
    [done] = _tonight_runs()
    assert done.id == dead.id and done.status == RunStatus.SUCCEEDED and done.attempts == 2
    assert done.stats is not None and done.stats["skipped"] == [], done.stats
    assert done.stats["moved"] + done.stats["removed"] >= 1
    assert leave_day not in {
        s.start_at.astimezone(LONDON).date()
        for s in db.session.scalars(
            sa.select(ProtectedSession).where(
                ProtectedSession.person_id == small.ada,
                ProtectedSession.status == RosterStatus.CONFIRMED,
            )
        )
    }
    assert (
        db.session.scalar(sa.select(sa.func.count(Plan.id)).where(Plan.active_scope.is_not(None)))
        == 0
    )
    after = roster_snapshot()
    assert {uid for uid in roster} <= set(after)  # nothing published disappears; UIDs stay

"""Real ``sel-time worker`` processes on the embedded SQLite queue (and on Redis db 1 in the
PostgreSQL run, ``SEL_TIME_TEST_REDIS``): six scopes shared by two workers are each solved
exactly once; a worker SIGKILLed mid-solve leaves a run that the next worker solves again from
the start once it is overdue; a running solve is cancelled, the published roster untouched.
The web side (this test's app) only enqueues: it never solves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from config import TestingConfig
from sel_time import create_app
from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import now_utc, today_london
from sel_time.core.extensions import db
from sel_time.core.transaction import boundary
from sel_time.models import Plan, PlanStatus, ProtectedSession
from sel_time.plans import tasks
from sel_time.plans.planning import request_plan
from tests.conftest import POSTGRES
from tests.nightly.conftest import create_with, weekdays
from tests.support.processes import process_env
from tests.support.workers import (
    REDIS_URL,
    SEL_TIME,
    flush_redis,
    redis_available,
    wait_for,
    worker_log,
    workers,
)

pytestmark = pytest.mark.slow
QUEUES = ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(
    not redis_available(), reason="SEL_TIME_TEST_REDIS names no reachable Redis"))]


def _monday() -> date:
    today = today_london()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def _seed(scopes: int) -> list[str]:
    create = create_with()
    create("rates", staff_group="consultant", label="Consultant", rate_per_hour="100.00",
           effective_from="2025-01-01", source="test figures")
    out = []
    for i in range(scopes):
        org = create("organisations", code=f"o{i}", name=f"Trust {i}", kind="acute_trust",
                     borough="Lambeth")
        for j in range(2):
            p = create("people", organisation_id=org.id, name=f"Lead {i}-{j}",
                       email=f"lead{i}{j}@nhs.net", profession="consultant", band=None,
                       pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"))
            role = create("roles", host_organisation_id=org.id, code=f"r{i}{j}",
                          title=f"Clinical Lead {i}{j}", level="place", commitment_amount=1,
                          commitment_unit="session", commitment_per="week")
            create("assignments", person_id=p.id, role_id=role.id, start_date="2025-01-01")
        out.append(f"organisation:o{i}")
    return out


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "redis":
        flush_redis(REDIS_URL)
        return REDIS_URL
    return f"sqlite:///{tmp_path / 'queue.sqlite'}"


@pytest.fixture()
def web(app: Flask, queue_url: str) -> Iterator[Flask]:
    """The web side: the test's database, a real queue (nothing runs in this process)."""
    web_app = create_app(TestingConfig, QUEUE_IMMEDIATE=False, QUEUE_URL=queue_url,
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         QUEUE_LOST_AFTER=1)
    with web_app.app_context():
        yield web_app
        db.session.remove()
        db.engine.dispose()


def _enqueue(scopes: list[str], time_limit: float = 5) -> list[int]:
    ids = []
    with boundary():
        for scope in scopes:
            plan = request_plan(_monday(), 2, scope, time_limit, CLI_ACTOR)
            tasks.queue_solve(plan)
            ids.append(plan.id)
    return ids


def _statuses(ids: list[int]) -> dict[int, PlanStatus]:
    db.session.expire_all()
    out = {p.id: p.status for p in db.session.scalars(sa.select(Plan).where(Plan.id.in_(ids)))}
    db.session.rollback()
    return out


def test_workers_solve_six_scopes_each_exactly_once(
    app: Flask, web: Flask, queue_url: str, tmp_path: Path
) -> None:
    # Two worker processes on PostgreSQL; on a SQLite database, one (SQLite has one writer:
    # two processes solving at once fail each other's writes, so the embedded default runs
    # one worker, and scaling out means PostgreSQL; docs/scaling.md).
    count = 2 if POSTGRES else 1
    with app.app_context():
        scopes = _seed(6)
    ids = _enqueue(scopes)
    threads_before = threading.active_count()
    assert set(_statuses(ids).values()) == {PlanStatus.QUEUED}  # the web side never solves
    with workers(web.config["SQLALCHEMY_DATABASE_URI"], queue_url, count=count,
                 log_dir=tmp_path):
        done = wait_for(lambda: set(_statuses(ids).values()) == {PlanStatus.DRAFT}, 180, 0.5)
        assert threading.active_count() == threads_before  # no solver thread here
    assert done, (_statuses(ids), worker_log(tmp_path))
    logs = [p.read_text() for p in sorted(tmp_path.glob("worker-*.log"))]
    said = r"sel_time.plans.tasks: solving plan (\d+) \(attempt"
    solved = [int(m) for text in logs for m in re.findall(said, text)]
    assert sorted(solved) == sorted(ids), logs  # each exactly once
    if count == 2:
        assert all("solving plan" in text for text in logs), logs  # both took a share
    db.session.expire_all()
    assert all(p.attempt == 1 for p in db.session.scalars(sa.select(Plan)))


def _start_worker(database_url: str, queue_url: str, log: Path, **env: str
                  ) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [SEL_TIME, "worker"], stdout=out, stderr=subprocess.STDOUT,
            env=process_env(DATABASE_URL=database_url, SEL_TIME_QUEUE_URL=queue_url,
                            SEL_TIME_SOLVER_WORKERS="1", SEL_TIME_QUEUE_LOST_AFTER="1", **env),
            start_new_session=True)


def _wait_for_text(path: Path, text: str, timeout: float) -> None:
    assert wait_for(lambda: path.exists() and text in path.read_text(errors="replace"),
                    timeout), path.read_text(errors="replace") if path.exists() else "no log"


def test_a_worker_killed_mid_solve_leaves_a_run_the_next_worker_solves_again(
    app: Flask, web: Flask, queue_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        scopes = _seed(1)
    [plan_id] = _enqueue(scopes, time_limit=5)
    database_url = web.config["SQLALCHEMY_DATABASE_URI"]
    log = tmp_path / "killed.log"
    doomed = _start_worker(database_url, queue_url, log, SEL_TIME_TEST_PAUSE_AT="plan-solve",
                           SEL_TIME_TEST_PAUSE_SECONDS="120")
    try:
        _wait_for_text(log, "sel-time test pause: plan-solve", 120)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(30)
    finally:
        if doomed.poll() is None:
            os.killpg(doomed.pid, signal.SIGKILL)
    assert _statuses([plan_id]) == {plan_id: PlanStatus.RUNNING}  # the row says so, honestly
    db.session.expire_all()
    started = db.session.get(Plan, plan_id).started_at
    db.session.rollback()
    # Overdue at its time limit (5 s) plus QUEUE_LOST_AFTER (1 s): a worker starting then
    # sweeps it back into the queue (attempt 2) and solves it from the start.
    time.sleep(max(0.0, (started + timedelta(seconds=6.5) - now_utc()).total_seconds()))
    with workers(database_url, queue_url, log_dir=tmp_path, SEL_TIME_QUEUE_LOST_AFTER="1"):
        done = wait_for(lambda: _statuses([plan_id]) == {plan_id: PlanStatus.DRAFT}, 120, 0.5)
    assert done, worker_log(tmp_path)
    db.session.expire_all()
    plan = db.session.get(Plan, plan_id)
    assert plan.attempt == 2 and plan.active_scope is None


def test_cancelling_a_running_solve_stops_it_and_leaves_the_roster(
    app: Flask, web: Flask, queue_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        scopes = _seed(1)
    published = sorted(db.session.execute(sa.select(ProtectedSession.id)).scalars())
    [plan_id] = _enqueue(scopes, time_limit=60)
    log = tmp_path / "worker.log"
    proc = _start_worker(web.config["SQLALCHEMY_DATABASE_URI"], queue_url, log,
                         SEL_TIME_TEST_PAUSE_AT="plan-solve", SEL_TIME_TEST_PAUSE_SECONDS="1")
    try:
        _wait_for_text(log, "sel-time test pause: plan-solve", 120)
        with boundary():
            tasks.cancel(plan_id, CLI_ACTOR)
        asked = time.monotonic()
        stopped = wait_for(
            lambda: _statuses([plan_id]) == {plan_id: PlanStatus.CANCELLED}, 30, 0.1)
        took = time.monotonic() - asked
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert stopped, log.read_text()
    assert took < 5, took  # the 1 s pause, a 0.3 s look at the row, the solver's stop
    db.session.expire_all()
    plan = db.session.get(Plan, plan_id)
    assert plan.active_scope is None and plan.error == "Cancelled" and not plan.sessions
    assert sorted(db.session.execute(sa.select(ProtectedSession.id)).scalars()) == published

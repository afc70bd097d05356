"""SIGKILL in a loop: the scheduler's job (``sel-time refresh --force``), a solve that publishes
(``sel-time plan --here --weeks 2 --time-limit 5 --publish``, solved in the command's own
process) and the app under gunicorn while a client publishes plans and records deliveries are
each killed at a random point (seeded delays), over and over. After every kill: no published
session lost or duplicated, no sequence number going backwards, no session changed without a
new sequence, nobody booked twice in a slot, every acknowledged delivery record kept, and the
roster unchanged unless a publish completed. At the end each of the three runs again and
completes normally.

Before each run a leader may book a day of leave on a protected session, so the runs have
something to move and sequence numbers to raise.

``SEL_TIME_FAULT_LOOPS`` sets the number of kills per database (default 24, a third of each
kind, about three minutes on SQLite on two busy cores); ``SEL_TIME_FAULT_SEED`` the seed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.faults import (
    PG_WANTED,
    Audit,
    Database,
    Seeded,
    fault_database,
    free_port,
    kill_group,
    migrate,
    next_monday,
    postgres_schema,
    read_state,
    seed,
    start_gunicorn,
    wait_healthy,
)

from sel_time.core.clock import LONDON, now_utc
from sel_time.core.extensions import db

LOOPS = int(os.environ.get("SEL_TIME_FAULT_LOOPS", "24"))
SEED = int(os.environ.get("SEL_TIME_FAULT_SEED", "20261127"))
KINDS = ("scheduler", "solve", "app")
OUTCOMES = ("taken", "partial", "lost_clinical_pressure", "lost_sickness", "lost_other")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "template.sqlite"
    migrate(fault_database(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    if request.param == "sqlite":
        path = tmp_path / "faults.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield seed(fault_database(f"sqlite:///{path}"))
        return
    if not PG_WANTED:
        pytest.skip("set DATABASE_URL to PostgreSQL (or CI) to run against PostgreSQL")
    for schema in postgres_schema("faults_kill"):
        database = fault_database(schema.url)
        migrate(database)
        seeded = seed(database)
        try:
            yield seeded
        finally:
            with seeded.app.app_context():
                from sel_time.core.extensions import db

                db.engine.dispose()


class Client(threading.Thread):
    """One keep-alive client of the app: ask for a plan, wait for it, publish it, and record
    deliveries in between; one request at a time, so at most one is in flight at a kill."""

    def __init__(self, port: int, seeded: Seeded, audit: Audit, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.port, self.seeded, self.audit, self.rng = port, seeded, audit, rng
        self.stop = threading.Event()
        self.published = 0
        self.recorded = 0
        self.errors: list[str] = []
        self.unavailable = 0  # 503 + Retry-After: refused cleanly, nothing acknowledged

    def call(
        self, conn: HTTPConnection, method: str, path: str, body: Any = None
    ) -> tuple[int, Any]:
        headers = {
            "Authorization": f"Bearer {self.seeded.manager_token}",
            "Content-Type": "application/json",
        }
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        raw = response.read()
        if response.status == 503 and response.getheader("Retry-After"):
            self.unavailable += 1
        elif response.status >= 500:
            self.errors.append(f"{method} {path}: {response.status} {raw[:200]!r}")
        return response.status, json.loads(raw) if raw else None

    def record(self, conn: HTTPConnection) -> None:
        att = self.rng.choice(self.seeded.past_attendances)
        outcome = self.rng.choice(OUTCOMES)
        body: dict[str, Any] = {"outcome": outcome}
        if outcome == "partial":
            body["fraction_taken"] = 0.5
        allowed = self.audit.acknowledged.setdefault(att, {None} | set(OUTCOMES))
        allowed.add(outcome)  # in flight: it may or may not have committed when killed
        status, _ = self.call(conn, "POST", f"/api/v1/attendances/{att}/delivery", body)
        if status == 200:
            self.audit.acknowledged[att] = {outcome}
            self.recorded += 1

    def run(self) -> None:
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        start = next_monday(now_utc().astimezone(LONDON).date())
        try:
            while not self.stop.is_set():
                self.record(conn)
                status, plan = self.call(
                    conn,
                    "POST",
                    "/api/v1/plans",
                    {"start": start.isoformat(), "weeks": 2, "scope": "system", "time_limit": 5},
                )
                if status != 202:
                    time.sleep(0.1)
                    continue
                while not self.stop.is_set():
                    self.record(conn)
                    _, plan = self.call(conn, "GET", f"/api/v1/plans/{plan['id']}")
                    if plan["status"] not in ("queued", "running"):
                        break
                    time.sleep(0.05)
                if plan["status"] == "draft" and not self.stop.is_set():
                    status, _ = self.call(conn, "POST", f"/api/v1/plans/{plan['id']}/publish")
                    self.published += status == 200
        except (OSError, HTTPException, ValueError):  # the server was killed under us
            pass
        finally:
            conn.close()


def _book_leave(seeded: Seeded, rng: random.Random) -> None:
    """A leader books a day of leave on one of their confirmed sessions (if it does not clash
    with leave they have)."""
    import sqlalchemy as sa

    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.errors import SelTimeError
    from sel_time.core.extensions import db
    from sel_time.directory import records
    from sel_time.models import ProtectedSession, RosterStatus

    with seeded.app.app_context():
        try:
            sessions = db.session.scalars(
                sa.select(ProtectedSession)
                .where(
                    ProtectedSession.person_id.is_not(None),
                    ProtectedSession.status == RosterStatus.CONFIRMED,
                    ProtectedSession.start_at > now_utc() + timedelta(days=1),
                )
                .order_by(ProtectedSession.id)
            ).all()
            if not sessions:
                return
            s = rng.choice(sessions)
            day = s.start_at.astimezone(LONDON).date().isoformat()
            try:
                records.create(
                    records.ENTITIES["absences"],
                    {
                        "person_id": s.person_id,
                        "kind": "annual",
                        "start_date": day,
                        "end_date": day,
                    },
                    CLI_ACTOR,
                )
                db.session.commit()
            except SelTimeError:
                db.session.rollback()
        finally:
            db.session.remove()


def _durations(database: Database) -> dict[str, float]:
    """Run the scheduler's job and a solve once to completion (the first completions of the
    loop), timing them so the kills land anywhere from start-up to the commit."""
    out = {}
    for kind, args in (
        ("scheduler", ("refresh", "--force")),
        ("solve", ("plan", "--here", "--weeks", "2", "--time-limit", "5", "--publish")),
    ):
        t0 = time.monotonic()
        done = database.run(*args)
        assert done.returncode == 0, (kind, done.stdout, done.stderr)
        out[kind] = time.monotonic() - t0
    return out


def _kill_process(database: Database, args: tuple[str, ...], delay: float) -> int | None:
    proc = database.start(*args)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return None
    out, err = proc.communicate()
    assert proc.returncode == 0, (args, out, err)  # it finished before the kill: normally
    return proc.returncode


def _kill_app(seeded: Seeded, audit: Audit, rng: random.Random, delay: float) -> Client:
    port = free_port()
    server = start_gunicorn(seeded.database, port)
    client = None
    log = ""
    try:
        wait_healthy(port, server)
        client = Client(port, seeded, audit, rng)
        client.start()
        time.sleep(delay)
    finally:
        log = kill_group(server)
        if client is not None:
            client.stop.set()
            client.join(timeout=35)
    assert client is not None
    assert not client.errors, (client.errors, log)
    if client.unavailable:
        print(f"503s: {client.unavailable}; server log: {log[-2000:]}")
    return client


def test_sigkill_in_a_loop_loses_nothing_and_the_next_run_completes(seeded: Seeded) -> None:
    rng = random.Random(SEED)
    database = seeded.database
    audit = Audit(seeded, read_state(seeded.app))
    durations = _durations(database)
    audit.check("the first completed runs")
    kills = {k: 0 for k in KINDS}
    finished = {k: 0 for k in KINDS}
    published = recorded = unavailable = 0
    started = time.monotonic()
    for i in range(LOOPS):
        kind = KINDS[i % len(KINDS)]
        _wait_until_killed_solves_are_overdue(seeded.app)
        if rng.random() < 0.5:
            _book_leave(seeded, rng)
        if kind == "app":
            delay = rng.uniform(0.2, 4.0)
            client = _kill_app(seeded, audit, rng, delay)
            published, recorded = published + client.published, recorded + client.recorded
            unavailable += client.unavailable
            kills[kind] += 1
        else:
            args = (
                ("refresh", "--force")
                if kind == "scheduler"
                else ("plan", "--here", "--weeks", "2", "--time-limit", "5", "--publish")
            )
            delay = rng.uniform(0.3, durations[kind] * 1.1)
            if _kill_process(database, args, delay) is None:
                kills[kind] += 1
            else:
                finished[kind] += 1
        audit.check(f"kill {i + 1} ({kind} at {delay:.2f} s)")
    elapsed = time.monotonic() - started

    # after all that, each runs to completion: once a solve killed with its process is overdue
    # (its time limit plus SEL_TIME_QUEUE_LOST_AFTER, 2 s here) its scope is free again
    _wait_until_killed_solves_are_overdue(seeded.app)
    for args in (
        ("refresh", "--force"),
        ("plan", "--here", "--weeks", "2", "--time-limit", "5", "--publish"),
    ):
        done = database.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        audit.check(" ".join(args))
    port = free_port()
    server = start_gunicorn(database, port)
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        wait_healthy(port, server)
        client = Client(port, seeded, audit, rng)
        start = next_monday(now_utc().astimezone(LONDON).date())
        status, plan = client.call(
            conn,
            "POST",
            "/api/v1/plans",
            {"start": start.isoformat(), "weeks": 2, "scope": "system", "time_limit": 5},
        )
        assert status == 202, plan
        deadline = time.monotonic() + 60
        while plan["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            _, plan = client.call(conn, "GET", f"/api/v1/plans/{plan['id']}")
        assert plan["status"] == "draft", plan
        for _ in range(3):  # SQLite has one writer: a worker's write at the same moment (the
            # solve's last progress, a feed render) may refuse it as "changed meanwhile",
            # which tells the client to look again and retry; it does
            status, report = client.call(conn, "POST", f"/api/v1/plans/{plan['id']}/publish")
            if not (status == 409 and report.get("errors", [{}])[0].get("message")
                    == "changed meanwhile"):
                break
            time.sleep(0.5)
        assert status == 200, report
        client.record(conn)
        assert not client.errors, client.errors
    finally:
        conn.close()
        kill_group(server)
    final = audit.check("the final runs")
    print(
        f"\n{database.kind}: {LOOPS} kills in {elapsed:.0f} s (seed {SEED}): killed {kills}, "
        f"finished before the kill {finished}; the app published {published} plans and "
        f"recorded {recorded} deliveries under fire ({unavailable} answered 503); "
        f"{len(final.sessions)} sessions, "
        f"max sequence {max(audit.max_sequence.values())}"
    )


def _wait_until_killed_solves_are_overdue(app: Any) -> None:
    """No process check frees a killed solve's scope: the database's bound does. A plan the
    killed app had queued waits for a worker, and here the worker died with the app: cancel
    it, as a rota manager would, so that the next command may plan the scope."""
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.transaction import boundary
    from sel_time.models import Plan, PlanStatus
    from sel_time.plans.tasks import cancel

    with app.app_context():
        with boundary():
            for plan_id in db.session.scalars(sa.select(Plan.id).where(
                    Plan.status == PlanStatus.QUEUED)).all():
                cancel(plan_id, CLI_ACTOR)
        rows = db.session.execute(sa.select(Plan.started_at, Plan.time_limit).where(
            Plan.status == PlanStatus.RUNNING)).all()
        db.session.remove()
    for started, limit in rows:
        if started is not None:
            wait = (started + timedelta(seconds=limit + 2.5) - now_utc()).total_seconds()
            time.sleep(max(0.0, wait))

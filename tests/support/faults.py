"""The fault tests' harness (tests/plans/test_sigkill_loop.py and
tests/core/test_postgres_restart.py): real processes against a real database, a temporary
SQLite file or a PostgreSQL schema of its own (``search_path``), each migrated with ``sel-time
db upgrade``, the small system of the nightly-refresh tests with a published roster, and an
audit of the roster that every fault must leave intact.

The PostgreSQL cases run when ``DATABASE_URL`` names PostgreSQL, and always in CI. The schema
is created and dropped here; the shared ``public`` schema is never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from config import TestingConfig
from sel_time import create_app
from sel_time.core.clock import LONDON, now_utc
from sel_time.core.extensions import db
from sel_time.models import (
    Attendance,
    Plan,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
    Team,
    User,
    UserRole,
)
from support.pg_schemas import (  # noqa: F401  (the fault tests import them from here)
    PG_WANTED,
    PgSchema,
    postgres_schema,
)
from support.processes import BIN, ROOT, SEL_TIME, Database, migrate, process_env  # noqa: F401
from support.worlds import create_with
from support.worlds import nightly_world as seed_small

GUNICORN = str(BIN / "gunicorn")


def fault_database(url: str) -> Database:
    """The fault tests' database: nothing frozen, three weeks ahead, each process in its own
    group (the tests kill whole groups)."""
    # The app's queue: a file of this database's own; a solve killed with its process is
    # overdue 2 s past its time limit.
    queue = os.path.join(tempfile.gettempdir(), f"sel-time-queue-{zlib.crc32(url.encode())}.sqlite")
    return Database(url, {"SEL_TIME_FROZEN_DAYS": "0", "SEL_TIME_WEEKS_AHEAD": "3",
                          "SEL_TIME_QUEUE_URL": "sqlite:///" + queue,
                          "SEL_TIME_QUEUE_LOST_AFTER": "2"},
                    new_sessions=True)


# -- the seeded system ---------------------------------------------------------------------------


@dataclass
class Seeded:
    app: Any
    database: Database
    manager_token: str
    past_attendances: list[int]
    team_members: dict[int, set[int]] = field(default_factory=dict)


def seed(database: Database) -> Seeded:
    """The small system, a roster published by last night's refresh, some sessions already
    held (so their delivery can be recorded), and a rota manager with an API token."""
    from sel_time.core.auth import create_api_token
    from sel_time.nightly.refresh import refresh

    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database.url,
        REFRESH_TIME_LIMIT=10,
        SOLVER_WORKERS=2,
        REFRESH_FROZEN_DAYS=0,
        REFRESH_WEEKS_AHEAD=3,
    )
    with app.app_context():
        small = seed_small(create_with())
        last_night = refresh("cron", now=now_utc() - timedelta(days=1))
        assert last_night.ran and last_night.stats["added"] > 5, last_night.message
        past = []
        today = now_utc().astimezone(LONDON).date()
        for n, pid in enumerate((small.ada, small.ben, small.cara, small.dev)):
            day = today - timedelta(days=7 + n)
            start = datetime.combine(day, datetime.min.time()).replace(hour=9, tzinfo=LONDON)
            session = ProtectedSession(
                uid=f"past-{n}@faults",
                person_id=pid,
                slot=f"{day.isoformat()}/AM",
                start_at=start,
                end_at=start + timedelta(hours=4),
                status=RosterStatus.CONFIRMED,
                sequence=0,
                published_at=now_utc() - timedelta(days=30),
                last_modified=now_utc() - timedelta(days=30),
            )
            session.attendances.append(Attendance(person_id=pid, cost_pence=40000))
            db.session.add(session)
            db.session.flush()
            past.append(session.attendances[0].id)
        manager = User(email="rota@faults.example", name="Rota Manager", role=UserRole.ROTA_MANAGER)
        db.session.add(manager)
        db.session.flush()
        _, token = create_api_token(manager, "faults")
        members = {t.id: {p.id for p in t.members} for t in db.session.scalars(sa.select(Team))}
        db.session.commit()
        db.session.remove()
    return Seeded(app, database, token, past, members)


# -- what a fault must never break ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionState:
    owner: tuple[str, int]
    slot: str
    status: str
    sequence: int
    start: str
    attendees: tuple[int, ...]

    def content(self) -> tuple[Any, ...]:
        return (self.owner, self.slot, self.status, self.start, self.attendees)


@dataclass
class State:
    sessions: dict[str, SessionState]
    outcomes: dict[int, str | None]
    published_plans: frozenset[int]
    active_scopes: dict[str, int]


def read_state(app: Any) -> State:
    with app.app_context():
        try:
            sessions: dict[str, SessionState] = {}
            attendees: dict[int, list[int]] = {}
            outcomes: dict[int, str | None] = {}
            for att in db.session.scalars(sa.select(Attendance)):
                attendees.setdefault(att.session_id, []).append(att.person_id)
                outcomes[att.id] = att.outcome.value if att.outcome else None
            for s in db.session.scalars(sa.select(ProtectedSession)):
                owner = ("t", s.team_id) if s.team_id is not None else ("p", s.person_id or 0)
                sessions[s.uid] = SessionState(
                    owner,
                    s.slot,
                    s.status.value,
                    s.sequence,
                    s.start_at.isoformat(),
                    tuple(sorted(attendees.get(s.id, []))),
                )
            published = frozenset(
                db.session.scalars(
                    sa.select(Plan.id).where(
                        Plan.status.in_((PlanStatus.PUBLISHED, PlanStatus.SUPERSEDED))
                    )
                )
            )
            active = {
                p.active_scope: p.id
                for p in db.session.scalars(sa.select(Plan).where(Plan.active_scope.is_not(None)))
            }
            return State(sessions, outcomes, published, active)  # type: ignore[arg-type]
        finally:
            db.session.remove()


@dataclass
class Audit:
    """Follows the roster across faults: the highest sequence seen per UID, the delivery
    records acknowledged, and the state left by the last completed publish."""

    seeded: Seeded
    committed: State
    max_sequence: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[int, set[str]] = field(default_factory=dict)  # attendance → outcomes allowed

    def check(self, label: str) -> State:
        now = read_state(self.seeded.app)
        before = self.committed
        where = f"after {label}"
        lost = set(before.sessions) - set(now.sessions)
        assert not lost, f"{where}: published sessions vanished: {sorted(lost)[:5]}"
        for uid, s in now.sessions.items():
            assert s.sequence >= self.max_sequence.get(uid, 0), f"{where}: {uid} sequence went back"
            old = before.sessions.get(uid)
            if old is not None and old.content() != s.content():
                assert s.sequence > old.sequence, (
                    f"{where}: {uid} changed without a new sequence: {old} -> {s}"
                )
        confirmed = [s for s in now.sessions.values() if s.status == RosterStatus.CONFIRMED.value]
        keys = [(s.owner, s.slot) for s in confirmed]
        dupes = {k for k in keys if keys.count(k) > 1}
        assert not dupes, f"{where}: duplicated published sessions {sorted(dupes)[:5]}"
        busy: dict[tuple[int, str], int] = {}
        for s in confirmed:
            if s.owner[0] == "p":
                assert s.attendees == (s.owner[1],), (
                    f"{where}: individual session with attendances {s}"
                )
            else:
                assert s.attendees, f"{where}: a confirmed team session with nobody attending: {s}"
                assert set(s.attendees) <= self.seeded.team_members[s.owner[1]], f"{where}: {s}"
            for pid in s.attendees:
                busy[(pid, s.slot)] = busy.get((pid, s.slot), 0) + 1
        double = {k for k, n in busy.items() if n > 1}
        assert not double, f"{where}: people booked twice in one slot: {sorted(double)[:5]}"
        for att, allowed in self.acknowledged.items():
            assert now.outcomes.get(att) in allowed, (
                f"{where}: delivery record of attendance {att} lost"
            )
        if now.published_plans == before.published_plans:  # nothing published: nothing moved
            assert {u: s.content() for u, s in now.sessions.items()} == {
                u: s.content() for u, s in before.sessions.items()
            }, f"{where}: roster changed without a publish"
        for uid, s in now.sessions.items():
            self.max_sequence[uid] = max(self.max_sequence.get(uid, 0), s.sequence)
        self.committed = now
        return now


# -- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    database: Database, port: int, workers: int = 2, **env: str
) -> subprocess.Popen[bytes]:
    """gunicorn and a queue worker (the app's solves run there) in a session of their own, so
    that killing its group kills master, web workers and queue worker. Its log goes to a file
    (a pipe nobody reads fills up and blocks the workers)."""
    log = tempfile.NamedTemporaryFile(prefix=f"gunicorn-{port}-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            "bash", "-c", f'"{SEL_TIME}" worker & exec "$0" "$@"',
            GUNICORN,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "sel_time:create_app()",
        ],
        cwd=ROOT,
        env=database.env(**env),
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    proc.log_path = log.name  # type: ignore[attr-defined]
    return proc


def server_log(proc: subprocess.Popen[Any]) -> str:
    path = getattr(proc, "log_path", None)
    return Path(path).read_text(errors="replace") if path and Path(path).exists() else ""


def wait_healthy(port: int, proc: subprocess.Popen[Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("gunicorn exited: " + server_log(proc))
        conn = HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise AssertionError("gunicorn did not answer /health")


def group_running(pgid: int) -> bool:
    """Whether a process of the group `pgid` is still running. A zombie (state Z, dead and
    waiting to be reaped) has let go of everything, SQLite's file locks included."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):  # gone meanwhile
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def kill_group(proc: subprocess.Popen[Any]) -> str:
    """SIGKILL the process and everything it started, and wait until all of them are gone
    (a web or queue worker still dying holds SQLite's lock: the next write in the test was
    refused "database is locked", once in CI); return what it wrote on stderr."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        _, err = proc.communicate(timeout=30)
    except ValueError:  # pipes already closed
        proc.wait(timeout=30)
        err = ""
    gone_by = time.monotonic() + 30
    while group_running(proc.pid) and time.monotonic() < gone_by:
        time.sleep(0.02)
    path = getattr(proc, "log_path", None)
    if path:
        text = server_log(proc)
        Path(path).unlink(missing_ok=True)
        return text
    return err.decode(errors="replace") if isinstance(err, bytes) else (err or "")


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)

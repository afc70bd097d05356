"""The nightly refresh: roll the published roster forward every night, absorbing new leave
and role changes, without moving anything inside the frozen window, exactly once per night
however many scheduler processes run, and without ever leaving a half-published roster.

``sel-time scheduler`` runs it at 02:00 Europe/London with APScheduler 3; ``sel-time
refresh`` runs it once, now, under the same guards. Web processes never start a scheduler.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..models import (
    Attendance,
    JobRun,
    Lease,
    Organisation,
    Person,
    Plan,
    PlanStatus,
    ProtectedSession,
    RunStatus,
    Team,
)
from .audit import SCHEDULER_ACTOR, Actor
from .clock import LONDON, UTC, now_utc
from .extensions import db
from .transaction import boundary, discard

log = logging.getLogger(__name__)
JOB = "nightly-refresh"
RUN_AT = (2, 0)  # 02:00 Europe/London: outside the 01:00–02:00 hour that repeats or vanishes


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LockHeld(Exception):
    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


# -- one at a time: a PostgreSQL advisory lock, or a lease row on SQLite ---------------------------


@contextmanager
def job_lock(
    name: str, *, wait: float = 0.0, lease: timedelta = timedelta(hours=2)
) -> Iterator[None]:
    """Hold the named lock for the block, or raise LockHeld naming who has it (after waiting
    up to ``wait`` seconds). PostgreSQL: an advisory lock on a dedicated connection, freed by
    the server if this process dies. SQLite: a lease row that expires."""
    deadline = time.monotonic() + wait
    engine = db.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        # advisory locks are per database: key by schema too, so that deployments (or test
        # runs) in separate schemas of one database never take each other's lock
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar() or "public"
        conn.commit()
        key = zlib.crc32(name.encode() if schema == "public" else f"{schema}/{name}".encode())
        try:
            while True:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                conn.commit()
                if got:
                    break
                if time.monotonic() >= deadline:
                    holder = conn.execute(
                        sa.text(
                            "SELECT a.application_name || ' pid ' || l.pid FROM pg_locks l "
                            "JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE l.locktype = 'advisory' AND l.objid = :k LIMIT 1"
                        ),
                        {"k": key & 0xFFFFFFFF},
                    ).scalar()
                    conn.commit()
                    raise LockHeld(holder or "another process")
                time.sleep(1.0)
            conn.execute(
                sa.text("SELECT set_config('application_name', :h, false)"), {"h": holder_id()[:60]}
            )
            conn.commit()
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
            except sa.exc.DBAPIError as exc:
                # The lock's session is gone (PostgreSQL restarted, the connection dropped):
                # the server freed the lock with it; the run's own outcome stands.
                if not exc.connection_invalidated:
                    conn.invalidate()
                log.warning(
                    "the %s lock's connection was lost (%s); the server has released it",
                    name,
                    type(exc.orig).__name__,
                )
            finally:
                conn.close()
        return
    me = holder_id()
    # SQLite lets a writer commit only when no reader holds a transaction open, this process's
    # own session included: end its read before the lease (on another connection) is written.
    discard()
    while True:
        holder = _take_lease(engine, name, me, lease)
        if holder == me:
            break
        if time.monotonic() >= deadline:
            raise LockHeld(holder)
        time.sleep(1.0)
    try:
        yield
    finally:
        discard()  # likewise; the refresh has committed its work (or must not)
        with engine.begin() as conn:
            conn.execute(sa.delete(Lease).where(Lease.name == name, Lease.holder == me))


def holder_is_dead(holder: str) -> bool:
    """Is ``holder`` (host:pid) a process on this host that no longer exists? A refresh killed
    outright never deletes its lease; waiting for the expiry would skip a night."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    """A process killed outright stays in the process table, and still answers ``kill(pid, 0)``,
    until its parent reaps it. A killed gunicorn's workers are orphans that wait for PID 1, which
    in a container or a small VM may take its time: meanwhile their plans looked alive."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except FileNotFoundError:  # gone since kill(), unless there is no /proc here at all (macOS)
        return os.path.exists("/proc/self/stat")
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()  # the name in brackets may hold spaces and ')'
    return bool(fields) and fields[0] in ("Z", "X")


def _take_lease(engine: sa.Engine, name: str, me: str, lease: timedelta) -> str:
    """Take or renew the lease unless a live holder has it; return who holds it now.

    The row is read before any write: a holder in the middle of its publish holds SQLite's
    write lock, and a second process must be told who is running, not wait on that lock.
    Two processes racing for a free lease can deadlock in SQLite (each holds a read, one wants
    to write); SQLite then fails one at once, which reads the row again a moment later."""
    for attempt in range(10):
        holder = _take_lease_once(engine, name, me, lease)
        if holder is not None:
            return holder
        time.sleep(0.1 * (attempt + 1))
    return "another process (the database is busy)"


def _take_lease_once(engine: sa.Engine, name: str, me: str, lease: timedelta) -> str | None:
    now = now_utc()
    try:
        with engine.begin() as conn:
            row = conn.execute(
                sa.select(Lease.holder, Lease.expires_at).where(Lease.name == name)
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            sa.insert(Lease).values(name=name, holder=me, expires_at=now + lease)
                        )
                    return me
                except sa.exc.IntegrityError:
                    return (
                        conn.execute(sa.select(Lease.holder).where(Lease.name == name)).scalar()
                        or "another process"
                    )
            if row.holder != me and row.expires_at > now and not holder_is_dead(row.holder):
                return str(row.holder)
            if row.holder != me:
                log.warning(
                    "taking over the %s lease from %s (%s)",
                    name,
                    row.holder,
                    "expired" if row.expires_at <= now else "its process is gone",
                )
            taken = conn.execute(
                sa.update(Lease)
                .where(  # only if nobody took it meanwhile
                    Lease.name == name,
                    Lease.holder == row.holder,
                    Lease.expires_at == row.expires_at,
                )
                .values(holder=me, expires_at=now + lease)
            ).rowcount
            if taken:
                return me
            return (
                conn.execute(sa.select(Lease.holder).where(Lease.name == name)).scalar()
                or "another process"
            )
    except sa.exc.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return None


def _test_pause(point: str) -> None:
    """A hook for the crash tests only: with ``SEL_TIME_TEST_PAUSE_AT=<point>`` in the
    environment, say so on stderr and sleep there (``SEL_TIME_TEST_PAUSE_SECONDS``, default
    60), so a test can kill the process at exactly that point. Never set in a deployment."""
    if os.environ.get("SEL_TIME_TEST_PAUSE_AT") != point:
        return
    sys.stderr.write(f"sel-time test pause: {point}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get("SEL_TIME_TEST_PAUSE_SECONDS", "60")))


# -- the refresh -----------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    ran: bool
    message: str
    run_id: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def night_of(now: datetime) -> date:
    """The night a run belongs to: its Europe/London date."""
    return now.astimezone(LONDON).date()


def refresh(
    trigger: str = "manual",
    *,
    now: datetime | None = None,
    wait: float = 0.0,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Run the nightly refresh once for tonight, unless it has already succeeded (or another
    process is running it: then say who and return without doing anything)."""
    now = now or now_utc()
    tonight = night_of(now)
    try:
        with job_lock(JOB, wait=wait):
            run = db.session.scalar(
                sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == tonight)
            )
            if run is not None and run.status == RunStatus.SUCCEEDED and not force:
                discard()  # nothing to keep: end the read
                return RefreshResult(
                    False,
                    f"The refresh for {tonight} already ran (run {run.id})",
                    run.id,
                    run.stats or {},
                )
            with boundary(quiet=False):  # marked running, for /health and other processes
                if run is None:
                    run = JobRun(job=JOB, run_date=tonight, attempts=0)
                    db.session.add(run)
                run.status, run.holder, run.trigger = RunStatus.RUNNING, holder_id(), trigger
                run.started_at, run.finished_at, run.error = now_utc(), None, None
                run.attempts = (run.attempts or 0) + 1
            run_id = run.id
            try:
                with boundary(quiet=False):  # the night's work: what is not committed is undone
                    stats = _refresh(now, progress or (lambda _m: None))
            except Exception as exc:
                with boundary(quiet=False):  # the failure, in a transaction of its own
                    failed = db.session.get(JobRun, run_id)
                    assert failed is not None
                    failed.status, failed.finished_at = RunStatus.FAILED, now_utc()
                    failed.error = f"{type(exc).__name__}: {exc}"[:2000]
                log.exception("nightly refresh failed")
                return RefreshResult(True, f"The refresh failed: {failed.error}", run_id)
            return RefreshResult(True, _describe(stats), run_id, stats)
    except LockHeld as held:
        return RefreshResult(
            False, f"Another refresh is running (held by {held.holder}); nothing to do"
        )


def _describe(stats: dict[str, Any]) -> str:
    return (
        f"Refreshed {stats['weeks']} weeks from {stats['start']}: {stats['added']} added, "
        f"{stats['moved']} moved, {stats['changed']} with new attendees, "
        f"{stats['removed']} removed, "
        f"{stats['unchanged']} unchanged; "
        f"{stats['shortfalls_new']} new and {stats['shortfalls_resolved']} resolved shortfalls; "
        f"{len(stats['frozen_conflicts'])} frozen-window conflicts; "
        f"{stats.get('people_changed', 0)} people's calendars changed; "
        f"{stats['feeds_rendered']} feeds rendered"
    )


def refresh_scopes() -> list[str]:
    """Teams whose members span organisations are planned on their own, first; then each
    organisation with its own teams and its leaders' individual commitments."""
    scopes = []
    for team in db.session.scalars(sa.select(Team).order_by(Team.code)):
        orgs = {m.organisation_id for m in team.members}
        if len(orgs) > 1:
            scopes.append(f"team:{team.code}")
    organisations = db.session.scalars(
        sa.select(Organisation)
        .where(
            Organisation.id.in_(sa.select(Person.organisation_id).where(Person.active.is_(True)))
        )
        .order_by(Organisation.code)
    )
    scopes += [f"organisation:{o.code}" for o in organisations]
    return scopes


def auto_publishes(scope: str) -> bool:
    """The publishing policy: every organisation the scope touches must allow auto-publish."""
    kind, _, code = scope.partition(":")
    if kind == "organisation":
        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
        return bool(org and org.auto_publish)
    team = db.session.scalar(sa.select(Team).where(Team.code == code))
    return bool(team) and all(m.organisation.auto_publish for m in team.members)  # type: ignore[union-attr]


def _shortfall_keys(plan: Plan | None) -> set[tuple[int | None, int | None, date]]:
    if plan is None:
        return set()
    return {(s.assignment_id, s.team_id, s.window_from) for s in plan.shortfalls}


def _release_dead_refresh_plans(scope: str) -> None:
    """A refresh killed while solving leaves its plan marked as solving, which would keep the
    scope busy for minutes. No other refresh can be solving while we hold the job lock, so a
    scheduler plan still solving is dead: fail it and free its scope."""
    for plan in db.session.scalars(
        sa.select(Plan).where(
            Plan.active_scope == scope, Plan.requested_by == SCHEDULER_ACTOR.label
        )
    ):
        log.warning(
            "plan %s was left solving by a refresh that stopped; marking it failed", plan.id
        )
        plan.active_scope = None
        plan.status = PlanStatus.FAILED
        plan.error = "The refresh solving this plan stopped without finishing"
    db.session.flush()


def _refresh(now: datetime, say: Callable[[str], None]) -> dict[str, Any]:
    from ..feeds.service import render_all
    from ..plans.planning import request_plan, run_plan
    from ..plans.publishing import publish, serialise_publishes

    cfg = current_app.config
    today = night_of(now)
    start = today + timedelta(days=(7 - today.weekday()) % 7)  # the next Monday (today if Monday)
    weeks = int(cfg.get("REFRESH_WEEKS_AHEAD", 12))
    frozen_until = today + timedelta(days=int(cfg.get("REFRESH_FROZEN_DAYS", 14)))
    frozen_from = (
        datetime.combine(frozen_until, datetime.min.time()).replace(tzinfo=LONDON).astimezone(UTC)
    )
    scopes = refresh_scopes()
    per_scope = max(5.0, float(cfg.get("REFRESH_TIME_LIMIT", 300)) / max(1, len(scopes)))
    stats: dict[str, Any] = {
        "start": start.isoformat(),
        "weeks": weeks,
        "frozen_until": frozen_until.isoformat(),
        "scopes": len(scopes),
        "added": 0,
        "moved": 0,
        "removed": 0,
        "changed": 0,
        "unchanged": 0,
        "shortfalls_new": 0,
        "shortfalls_resolved": 0,
        "frozen_conflicts": [],
        "awaiting_approval": [],
        "skipped": [],
        "objective": 0.0,
        "solver_seconds": 0.0,
        "plans": [],
    }
    drafts: list[Plan] = []
    paused: list[bool] = []

    def solving(_message: str, _fraction: float) -> None:
        if not paused:
            paused.append(True)
            _test_pause("solve")

    for i, scope in enumerate(scopes, 1):
        say(f"[{i}/{len(scopes)}] planning {scope}")
        with boundary(quiet=False):
            _release_dead_refresh_plans(scope)
        try:
            with boundary(quiet=False):  # queued and committed before it solves
                plan = request_plan(start, weeks, scope, per_scope, SCHEDULER_ACTOR)
        except sa.exc.DBAPIError:  # the database failed: the night did not run, say so
            raise
        except Exception as exc:  # a rota manager's solve is running for this scope
            stats["skipped"].append(f"{scope}: {exc}")
            continue
        try:
            # the scopes planned before this one are not published yet: plan around their drafts
            plan = run_plan(
                plan.id, progress=solving, frozen_until=frozen_until, drafts=[d.id for d in drafts]
            )
        except sa.exc.DBAPIError:  # lost the database mid-solve: fail the run so it is retried
            raise
        except Exception as exc:
            stats["skipped"].append(f"{scope}: {exc}")
            continue
        stats["frozen_conflicts"].extend(plan.warnings or [])
        stats["objective"] += plan.objective or 0.0
        stats["solver_seconds"] += plan.wall_seconds or 0.0
        stats["plans"].append(plan.id)
        if plan.status == PlanStatus.DRAFT:
            drafts.append(plan)
        else:
            stats["skipped"].append(f"{scope}: plan {plan.id} is {plan.status.value}")
    # Publishing: one transaction for every scope, so a crash leaves last night's roster live.
    say("publishing")
    serialise_publishes()  # before superseding any draft: a rota manager's publish waits for us
    changed_people: set[int] = set()
    for plan in drafts:
        before = db.session.scalar(
            sa.select(Plan)
            .where(
                Plan.scope == plan.scope,
                Plan.status.in_((PlanStatus.PUBLISHED, PlanStatus.DRAFT)),
                Plan.id != plan.id,
            )
            .order_by(Plan.id.desc())
        )
        old, new = _shortfall_keys(before), _shortfall_keys(plan)
        stats["shortfalls_new"] += len(new - old)
        stats["shortfalls_resolved"] += len(old - new)
        for stale in db.session.scalars(
            sa.select(Plan).where(
                Plan.scope == plan.scope, Plan.status == PlanStatus.DRAFT, Plan.id != plan.id
            )
        ):
            stale.status = PlanStatus.SUPERSEDED
        if not auto_publishes(plan.scope):
            stats["awaiting_approval"].append(plan.id)
            continue
        report = publish(plan.id, SCHEDULER_ACTOR, now=now, frozen_from=frozen_from)
        for key in ("added", "moved", "changed", "unchanged"):
            stats[key] += getattr(report, key)
        stats["removed"] += report.cancelled
        changed_people |= report.people
        _test_pause(
            "publish"
        )  # flushed, not committed: a crash here must leave last night's roster
    stats["people_changed"] = len(changed_people)  # whose calendars changed tonight
    say("rendering feeds")
    stats["feeds_rendered"] = render_all()
    stats["awaiting_delivery"] = (
        db.session.scalar(
            sa.select(sa.func.count(Attendance.id))
            .join(ProtectedSession)
            .where(ProtectedSession.end_at <= now, Attendance.outcome.is_(None))
        )
        or 0
    )
    stats["objective"] = round(stats["objective"], 2)
    stats["solver_seconds"] = round(stats["solver_seconds"], 2)
    run = db.session.scalar(
        sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == night_of(now))
    )
    assert run is not None
    run.status, run.finished_at, run.stats = RunStatus.SUCCEEDED, now_utc(), stats
    db.session.flush()  # committed by the caller's boundary, with the night's publishing
    return stats


# -- the scheduler process -------------------------------------------------------------------------


def last_success() -> JobRun | None:
    return db.session.scalar(
        sa.select(JobRun)
        .where(JobRun.job == JOB, JobRun.status == RunStatus.SUCCEEDED)
        .order_by(JobRun.run_date.desc())
    )


def catch_up_needed(now: datetime) -> bool:
    """On start: has the most recent 02:00 passed without a successful run for its night?"""
    local = now.astimezone(LONDON)
    night = (
        local.date() if (local.hour, local.minute) >= RUN_AT else local.date() - timedelta(days=1)
    )
    done = db.session.scalar(
        sa.select(JobRun.id).where(
            JobRun.job == JOB, JobRun.run_date == night, JobRun.status == RunStatus.SUCCEEDED
        )
    )
    return done is None


def make_trigger() -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(hour=RUN_AT[0], minute=RUN_AT[1], timezone=LONDON)


def run_scheduler(app: Any, *, block: bool = True) -> Any:
    """Start APScheduler 3 with the nightly job: cron at 02:00 Europe/London passed
    explicitly, coalescing, a misfire grace of hours, one instance, and a catch-up on start."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    def job(trigger: str = "cron") -> None:
        with app.app_context():
            result = refresh(trigger, wait=0.0)
            log.info("nightly refresh (%s): %s", trigger, result.message)
            db.session.remove()

    cls = BlockingScheduler if block else BackgroundScheduler
    sched = cls(
        timezone=LONDON,
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": int(app.config.get("REFRESH_MISFIRE_GRACE", 6 * 3600)),
            "max_instances": 1,
        },
    )
    sched.add_job(
        job, make_trigger(), id=JOB, name="Nightly protected-time refresh", replace_existing=True
    )
    with app.app_context():
        needed = catch_up_needed(now_utc())
        db.session.remove()
    if needed:
        log.info("last night's refresh is missing: catching up now")
        sched.add_job(
            job, kwargs={"trigger": "catch-up"}, id=f"{JOB}-catch-up", replace_existing=True
        )
    sched.start()
    return sched


def job_dict(run: JobRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job,
        "run_date": run.run_date.isoformat(),
        "status": run.status.value,
        "trigger": run.trigger,
        "attempts": run.attempts,
        "holder": run.holder,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "stats": run.stats,
        "error": run.error,
    }


__all__ = ["Actor", "LockHeld", "job_lock", "refresh", "run_scheduler"]

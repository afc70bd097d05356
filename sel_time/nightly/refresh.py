"""The nightly refresh: roll the published roster forward every night, absorbing new leave
and role changes, without moving anything inside the frozen window, exactly once per night
however many scheduler processes run, and without ever leaving a half-published roster.

The night is made of **parts**, one per scope (:class:`~sel_time.models.NightPart`), each solved
by a queue task of its own, so that any number of workers share a night. Parts of one wave run
at once; a wave starts when the one before it has finished (teams spanning organisations first,
then every organisation, planned around the teams' drafts). The part whose finish makes the
run's ``parts_done`` equal its ``parts_total`` (one conditional ``UPDATE`` each: the database
decides who is last, on PostgreSQL under any number of workers and on SQLite) asks for the
publish, and the publish takes the run from running to succeeded in the one transaction that
publishes every scope: it happens once.

``sel-time scheduler`` claims the night at 02:00 Europe/London (APScheduler 3) and queues its
first wave; ``sel-time refresh`` runs every part once, now, in its own process, under the same
guards. Web processes never start a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from ..core.audit import SCHEDULER_ACTOR, Actor, record
from ..core.clock import LONDON, UTC, monday_on_or_after, now_utc
from ..core.errors import Conflict, FieldError, NotFound
from ..core.extensions import db
from ..core.queue import NIGHTLY, revoke, task
from ..core.queue.cancel import watch_cancel
from ..core.queue.faults import pause_for_tests
from ..core.queue.recovery import lost_before
from ..core.transaction import boundary, discard, read_only
from ..models import (
    Attendance,
    JobRun,
    NightPart,
    Organisation,
    PartStatus,
    Person,
    Plan,
    PlanStatus,
    ProtectedSession,
    RunStatus,
    Team,
)

log = logging.getLogger(__name__)
JOB = "nightly-refresh"
RUN_AT = (2, 0)  # 02:00 Europe/London: outside the 01:00–02:00 hour that repeats or vanishes
UNFINISHED = (PartStatus.QUEUED, PartStatus.RUNNING)


@dataclass
class RefreshResult:
    ran: bool
    message: str
    run_id: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Night:
    """What a night plans: ``weeks`` from ``start`` (the next Monday), nothing moved before
    ``frozen_until``."""

    start: date
    weeks: int
    frozen_until: date

    @property
    def frozen_from(self) -> datetime:
        midnight = datetime.combine(self.frozen_until, datetime.min.time())
        return midnight.replace(tzinfo=LONDON).astimezone(UTC)


def night_of(now: datetime) -> date:
    """The night a run belongs to: its Europe/London date."""
    return now.astimezone(LONDON).date()


def night_plan(run_date: date) -> Night:
    cfg = current_app.config
    return Night(
        start=monday_on_or_after(run_date),  # the next Monday (today if Monday)
        weeks=int(cfg.get("REFRESH_WEEKS_AHEAD", 12)),
        frozen_until=run_date + timedelta(days=int(cfg.get("REFRESH_FROZEN_DAYS", 14))),
    )


# -- claiming the night and recording its parts ----------------------------------------------


def _claim(tonight: date, trigger: str, force: bool, *, chain: bool) -> tuple[int | None, str]:
    """Mark tonight's run as running and record its parts, unless it already succeeded or
    another process runs it (its row says running and it is not overdue). One row per night
    (a unique constraint), changed only from the state it was read in: of two schedulers or
    workers, one wins. With ``chain``, the first wave is queued when this commits."""
    limit = float(current_app.config.get("REFRESH_TIME_LIMIT", 300))
    with read_only():  # first a look that writes nothing: a night taken is said, not waited for
        seen = db.session.scalar(
            sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == tonight))
        refused = seen is not None and _refusal(seen, tonight, limit, force)
    if refused:
        return None, refused
    with boundary(quiet=False):
        _take_sqlite_write_lock()
        run = db.session.scalar(
            sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == tonight)
        )
        if run is None:
            try:
                with db.session.begin_nested():
                    run = JobRun(job=JOB, run_date=tonight, attempts=1, holder=trigger,
                                 status=RunStatus.RUNNING, trigger=trigger, started_at=now_utc())
                    db.session.add(run)
                    db.session.flush()
            except sa.exc.IntegrityError:
                return None, "Another refresh is running (it claimed tonight first); nothing to do"
            _record_parts(run, chain=chain)
            return run.id, ""
        refused = _refusal(run, tonight, limit, force)
        if refused:
            return None, refused
        taken = cast(sa.CursorResult[Any], db.session.execute(
            sa.update(JobRun)
            .where(JobRun.id == run.id, JobRun.status == run.status,
                   JobRun.started_at == run.started_at)
            .values(status=RunStatus.RUNNING, trigger=trigger, holder=trigger,
                    started_at=now_utc(), finished_at=None, error=None,
                    attempts=JobRun.attempts + 1)
            .execution_options(synchronize_session=False)
        )).rowcount
        if not taken:
            return None, "Another refresh is running (it claimed tonight first); nothing to do"
        db.session.refresh(run)
        _record_parts(run, chain=chain)
        return run.id, ""


def _refusal(run: JobRun, tonight: date, limit: float, force: bool) -> str:
    """Why tonight's ``run`` is not to be claimed (empty: it may be)."""
    if run.status == RunStatus.SUCCEEDED and not force:
        return f"The refresh for {tonight} already ran (run {run.id})"
    if run.status == RunStatus.RUNNING and run.started_at > lost_before(limit):
        return (f"Another refresh is running (started {run.started_at:%H:%M} UTC, "
                f"{run.trigger}); nothing to do")
    return ""


def _take_sqlite_write_lock() -> None:
    """On SQLite, begin the claim with a write (that changes nothing): the claim reads the
    night's row, then writes, and a read that turns into a write after another process has
    committed fails at once ("database is locked"), whatever the busy timeout. Beginning with
    the write lock, the second claimant waits for the first and then reads its row (a look
    that writes nothing came first, so a night already taken costs no lock). PostgreSQL needs
    nothing: the unique row and the conditional UPDATE decide."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.update(JobRun).where(sa.false()).values(job=JobRun.job)
                           .execution_options(synchronize_session=False))


def wave_of_scopes(scopes: list[str]) -> list[tuple[str, int]]:
    """Each scope with its wave. A team spanning organisations waits for every earlier team
    that shares a member with it (a leader is never planned twice for one slot); the
    organisations (whose leaders are their own) come after all the teams, together."""
    members: dict[str, set[int]] = {}
    for team in db.session.scalars(sa.select(Team)):
        members[f"team:{team.code}"] = {m.id for m in team.members}
    waves: list[tuple[str, int]] = []
    last_team_wave = -1
    for scope in scopes:
        if not scope.startswith("team:"):
            continue
        wave = 1 + max(
            (w for other, w in waves if members.get(other, set()) & members.get(scope, set())),
            default=-1,
        )
        waves.append((scope, wave))
        last_team_wave = max(last_team_wave, wave)
    waves += [(scope, last_team_wave + 1) for scope in scopes if not scope.startswith("team:")]
    return waves


def _record_parts(run: JobRun, *, chain: bool) -> None:
    """The night's parts, afresh (a run taken over starts again from its first part); with
    ``chain``, its first wave queued for workers when this transaction commits. Flushes."""
    db.session.execute(sa.delete(NightPart).where(NightPart.run_id == run.id))
    scopes = refresh_scopes()
    per_scope = max(5.0, float(current_app.config.get("REFRESH_TIME_LIMIT", 300))
                    / max(1, len(scopes)))
    parts = [NightPart(run_id=run.id, scope=scope, wave=wave, status=PartStatus.QUEUED,
                       attempt=1, time_limit=per_scope)
             for scope, wave in wave_of_scopes(scopes)]
    db.session.add_all(parts)
    run.parts_total, run.parts_done = len(parts), 0
    db.session.flush()
    if chain:
        _queue_next_wave(run)


def _queue_next_wave(run: JobRun) -> list[int]:
    """Queue the earliest wave not yet queued (when this transaction commits); with no part
    left, queue the publish. Flushes; returns the parts queued."""
    waiting = list(db.session.scalars(
        sa.select(NightPart)
        .where(NightPart.run_id == run.id, NightPart.status == PartStatus.QUEUED,
               NightPart.task_id.is_(None))
        .order_by(NightPart.wave, NightPart.id)
    ))
    if not waiting:
        if run.parts_done >= run.parts_total:
            publish_task.after_commit(run.id, run.attempts)
        return []
    wave = [p for p in waiting if p.wave == waiting[0].wave]
    for part in wave:
        part.task_id = part_task.after_commit(part.id, part.attempt)
    db.session.flush()
    return [p.id for p in wave]


# -- a part: one scope's solve ---------------------------------------------------------------

def run_part(part_id: int, attempt: int, *, chain: bool = True) -> bool:
    """Solve one part of a night (unless it was cancelled, or a later attempt replaced this
    one) and record its outcome through the barrier. With ``chain`` (a worker), finishing a
    wave queues the next, and finishing the night queues its publish. Returns whether this
    part was the night's last."""
    from ..plans.planning import request_plan, run_plan

    discard()  # start from a fresh read: other workers committed since
    with boundary(quiet=False):
        started = cast(sa.CursorResult[Any], db.session.execute(
            sa.update(NightPart)
            .where(NightPart.id == part_id, NightPart.attempt == attempt,
                   NightPart.status == PartStatus.QUEUED,
                   NightPart.run_id.in_(sa.select(JobRun.id).where(
                       JobRun.status == RunStatus.RUNNING)))
            .values(status=PartStatus.RUNNING, started_at=now_utc())
            .execution_options(synchronize_session=False)
        )).rowcount
        if not started:
            log.info("night part %s attempt %s: nothing to do", part_id, attempt)
            return False
        part = db.session.get(NightPart, part_id, populate_existing=True)
        assert part is not None
        run = db.session.get(JobRun, part.run_id)
        assert run is not None
        scope, limit, night = part.scope, part.time_limit, night_plan(run.run_date)
        drafts = list(db.session.scalars(
            sa.select(Plan.id)
            .select_from(NightPart)
            .join(Plan, Plan.id == NightPart.plan_id)
            .where(NightPart.run_id == part.run_id, NightPart.wave < part.wave,
                   NightPart.status == PartStatus.DONE, Plan.status == PlanStatus.DRAFT)
            .order_by(NightPart.wave, NightPart.id)
        ))
        _release_dead_refresh_plans(scope)
    log.info("night part %s: planning %s (attempt %s)", part_id, scope, attempt)
    status, outcome, stats, plan_id = PartStatus.DONE, None, {}, None
    try:
        with boundary(quiet=False):  # queued and committed before it solves
            plan = request_plan(night.start, night.weeks, scope, limit, SCHEDULER_ACTOR)
            plan_id = plan.id
            db.session.execute(sa.update(NightPart).where(NightPart.id == part_id)
                               .values(plan_id=plan_id)
                               .execution_options(synchronize_session=False))
    except sa.exc.DBAPIError:  # the database failed: the part did not run; it is retried
        raise
    except Exception as exc:  # a rota manager's solve is running for this scope
        status, outcome = PartStatus.FAILED, f"{scope}: {exc}"
    if plan_id is not None:
        paused: list[bool] = []

        def solving(_message: str, _fraction: float) -> None:
            if not paused:  # the crash tests kill the process here, mid-solve
                paused.append(True)
                pause_for_tests("solve")

        try:
            with watch_cancel(Plan, plan_id) as stop:
                plan = run_plan(plan_id, progress=solving, frozen_until=night.frozen_until,
                                drafts=drafts, stop=stop)
        except sa.exc.DBAPIError:  # lost the database mid-solve: retried, or the run fails
            raise
        except Exception as exc:
            status, outcome = PartStatus.FAILED, f"{scope}: {exc}"
        else:
            stats = {"plan": plan.id, "plan_status": plan.status.value,
                     "frozen_conflicts": plan.warnings or [],
                     "objective": plan.objective or 0.0,
                     "solver_seconds": plan.wall_seconds or 0.0}
            if plan.status != PlanStatus.DRAFT:
                status = PartStatus.FAILED
                outcome = f"{scope}: plan {plan.id} is {plan.status.value}"
    return finish_part(part_id, attempt, status, outcome, stats, chain=chain)


def finish_part(part_id: int, attempt: int, status: PartStatus, outcome: str | None,
                stats: dict[str, Any], *, chain: bool = True) -> bool:
    """Record a part's outcome and count it on its run, in one transaction: the barrier.
    Returns whether it was the night's last part (exactly one finisher sees that)."""
    discard()
    with boundary(quiet=False):
        return _finish(part_id, attempt, status, outcome, stats, chain=chain)


def _finish(part_id: int, attempt: int, status: PartStatus, outcome: str | None,
            stats: dict[str, Any], *, chain: bool) -> bool:
    """Flushes. The part is finished only from running at this attempt (a cancel or a later
    attempt wins), then its run's ``parts_done`` goes up by one in a conditional UPDATE, which
    holds the run's row until this transaction ends: finishers are counted one at a time, and
    the one that reads ``parts_done == parts_total`` is the last."""
    finished = cast(sa.CursorResult[Any], db.session.execute(
        sa.update(NightPart)
        .where(NightPart.id == part_id, NightPart.attempt == attempt,
               NightPart.status == PartStatus.RUNNING)
        .values(status=status, outcome=outcome, stats=stats or None, finished_at=now_utc())
        .execution_options(synchronize_session=False)
    )).rowcount
    if not finished:
        return False
    run_id = db.session.scalar(sa.select(NightPart.run_id).where(NightPart.id == part_id))
    counted = cast(sa.CursorResult[Any], db.session.execute(
        sa.update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == RunStatus.RUNNING)
        .values(parts_done=JobRun.parts_done + 1)
        .execution_options(synchronize_session=False)
    )).rowcount
    if not counted:  # the night was cancelled or failed meanwhile
        return False
    run = db.session.get(JobRun, run_id, populate_existing=True)
    assert run is not None
    last = run.parts_done >= run.parts_total
    log.info("night %s: part %s %s (%s of %s)", run.run_date, part_id, status.value,
             run.parts_done, run.parts_total)
    if chain:
        still = db.session.scalar(
            sa.select(sa.func.count(NightPart.id)).where(
                NightPart.run_id == run_id, NightPart.status.in_(UNFINISHED),
                NightPart.task_id.is_not(None)))
        if not still:  # this wave is done: queue the next, or the publish
            _queue_next_wave(run)
    return last


# -- publishing the night: once, in one transaction ------------------------------------------


def publish_night(run_id: int, attempt: int, *, now: datetime | None = None,
                  say: Callable[[str], None] | None = None) -> bool:
    """Publish every scope of a night whose parts have all finished, in one transaction that
    also takes the run from running to succeeded (conditionally: of two publishers, one does
    it). Returns whether this call published. Raises if publishing failed (nothing kept)."""
    from ..plans.publishing import serialise_publishes

    discard()
    with boundary(quiet=False):  # the night's work: what is not committed is undone
        serialise_publishes()  # before superseding any draft: a rota manager's publish waits
        claimed = cast(sa.CursorResult[Any], db.session.execute(
            sa.update(JobRun)
            .where(JobRun.id == run_id, JobRun.attempts == attempt,
                   JobRun.status == RunStatus.RUNNING, JobRun.parts_done >= JobRun.parts_total)
            .values(status=RunStatus.SUCCEEDED, finished_at=now_utc())
            .execution_options(synchronize_session=False)
        )).rowcount
        if not claimed:
            log.info("night run %s attempt %s: not to publish (already, or not its turn)",
                     run_id, attempt)
            return False
        run = db.session.get(JobRun, run_id, populate_existing=True)
        assert run is not None
        run.stats = _publish(run, now or now_utc(), say or (lambda _m: None))
        db.session.flush()  # committed with the night's publishing
    return True


def fail_run(run_id: int, exc: BaseException, attempt: int | None = None) -> str:
    """Record a night as failed, saying why, in a transaction of its own."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    discard()
    with boundary(quiet=False):
        query = sa.update(JobRun).where(JobRun.id == run_id)
        if attempt is not None:
            query = query.where(JobRun.attempts == attempt, JobRun.status == RunStatus.RUNNING)
        db.session.execute(query.values(status=RunStatus.FAILED, finished_at=now_utc(),
                                        error=error)
                           .execution_options(synchronize_session=False))
    return error


@task("nightly.part", priority=NIGHTLY)
def part_task(part_id: int, attempt: int) -> None:
    """Solve one scope of tonight's refresh (a worker)."""
    run_part(part_id, attempt)


@task("nightly.publish", priority=NIGHTLY)
def publish_task(run_id: int, attempt: int) -> None:
    """Publish a night whose parts have all finished (once: see :func:`publish_night`)."""
    try:
        if publish_night(run_id, attempt):
            log.info("nightly run %s published", run_id)
    except sa.exc.DBAPIError:  # the database is away: the sweep asks again
        raise
    except Exception as exc:
        log.exception("nightly run %s failed to publish", run_id)
        fail_run(run_id, exc, attempt)


def _publish(run: JobRun, now: datetime, say: Callable[[str], None]) -> dict[str, Any]:
    from ..feeds.service import render_all
    from ..plans.publishing import publish

    night = night_plan(run.run_date)
    parts = list(db.session.scalars(
        sa.select(NightPart).where(NightPart.run_id == run.id)
        .order_by(NightPart.wave, NightPart.id)))
    stats: dict[str, Any] = {
        "start": night.start.isoformat(),
        "weeks": night.weeks,
        "frozen_until": night.frozen_until.isoformat(),
        "scopes": len(parts),
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
    for part in parts:
        got = part.stats or {}
        if part.outcome:
            stats["skipped"].append(part.outcome)
        if "plan" in got:
            stats["frozen_conflicts"].extend(got.get("frozen_conflicts") or [])
            stats["objective"] += got.get("objective") or 0.0
            stats["solver_seconds"] += got.get("solver_seconds") or 0.0
            stats["plans"].append(got["plan"])
        if part.status == PartStatus.DONE and part.plan_id is not None:
            plan = db.session.get(Plan, part.plan_id)
            if plan is not None and plan.status == PlanStatus.DRAFT:
                drafts.append(plan)
    # Publishing: one transaction for every scope, so a crash leaves last night's roster live.
    say("publishing")
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
        report = publish(plan.id, SCHEDULER_ACTOR, now=now, frozen_from=night.frozen_from)
        for key in ("added", "moved", "changed", "unchanged"):
            stats[key] += getattr(report, key)
        stats["removed"] += report.cancelled
        changed_people |= report.people
        pause_for_tests(
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
    return stats


# -- cancelling a night ----------------------------------------------------------------------


def cancel_night(run_id: int, actor: Actor) -> JobRun:
    """Cancel a running night (409 otherwise): its queued parts never start, its running
    solves stop within a second or two, nothing of it is published (last night's roster stays
    live). Audited. Flushes."""
    run = db.session.scalar(sa.select(JobRun).where(JobRun.id == run_id).with_for_update())
    if run is None:
        raise NotFound(f"No nightly run {run_id}")
    if run.status != RunStatus.RUNNING:
        raise Conflict(
            f"Run {run_id} is {run.status.value}; only a running night can be cancelled",
            [FieldError("run", run.status.value)])
    record(actor, "cancel", "job_run", run.id, {"status": run.status.value}, None)
    run.status, run.finished_at = RunStatus.CANCELLED, now_utc()
    run.error = f"Cancelled by {actor.label}; nothing of this night was published"
    for part in db.session.scalars(sa.select(NightPart).where(
            NightPart.run_id == run.id, NightPart.status.in_(UNFINISHED))):
        if part.status == PartStatus.QUEUED:
            revoke(part.task_id)
        elif part.plan_id is not None:  # its worker's watch stops the solver
            db.session.execute(
                sa.update(Plan)
                .where(Plan.id == part.plan_id,
                       Plan.status.in_((PlanStatus.QUEUED, PlanStatus.RUNNING)))
                .values(cancel_requested=True)
                .execution_options(synchronize_session=False))
        part.status, part.finished_at, part.outcome = (
            PartStatus.CANCELLED, now_utc(), f"{part.scope}: cancelled")
    db.session.flush()
    return run


# -- the whole night in one process (``sel-time refresh``) -----------------------------------


def refresh(
    trigger: str = "manual",
    *,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Run the nightly refresh once for tonight in this process, part after part, unless it has
    already succeeded (or another process is running it: then say so and return without doing
    anything)."""
    now = now or now_utc()
    tonight = night_of(now)
    run_id, refused = _claim(tonight, trigger, force, chain=False)
    if run_id is None:
        run = db.session.scalar(
            sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == tonight))
        discard()  # nothing to keep: end the read
        return RefreshResult(False, refused, run.id if run else None,
                             (run.stats or {}) if run else {})
    say = progress or (lambda _m: None)
    try:
        run = db.session.get(JobRun, run_id)
        assert run is not None
        attempt = run.attempts
        parts = db.session.execute(
            sa.select(NightPart.id, NightPart.attempt, NightPart.scope)
            .where(NightPart.run_id == run_id).order_by(NightPart.wave, NightPart.id)).all()
        for i, (part_id, part_attempt, scope) in enumerate(parts, 1):
            say(f"[{i}/{len(parts)}] planning {scope}")
            run_part(part_id, part_attempt, chain=False)
        publish_night(run_id, attempt, now=now, say=say)
    except Exception as exc:
        error = fail_run(run_id, exc)  # the failure, in a transaction of its own
        log.exception("nightly refresh failed")
        return RefreshResult(True, f"The refresh failed: {error}", run_id)
    run = db.session.get(JobRun, run_id, populate_existing=True)
    assert run is not None
    discard()
    if run.status == RunStatus.CANCELLED:
        return RefreshResult(True, f"The refresh was cancelled: {run.error}", run_id)
    if run.status != RunStatus.SUCCEEDED or run.stats is None:
        return RefreshResult(True, f"The refresh failed: {run.error or run.status.value}", run_id)
    return RefreshResult(True, describe(run.stats), run_id, run.stats)


def describe(stats: dict[str, Any]) -> str:
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


def start_night(trigger: str = "cron", *, force: bool = False) -> RefreshResult:
    """The scheduler's half: claim tonight, record its parts and queue the first wave for the
    workers (when this commits). Returns at once."""
    tonight = night_of(now_utc())
    run_id, refused = _claim(tonight, trigger, force, chain=True)
    if run_id is None:
        return RefreshResult(False, refused)
    return RefreshResult(True, f"The refresh for {tonight} is queued (run {run_id})", run_id)


# -- scopes and policy ------------------------------------------------------------------------


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
    scope busy for minutes. Each scope is one part of the one night running, and that part is
    ours now (it was queued, or its earlier attempt was lost), so a scheduler plan still solving
    for it is dead: fail it and free its scope."""
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



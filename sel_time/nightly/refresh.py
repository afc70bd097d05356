"""The nightly refresh: roll the published roster forward every night, absorbing new leave
and role changes, without moving anything inside the frozen window, exactly once per night
however many scheduler processes run, and without ever leaving a half-published roster.

``sel-time scheduler`` runs it at 02:00 Europe/London with APScheduler 3; ``sel-time
refresh`` runs it once, now, under the same guards. Web processes never start a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from ..core.audit import SCHEDULER_ACTOR
from ..core.clock import LONDON, UTC, monday_on_or_after, now_utc
from ..core.extensions import db
from ..core.queue.faults import pause_for_tests
from ..core.queue.recovery import lost_before
from ..core.transaction import boundary, discard
from ..models import (
    Attendance,
    JobRun,
    Organisation,
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


def _claim(tonight: date, trigger: str, force: bool) -> tuple[int | None, str]:
    """Mark tonight's run as running, unless it already succeeded or another process runs it
    (its row says running and it is not overdue). One row per night (a unique constraint),
    changed only from the state it was read in: of two schedulers or workers, one wins."""
    limit = float(current_app.config.get("REFRESH_TIME_LIMIT", 300))
    with boundary(quiet=False):
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
            return run.id, ""
        if run.status == RunStatus.SUCCEEDED and not force:
            return None, f"The refresh for {tonight} already ran (run {run.id})"
        if run.status == RunStatus.RUNNING and run.started_at > lost_before(limit):
            return None, (f"Another refresh is running (started {run.started_at:%H:%M} UTC, "
                          f"{run.trigger}); nothing to do")
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
        return run.id, ""


def refresh(
    trigger: str = "manual",
    *,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Run the nightly refresh once for tonight, unless it has already succeeded (or another
    process is running it: then say so and return without doing anything)."""
    now = now or now_utc()
    tonight = night_of(now)
    run_id, refused = _claim(tonight, trigger, force)
    if run_id is None:
        run = db.session.scalar(
            sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == tonight))
        discard()  # nothing to keep: end the read
        return RefreshResult(False, refused, run.id if run else None,
                             (run.stats or {}) if run else {})
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
    start = monday_on_or_after(today)  # the next Monday (today if Monday)
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
            pause_for_tests("solve")

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
    run = db.session.scalar(
        sa.select(JobRun).where(JobRun.job == JOB, JobRun.run_date == night_of(now))
    )
    assert run is not None
    run.status, run.finished_at, run.stats = RunStatus.SUCCEEDED, now_utc(), stats
    db.session.flush()  # committed by the caller's boundary, with the night's publishing
    return stats

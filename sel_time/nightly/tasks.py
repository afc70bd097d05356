"""The nightly refresh on the queue: the scheduler (APScheduler, the clock) claims the night at
02:00 Europe/London and queues its parts, one task per scope (``nightly.part``); workers solve
them, any number at once; the part that finishes last queues the publish (``nightly.publish``),
which publishes every scope in one transaction, once. However many schedulers fire, the night
runs once: it is claimed in the database (a unique row per job and night).

A part whose worker was killed is queued once more from the start, then failed with the reason
(the minute sweep); a night whose parts all finished but whose publish was lost is published
again. The night's housekeeping is a task of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa

from ..core.clock import now_utc, today_london
from ..core.extensions import db
from ..core.queue import NIGHTLY, task
from ..core.queue.housekeeping import NIGHTLY_PARTS
from ..core.queue.recovery import MAX_ATTEMPTS, lost_before, sweeper
from ..core.transaction import boundary
from ..models import JobRun, NightPart, PartStatus, RunStatus
from .refresh import (
    _finish,
    _release_dead_refresh_plans,
    part_task,
    publish_task,
    start_night,
)

log = logging.getLogger(__name__)


@task("nightly.refresh", priority=NIGHTLY)
def refresh_task(trigger: str = "cron") -> None:
    """Claim tonight and queue its parts (what the scheduler does; queued by hand, the same)."""
    result = start_night(trigger)
    log.info("nightly refresh (%s): %s", trigger, result.message)


@sweeper
def recover_lost_parts() -> int:
    """Parts still running well past their time limit lost their worker: queue them again once
    (from the start), then fail them saying why (counted on the run, like any finished part).
    A night whose parts all finished a while ago but which is still running lost its publish:
    queue it again."""
    count = 0
    for part in db.session.scalars(
        sa.select(NightPart).where(NightPart.status == PartStatus.RUNNING).with_for_update()
    ):
        if part.started_at is None or part.started_at > lost_before(part.time_limit):
            continue
        run = db.session.get(JobRun, part.run_id)
        if run is None or run.status != RunStatus.RUNNING:
            continue
        count += 1
        _release_dead_refresh_plans(part.scope)
        if part.attempt < MAX_ATTEMPTS:
            log.warning("night part %s (%s) lost its worker; solving it again (attempt %s)",
                        part.id, part.scope, part.attempt + 1)
            part.attempt += 1
            part.status, part.started_at, part.plan_id = PartStatus.QUEUED, None, None
            db.session.flush()
            part.task_id = part_task.after_commit(part.id, part.attempt)
            continue
        log.warning("night part %s (%s) lost its worker twice; failing it", part.id, part.scope)
        _finish(part.id, part.attempt, PartStatus.FAILED,
                f"{part.scope}: the worker solving it stopped (killed or its machine lost) twice",
                {}, chain=True)
    for run in db.session.scalars(sa.select(JobRun).where(
            JobRun.status == RunStatus.RUNNING, JobRun.parts_total > 0,
            JobRun.parts_done >= JobRun.parts_total)):
        last = db.session.scalar(
            sa.select(sa.func.max(NightPart.finished_at)).where(NightPart.run_id == run.id))
        if last is None or last > lost_before(0):
            continue
        log.warning("night run %s finished its parts but was not published; publishing", run.id)
        publish_task.after_commit(run.id, run.attempts)
        count += 1
    db.session.flush()
    return count


@task("nightly.housekeeping", priority=NIGHTLY)
def housekeeping_task() -> None:
    """The night's other parts, each in a transaction of its own so that one failing leaves
    the others done: survey waves opened and closed (their invitations queued), retention
    periods applied, rota managers told of requests waiting, the daily request digests, then the
    parts features registered (finance's figures kept for the new day)."""
    for name, part in [*PARTS, *NIGHTLY_PARTS]:
        try:
            with boundary(quiet=False):
                said = part()
            log.info("nightly %s: %s", name, said)
        except Exception:
            log.exception("nightly %s failed", name)


def _open_due_waves() -> str:
    from ..progress.surveys import nightly

    return nightly(today_london())  # waves closed and opened, then the scheduled reminders


def _apply_retention() -> str:
    from ..privacy.retention import apply_retention

    results = apply_retention(now_utc())
    return "; ".join(r.line(dry_run=False) for r in results)


def _announce_waiting() -> str:
    from ..requests.notify import announce_waiting

    return f"{announce_waiting()} e-mails to rota managers about waiting requests"


def _send_digests() -> str:
    from ..requests.notify import send_digests

    return f"{send_digests()} daily digests queued"


PARTS: list[tuple[str, Callable[[], str]]] = [
    ("surveys", _open_due_waves),
    ("retention", _apply_retention),
    ("requests", _announce_waiting),
    ("digests", _send_digests),
]

"""The scheduler process: ``sel-time scheduler`` starts the nightly refresh at 02:00
Europe/London with APScheduler 3 (and catches up a missed night on start): it records the run
and queues its parts for the workers. The run records, with their parts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.clock import LONDON, now_utc
from ..core.extensions import db
from ..models import (
    JobRun,
    NightPart,
    RunStatus,
)
from .refresh import JOB, RUN_AT

log = logging.getLogger(__name__)


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
        # The clock only: it records the night and queues its parts; workers solve them.
        from .refresh import start_night
        from .tasks import housekeeping_task

        with app.app_context():
            try:
                log.info("nightly refresh (%s): %s", trigger, start_night(trigger).message)
                log.info("nightly housekeeping queued as task %s",
                         housekeeping_task.enqueue_now())
            finally:
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


def job_dict(run: JobRun, parts: list[NightPart] | None = None) -> dict[str, Any]:
    """A run as the API shows it: its progress is ``parts_done`` of ``parts_total``; with
    ``parts``, each part's scope, status and outcome."""
    out: dict[str, Any] = {
        "id": run.id,
        "job": run.job,
        "run_date": run.run_date.isoformat(),
        "status": run.status.value,
        "trigger": run.trigger,
        "attempts": run.attempts,
        "holder": run.holder,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "parts_total": run.parts_total,
        "parts_done": run.parts_done,
        "progress": f"{run.parts_done} of {run.parts_total} parts done",
        "stats": run.stats,
        "error": run.error,
    }
    if parts is not None:
        out["parts"] = [
            {"scope": p.scope, "wave": p.wave, "status": p.status.value, "attempt": p.attempt,
             "plan_id": p.plan_id, "outcome": p.outcome,
             "started_at": p.started_at.isoformat() if p.started_at else None,
             "finished_at": p.finished_at.isoformat() if p.finished_at else None}
            for p in parts
        ]
    return out

"""The nightly refresh as a queue task: the scheduler (APScheduler, the clock) enqueues it at
02:00 Europe/London and a worker runs it. However many schedulers enqueue it, the night runs
once: the refresh claims the night's row first (a unique constraint on job and night)."""

from __future__ import annotations

import logging

from ..core.queue import NIGHTLY, task
from .refresh import refresh

log = logging.getLogger(__name__)


@task("nightly.refresh", priority=NIGHTLY)
def refresh_task(trigger: str = "cron") -> None:
    result = refresh(trigger)
    log.info("nightly refresh (%s): %s", trigger, result.message)

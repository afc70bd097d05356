"""Nothing stuck: a run whose worker was killed outright (SIGKILL, a lost machine) is found by
the database alone, with no process check: it is still ``running`` more than its own time
limit plus ``QUEUE_LOST_AFTER`` seconds after it started. The first time, it is queued again
from the start (its attempt number goes up, so the lost worker, were it only slow, can no
longer write its result); the second time it is failed, saying why.

Each feature with runs registers a sweeper (:func:`sweeper`); :func:`sweep` runs them all,
each in its own transaction. Workers sweep when they start and every minute (a Huey periodic
task); ``/health`` reports how many runs are overdue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from huey import crontab

from ..clock import now_utc
from ..transaction import boundary

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2  # the first run and one retry from the start
_SWEEPERS: list[Callable[[], int]] = []


def sweeper(fn: Callable[[], int]) -> Callable[[], int]:
    """Register ``fn`` (flushes; returns how many runs it recovered or failed)."""
    if fn not in _SWEEPERS:
        _SWEEPERS.append(fn)
    return fn


def lost_before(time_limit: float, now: datetime | None = None) -> datetime:
    """A run of ``time_limit`` seconds started before this has lost its worker."""
    grace = float(current_app.config.get("QUEUE_LOST_AFTER", 120))
    return (now or now_utc()) - timedelta(seconds=time_limit + grace)


def sweep() -> int:
    total = 0
    for fn in list(_SWEEPERS):
        try:
            with boundary():
                total += fn()
        except Exception:
            log.exception("sweeping with %s failed", getattr(fn, "__name__", fn))
    return total


def bind_periodic(app: object, huey: Any) -> None:
    """Have every worker's scheduler (``huey``, the app's queue) sweep each minute."""
    from flask import Flask

    assert isinstance(app, Flask)

    def periodic_sweep() -> None:
        from ..extensions import db

        with app.app_context():
            try:
                sweep()
            finally:
                db.session.remove()

    huey.periodic_task(crontab(minute="*"), name="queue.sweep")(periodic_sweep)

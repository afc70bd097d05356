"""The nightly refresh as a queue task: the scheduler (APScheduler, the clock) enqueues it at
02:00 Europe/London and a worker runs it. However many schedulers enqueue it, the night runs
once: the refresh claims the night's row first (a unique constraint on job and night)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..core.clock import now_utc, today_london
from ..core.queue import NIGHTLY, task
from ..core.transaction import boundary
from .refresh import refresh

log = logging.getLogger(__name__)


@task("nightly.refresh", priority=NIGHTLY)
def refresh_task(trigger: str = "cron") -> None:
    result = refresh(trigger)
    log.info("nightly refresh (%s): %s", trigger, result.message)


@task("nightly.housekeeping", priority=NIGHTLY)
def housekeeping_task() -> None:
    """The night's other parts, each in a transaction of its own so that one failing leaves
    the others done: survey waves opened and closed (their invitations queued), retention
    periods applied, rota managers told of requests waiting, and the daily request digests."""
    for name, part in PARTS:
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

"""What-ifs on the queue: run by a worker after plans a rota manager waits for, cancellable
while queued or running, and queued once more (then failed, saying why) if a worker is lost.
Also the finance dashboard's figures, kept by a worker after each write (:mod:`.snapshots`)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError
from ..core.extensions import db
from ..core.queue import INTERACTIVE, NIGHTLY, enqueue_after_commit, revoke, task
from ..core.queue.cancel import watch_cancel
from ..core.queue.housekeeping import nightly_part
from ..core.queue.recovery import MAX_ATTEMPTS, lost_before, sweeper
from ..core.transaction import discard, read_only, run_task
from ..models import WhatIfRun, WhatIfStatus
from ..operations.context import request_id_bound
from . import snapshots
from .whatif import get_run, run_whatif_run

log = logging.getLogger(__name__)


@task("finance.whatif", priority=INTERACTIVE)
def run(run_id: int, attempt: int) -> None:
    """Run a queued what-if, unless it was cancelled or a later attempt replaced this one."""
    row = db.session.get(WhatIfRun, run_id)
    if row is None or row.attempt != attempt or row.status != WhatIfStatus.QUEUED:
        discard()
        return
    with request_id_bound(row.request_id), watch_cancel(WhatIfRun, run_id) as stop:
        run_task(f"whatif-{run_id}", lambda: run_whatif_run(run_id, stop=stop))


def queue_run(row: WhatIfRun) -> WhatIfRun:
    """Have a worker run ``row`` (queued, flushed) once this transaction commits."""
    row.attempt = (row.attempt or 0) + 1
    row.cancel_requested = False
    row.task_id = run.after_commit(row.id, row.attempt)
    db.session.flush()
    return row


def cancel(ident: str | int, actor: Actor) -> WhatIfRun:
    """Cancel a queued or running what-if (409 otherwise); audited. Flushes."""
    row = get_run(ident)
    if row.status not in (WhatIfStatus.QUEUED, WhatIfStatus.RUNNING):
        raise Conflict(
            f"What-if {row.id} is {row.status.value}: it has ended, so there is nothing to "
            "cancel (only a queued or running one can be cancelled)",
            [FieldError("whatif", row.status.value)])
    record(actor, "cancel", "whatif_runs", row.id, {"status": row.status.value}, None)
    if row.status == WhatIfStatus.QUEUED:
        revoke(row.task_id)
        row.status = WhatIfStatus.CANCELLED
        row.finished_at = now_utc()
        row.error = row.progress_message = "Cancelled"
    else:
        row.cancel_requested = True
        row.progress_message = "Cancelling"
    db.session.flush()
    return row


@sweeper
def recover_lost_whatifs() -> int:
    count = 0
    for row in db.session.scalars(
        sa.select(WhatIfRun).where(WhatIfRun.status == WhatIfStatus.RUNNING).with_for_update()
    ):
        limit = 2 * float((row.request or {}).get("time_limit") or 0)
        if row.started_at is None or row.started_at > lost_before(limit):
            continue
        count += 1
        if row.attempt < MAX_ATTEMPTS:
            log.warning("what-if %s lost its worker; running it again", row.id)
            row.status = WhatIfStatus.QUEUED
            row.progress, row.progress_message = 0.0, "Its worker stopped; queued again"
            queue_run(row)
            continue
        row.status = WhatIfStatus.FAILED
        row.finished_at = now_utc()
        row.progress_message = "Failed"
        row.error = ("The worker running this what-if stopped (killed or its machine lost) "
                     "twice; please run it again")
    db.session.flush()
    return count


@task("finance.dashboard_snapshot", priority=NIGHTLY)
def refresh_dashboard() -> None:
    """Keep the finance dashboard's figures for the data as it now is (after a write)."""
    with read_only():  # it only reads the database; the figures go to the queue's store
        snapshots.refresh()


SNAPSHOTS = "FINANCE_SNAPSHOTS"  # on unless configured off (TestingConfig turns it off)


def snapshots_enabled() -> bool:
    return bool(current_app.config.get(SNAPSHOTS, True))


def _after_write(session: Session, _context: Any, _instances: Any) -> None:
    """Have a worker keep the dashboard's figures once this transaction commits, if it writes
    what the data stamp reads (every audited write, every roster or delivery change)."""
    if not has_app_context() or session is not db.session() or not snapshots_enabled():
        return
    if any(isinstance(o, snapshots.WATCHED) for o in (*session.new, *session.dirty,
                                                       *session.deleted)):
        enqueue_after_commit(refresh_dashboard, once=True)  # once per transaction


sa.event.listen(Session, "before_flush", _after_write)


@nightly_part("finance")
def keep_figures_for_the_day() -> str:
    """The data stamp holds the day, so the night keeps the figures at the new day's stamp and
    the first visit of the morning finds them ready."""
    if not snapshots_enabled():
        return "finance figures are not kept ahead (FINANCE_SNAPSHOTS is off)"
    return "finance figures kept" if snapshots.refresh() else "finance figures were current"

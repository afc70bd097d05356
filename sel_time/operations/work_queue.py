"""What the "Work queue" page shows admins and rota managers: tasks waiting, plans and what-ifs
queued or running, the latest nightly runs, and the workers seen lately. Read only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask

from ..core.extensions import db
from ..core.queue.worker import live_workers, queue_depth
from ..models import JobRun, Plan, PlanStatus, WhatIfRun, WhatIfStatus

NIGHTS_SHOWN = 5


@dataclass
class WorkQueue:
    depth: int  # tasks waiting in the queue; -1 when its store does not answer
    plans: list[Plan] = field(default_factory=list)
    whatifs: list[WhatIfRun] = field(default_factory=list)
    nights: list[JobRun] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    workers_unknown: bool = False  # the queue's store did not answer


def work_queue(app: Flask) -> WorkQueue:
    """The queue as it stands: running work first, then queued, oldest first."""
    try:
        workers = live_workers(app)
        unknown = False
    except Exception:  # the queue's store is away: the page says so, the database still answers
        workers, unknown = [], True
    order = sa.case((Plan.status == PlanStatus.RUNNING, 0), else_=1)
    plans = list(db.session.scalars(
        sa.select(Plan).where(Plan.status.in_((PlanStatus.QUEUED, PlanStatus.RUNNING)))
        .order_by(order, Plan.created_at, Plan.id)))
    whatif_order = sa.case((WhatIfRun.status == WhatIfStatus.RUNNING, 0), else_=1)
    whatifs = list(db.session.scalars(
        sa.select(WhatIfRun)
        .where(WhatIfRun.status.in_((WhatIfStatus.QUEUED, WhatIfStatus.RUNNING)))
        .order_by(whatif_order, WhatIfRun.created_at, WhatIfRun.id)))
    nights = list(db.session.scalars(
        sa.select(JobRun).order_by(JobRun.run_date.desc(), JobRun.id.desc()).limit(NIGHTS_SHOWN)))
    return WorkQueue(queue_depth(app), plans, whatifs, nights, workers, unknown)

"""Database events that feed the metrics and the request id, so that the modules doing the
work need not know about either: a job record (plan, what-if run, nightly run) that gets its
``finished_at`` is observed as a job of its kind with its outcome and duration once the
transaction commits; a plan that gets a solver status counts as a solve; an import's audit row
counts its rows; an outbox message marked sent or failed counts as an e-mail; and a new job
record made during a request keeps the request's id."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .context import current_request_id
from .metrics import (
    RETENTION_DELETED,
    observe_job,
    record_email,
    record_import_rows,
    record_solve,
)

PENDING = "sel_time.metrics.pending"


def _added(obj: Any, key: str) -> Any:
    added = sa.inspect(obj).attrs[key].history.added
    return added[0] if added else None


def _job_kind(obj: Any) -> str | None:
    from ..models import JobRun, Plan, WhatIfRun

    if isinstance(obj, Plan):
        return "plan"
    if isinstance(obj, WhatIfRun):
        return "whatif"
    if isinstance(obj, JobRun):
        return obj.job.replace("-", "_")
    return None


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    request_id = current_request_id()
    if not request_id:
        return
    for obj in session.new:
        if hasattr(obj, "request_id") and getattr(obj, "request_id", None) is None:
            obj.request_id = request_id


def _after_flush(session: Session, _context: Any) -> None:
    from ..mail.models import MailMessage, MailStatus
    from ..models import AuditEvent, Plan

    pending: list[tuple[str, tuple[Any, ...]]] = session.info.setdefault(PENDING, [])
    for obj in list(session.new) + list(session.dirty):
        kind = _job_kind(obj)
        if kind is not None:
            finished = _added(obj, "finished_at")
            started = getattr(obj, "started_at", None)
            if finished is not None:
                seconds = (finished - started).total_seconds() if started else 0.0
                outcome = getattr(obj.status, "value", str(obj.status))
                pending.append(("job", (kind, outcome, seconds)))
        if isinstance(obj, MailMessage):
            status = _added(obj, "status")
            if status in (MailStatus.SENT, MailStatus.FAILED):
                pending.append(("email", (status.value,)))
        if isinstance(obj, Plan) and _added(obj, "solver_status"):
            pending.append(("solve", (obj.solver_status,)))
        if isinstance(obj, AuditEvent) and obj in session.new and obj.action == "import":
            for sheet, counts in (obj.new or {}).items():
                if isinstance(counts, dict):
                    for result, n in counts.items():
                        if isinstance(n, int):
                            pending.append(("rows", (sheet, result, n)))


def _after_commit(session: Session) -> None:
    for what, args in session.info.pop(PENDING, []):
        if what == "job":
            observe_job(*args)
        elif what == "solve":
            record_solve(*args)
        elif what == "email":
            record_email(*args)
        elif what == "retention":
            RETENTION_DELETED.labels(table=args[0]).inc(args[1])
        else:
            record_import_rows(*args)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def listen() -> None:
    """Attach the listeners to every session (once)."""
    if not sa.event.contains(Session, "after_flush", _after_flush):
        sa.event.listen(Session, "before_flush", _before_flush)
        sa.event.listen(Session, "after_flush", _after_flush)
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)

"""E-mail leaves through the task queue: a transaction that queued a message asks a worker to
deliver once it commits (never before, so a rolled-back request sends nothing), and every
worker's minute sweep asks again while messages are due (a relay that was down, a retry whose
back-off has passed)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from ..core.clock import now_utc
from ..core.extensions import db
from ..core.queue import INTERACTIVE, enqueue_after_commit, task
from ..core.queue.recovery import sweeper
from .delivery import deliver_pending
from .models import MailMessage, MailStatus
from .settings import mail_settings

log = logging.getLogger(__name__)


@task("mail.deliver", priority=INTERACTIVE)
def deliver() -> None:
    """Send what is due (each message in its own transactions; safe on many workers)."""
    report = deliver_pending()
    log.info("mail: %s", report.summary())


def _configured() -> bool:
    return mail_settings(current_app.config, current_app.instance_path).configured


@sweeper
def deliver_due() -> int:
    """Each minute, on every worker: ask for a delivery while messages are due."""
    if not _configured():
        return 0
    due = db.session.scalar(sa.select(sa.func.count(MailMessage.id)).where(
        MailMessage.status == MailStatus.PENDING, MailMessage.next_try_at <= now_utc()))
    if due:
        enqueue_after_commit(deliver, once=True)
    return 0


def _after_flush(session: Session, _context: Any) -> None:
    """A flush that wrote a message to the outbox: deliver when its transaction commits."""
    if not has_app_context() or not current_app.config.get("MAIL_DELIVER_ON_COMMIT", True):
        return
    if session is not db.session() or "sel_time_queue" not in current_app.extensions:
        return
    if any(isinstance(obj, MailMessage) for obj in session.new):
        enqueue_after_commit(deliver, once=True)


sa.event.listen(Session, "after_flush", _after_flush)

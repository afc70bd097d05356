"""Delivering the outbox: each due message in its own transactions (claim; then sent, retry
later, or failed), so one bad message or a lost relay never holds back or undoes another.

Idempotent: a message is claimed (``claimed_until``) before it is sent, and only a pending,
unclaimed one can be claimed, so two senders never send one message; a message marked sent is
never sent again. The one gap no sender can close, a relay that accepted a message whose
"250 OK" was lost, ends with the same Message-ID sent again once its claim runs out.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol, cast

import sqlalchemy as sa
from flask import current_app

from ..core.clock import now_utc
from ..core.extensions import db
from ..core.transaction import boundary, read_only
from .models import MailMessage, MailStatus
from .outbox import compose
from .settings import MailSettings, SmtpSettings, mail_settings

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, message: EmailMessage, envelope_from: str, recipient: str, name: str) -> None:
        """Deliver one message, or raise (an SMTP or OS error)."""

    def close(self) -> None:
        """Let go of any connection."""


class SmtpTransport:
    """One SMTP connection for a batch, opened when first needed and opened again after an
    error (smtplib drops the connection on a 421)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        conn: smtplib.SMTP
        if s.ssl:
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, message: EmailMessage, envelope_from: str, recipient: str, name: str) -> None:
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is None:
            return
        conn, self.connection = self.connection, None
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


class DirectoryTransport:
    """Writes each message as ``<id>.eml`` (a retry overwrites its own file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage, envelope_from: str, recipient: str, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)

    def close(self) -> None:
        pass


def open_transport(settings: MailSettings) -> Transport:
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    if settings.directory is not None:
        return DirectoryTransport(settings.directory)
    raise ValueError("mail is not configured")


def classify(error: BaseException) -> tuple[bool, str]:
    """(temporary?, the reason in words) for an error from a delivery. 4xx replies, lost or
    refused connections and time-outs are temporary; 5xx replies are not."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        text = "; ".join(f"{addr}: {code} {_text(msg)}"
                         for addr, (code, msg) in error.recipients.items())
        return all(400 <= c < 500 for c in codes), f"recipient refused: {text}"
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return not 500 <= code < 600, f"SMTP {code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True, f"the SMTP server closed the connection: {error}"
    if isinstance(error, (smtplib.SMTPException, OSError)):
        return True, f"{type(error).__name__}: {error}"
    return True, f"{type(error).__name__}: {error}"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass
class DeliveryReport:
    """What one run of the sender did, and what is left."""

    destination: str
    configured: bool = True
    sent: int = 0
    deferred: int = 0  # a temporary failure: tried again later
    failed: int = 0  # refused for good, or out of attempts
    waiting: int = 0  # pending after this run (not yet due, or deferred)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.configured:
            return (f"Mail is not configured (set SEL_TIME_SMTP_URL or SEL_TIME_SMTP_HOST): "
                    f"{self.waiting} message(s) stay queued.")
        return (f"Mail to {self.destination}: {self.sent} sent, {self.deferred} to retry, "
                f"{self.failed} failed; {self.waiting} waiting.")


def _pending_count() -> int:
    with read_only():
        return db.session.scalar(sa.select(sa.func.count(MailMessage.id)).where(
            MailMessage.status == MailStatus.PENDING)) or 0


def _due_ids(limit: int) -> list[int]:
    now = now_utc()
    with read_only():
        return list(db.session.scalars(
            sa.select(MailMessage.id)
            .where(MailMessage.status == MailStatus.PENDING, MailMessage.next_try_at <= now,
                   sa.or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now))
            .order_by(MailMessage.next_try_at, MailMessage.id)
            .limit(limit)))


def _claim(message_id: int, settings: MailSettings) -> tuple[EmailMessage, str, str] | None:
    """Take a due message for this sender (one transaction); None if another sender has it or
    it is no longer due."""
    with boundary():
        now = now_utc()
        result = cast(sa.CursorResult[Any], db.session.execute(
            sa.update(MailMessage)
            .where(MailMessage.id == message_id, MailMessage.status == MailStatus.PENDING,
                   MailMessage.next_try_at <= now,
                   sa.or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=settings.lease_seconds),
                    attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False)))
        if result.rowcount != 1:
            return None
        row = db.session.get(MailMessage, message_id)
        assert row is not None
        db.session.refresh(row)
        return compose(row, settings.sender), row.recipient, f"{row.id:08d}"


def _record(message_id: int, settings: MailSettings, error: BaseException | None) -> str:
    """Mark a claimed message sent, to be retried, or failed (one transaction)."""
    with boundary():
        row = db.session.get(MailMessage, message_id)
        assert row is not None
        now = now_utc()
        row.claimed_until = None
        if error is None:
            row.status, row.sent_at, row.last_error = MailStatus.SENT, now, None
            return "sent"
        temporary, reason = classify(error)
        row.last_error = reason[:2000]
        if temporary and row.attempts < settings.max_attempts:
            delay = min(settings.retry_seconds * 2 ** (row.attempts - 1),
                        settings.retry_max_seconds)
            row.next_try_at = now + timedelta(seconds=delay)
            return "deferred"
        row.status, row.failed_at = MailStatus.FAILED, now
        if temporary:
            row.last_error = f"gave up after {row.attempts} attempts: {reason}"[:2000]
        return "failed"


def deliver_pending(*, limit: int = 500, settings: MailSettings | None = None) -> DeliveryReport:
    """Send every due message (at most ``limit``), each in its own transactions, and say what
    happened. With no relay configured nothing is sent: the report (and the log) says so and
    the messages stay queued. Safe to run from several workers at once."""
    settings = settings or mail_settings(current_app.config, current_app.instance_path)
    report = DeliveryReport(destination=settings.describe(), configured=settings.configured)
    if not settings.configured:
        report.waiting = _pending_count()
        if report.waiting:
            log.warning("mail is not configured: %d message(s) stay queued "
                        "(set SEL_TIME_SMTP_URL or SEL_TIME_SMTP_HOST)", report.waiting)
        return report
    envelope_from = parseaddr(settings.sender)[1]
    transport = open_transport(settings)
    try:
        for message_id in _due_ids(limit):
            claimed = _claim(message_id, settings)
            if claimed is None:
                continue
            message, recipient, name = claimed
            error: BaseException | None = None
            try:
                transport.send(message, envelope_from, recipient, name)
            except (smtplib.SMTPException, OSError) as exc:
                error = exc
            outcome = _record(message_id, settings, error)
            if outcome == "sent":
                report.sent += 1
                log.info("mail %s sent to %s", message_id, recipient)
                continue
            reason = classify(error)[1] if error else ""
            report.errors.append(f"message {message_id} to {recipient}: {reason}")
            if outcome == "deferred":
                report.deferred += 1
                log.warning("mail %s to %s deferred: %s", message_id, recipient, reason)
            else:
                report.failed += 1
                log.error("mail %s to %s failed: %s", message_id, recipient, reason)
    finally:
        transport.close()
    report.waiting = _pending_count()
    return report

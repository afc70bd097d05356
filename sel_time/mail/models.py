"""The outbox: every e-mail sel-time sends is first a row here, written in the transaction of
the change it tells about (so a change that is rolled back sends nothing), then delivered by
:func:`sel_time.mail.delivery.deliver_pending`, one message per transaction."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import now_utc
from ..core.extensions import Model
from ..models.base import UTCDateTime, enum_column


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first try, or for its next one after a temporary failure
    SENT = "sent"  # accepted by the SMTP server (or written to the mail directory)
    FAILED = "failed"  # refused for good (a 5xx reply), or out of attempts: last_error says why


class MailMessage(Model):
    """One message to one recipient: a plain-text body, optionally an HTML alternative and an
    iCalendar part (an iMIP invitation or cancellation, RFC 6047) with its METHOD."""

    __tablename__ = "mail_message"
    __table_args__ = (
        sa.CheckConstraint(
            "(calendar IS NULL AND calendar_method IS NULL) "
            "OR (calendar IS NOT NULL AND calendar_method IS NOT NULL)",
            name="calendar_has_method",
        ),
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_mail_message_status_next_try_at", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The RFC 5322 Message-ID, fixed when queued: every retry sends the same one, so that a
    # receiving server or client can tell a repeat (after a lost "250 OK") from a new message.
    message_id: Mapped[str] = mapped_column(sa.String(250), unique=True)
    # What the message is for (invitation, cancellation, request_waiting, decision, ...): the
    # recipients' on/off choices and the reports count by it.
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    calendar: Mapped[str | None] = mapped_column(sa.Text)  # a VCALENDAR, sent as text/calendar
    calendar_method: Mapped[str | None] = mapped_column(sa.String(20))  # REQUEST, CANCEL, ...
    # A caller's key for "this message once" (a day's digest, one invitation per SEQUENCE):
    # queueing it again returns the message already queued.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[MailStatus] = mapped_column(
        enum_column(MailStatus, "mail_status"), default=MailStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # A sender that took this message for delivery holds it until then: another sender (a
    # second worker) leaves it alone, and one that died mid-send lets it go again after that.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

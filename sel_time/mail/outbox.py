"""Queueing a message (flush only, inside the caller's transaction) and composing the MIME
message a queued row becomes."""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app

from ..core.clock import now_utc
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from .models import MailMessage, MailStatus
from .settings import DEFAULT_FROM

CALENDAR_METHODS = frozenset({"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH",
                              "COUNTER", "DECLINECOUNTER"})
_METHOD_LINE = re.compile(r"^METHOD:([A-Za-z-]+)\s*$", re.MULTILINE)
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _check(recipient: str, subject: str, text: str, kind: str, calendar: str | None,
           calendar_method: str | None) -> tuple[str, str | None]:
    errors: list[FieldError] = []
    if not _ADDRESS.match(recipient or ""):
        errors.append(FieldError("recipient", f"{recipient!r} is not an e-mail address"))
    if not subject.strip() or "\n" in subject or "\r" in subject or len(subject) > 300:
        errors.append(FieldError("subject", "must be one line of 1 to 300 characters"))
    if not text.strip():
        errors.append(FieldError("text", "a message needs a plain-text body"))
    if not kind.strip() or len(kind) > 40:
        errors.append(FieldError("kind", "must be a name of 1 to 40 characters"))
    method = calendar_method.upper() if calendar_method else None
    if calendar is not None:
        found = _METHOD_LINE.search(calendar)
        inner = found.group(1).upper() if found else None
        method = method or inner
        if method not in CALENDAR_METHODS:
            errors.append(FieldError("calendar_method", "an iCalendar part needs its METHOD "
                                     "(REQUEST, CANCEL, PUBLISH, ...)"))
        elif inner != method:
            errors.append(FieldError("calendar_method", f"the part says METHOD:{inner}, "
                                     f"not {method} (RFC 6047: they must agree)"))
    elif method is not None:
        errors.append(FieldError("calendar_method", "given without an iCalendar part"))
    if errors:
        raise ValidationError("This message cannot be queued", errors)
    return recipient.strip().lower(), method


def _domain(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "sel-time.invalid"


def queue_message(
    *,
    recipient: str,
    subject: str,
    text: str,
    kind: str,
    html: str | None = None,
    calendar: str | None = None,
    calendar_method: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> MailMessage:
    """Add a message to the outbox in the caller's transaction (flush, never commit): it is
    sent only if that transaction commits. With ``dedupe_key``, a message already queued under
    that key is returned instead of a second one. ``calendar`` is a whole VCALENDAR whose
    METHOD line must agree with ``calendar_method`` (which may be left to be read from it)."""
    address, method = _check(recipient, subject, text, kind, calendar, calendar_method)
    if dedupe_key is not None:
        existing = db.session.scalar(
            sa.select(MailMessage).where(MailMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    now = now_utc()
    sender = str(current_app.config.get("SMTP_FROM") or DEFAULT_FROM)
    row = MailMessage(
        message_id=make_msgid(domain=_domain(sender)),
        kind=kind,
        recipient=address,
        subject=subject,
        text_body=text,
        html_body=html,
        calendar=calendar,
        calendar_method=method,
        dedupe_key=dedupe_key,
        status=MailStatus.PENDING,
        created_at=now,
        next_try_at=max(now, not_before) if not_before else now,
        attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    return row


def compose(row: MailMessage, sender: str) -> EmailMessage:
    """The MIME message for a queued row: ``multipart/alternative`` of text/plain, then
    text/html, then ``text/calendar; method=...`` (RFC 6047 §2.4: the calendar part last, the
    richest alternative), or a single text/plain part."""
    msg = EmailMessage()
    name, address = parseaddr(sender)
    msg["From"] = Address(display_name=name, addr_spec=address) if name else address
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    msg.set_content(row.text_body)
    if row.html_body:
        msg.add_alternative(row.html_body, subtype="html")
    if row.calendar and row.calendar_method:
        msg.add_alternative(row.calendar, subtype="calendar",
                            params={"method": row.calendar_method})
    return msg

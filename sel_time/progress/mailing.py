"""Invitations and reminders go out through the mail outbox, in the caller's transaction: a
wave that fails to open sends nothing; one that opens sends each personal link once."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..mail import queue_message


@dataclass(frozen=True)
class Message:
    """An e-mail to send: to whom, its subject and its plain text."""

    to: str
    subject: str
    body: str
    key: str  # the outbox's dedupe key: one invitation, one reminder round, one e-mail


def send(messages: Sequence[Message], kind: str) -> int:
    """Queue each message (flush-only; the sender delivers them once the caller commits)."""
    for m in messages:
        queue_message(recipient=m.to, subject=m.subject, text=m.body, kind=kind,
                      dedupe_key=m.key)
    return len(messages)

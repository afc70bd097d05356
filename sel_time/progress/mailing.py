"""Invitations and reminders go out through the mail outbox, in the caller's transaction."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from .surveys import Message

log = logging.getLogger(__name__)


def send(messages: Sequence[Message], kind: str) -> int:
    """Queue each message (flush-only; sent once the transaction commits). Without the mail
    core, the personal links stay in the invitations (``sel-time survey links``)."""
    try:
        from ..mail.outbox import queue_message
    except ImportError:  # the mail core not installed: links are kept, nothing is sent
        log.info("mail core not available: %d %s messages not queued", len(messages), kind)
        return 0
    for m in messages:
        queue_message(recipient=m.to, subject=m.subject, text=m.body, kind=kind)
    return len(messages)

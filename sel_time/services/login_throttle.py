"""The sign-in throttle: after 5 failed sign-ins for one email address, or from one client
address, within 15 minutes, every further attempt for it is refused (the right password too)
until the oldest of those failures is 15 minutes old.

Failures are rows in ``login_failure``, so every web process counts the same ones: N gunicorn
workers, or several machines, allow 5 failures, not 5 x N, and a restart forgets none. Keys are
stored as SHA-256 digests (no email or IP address in the table) and rows older than the window
are deleted as new failures arrive. Like every service, this flushes and never commits.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..clock import now_utc
from ..extensions import db
from ..models import LoginFailure

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def blocked(*keys: str, now: datetime | None = None) -> bool:
    """Has any of ``keys`` failed ``MAX_FAILURES`` times within the window?"""
    since = (now or now_utc()) - WINDOW
    counts = db.session.execute(
        sa.select(sa.func.count(LoginFailure.id))
        .where(LoginFailure.key_hash.in_([_digest(k) for k in keys]), LoginFailure.at > since)
        .group_by(LoginFailure.key_hash)
    ).scalars()
    return any(n >= MAX_FAILURES for n in counts)


def record_failure(*keys: str, now: datetime | None = None) -> None:
    at = now or now_utc()
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= at - WINDOW))
    db.session.add_all(LoginFailure(key_hash=_digest(k), at=at) for k in keys)
    db.session.flush()


def clear(*keys: str) -> None:
    """Forget the failures of ``keys`` (a successful sign-in clears its email's)."""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key_hash.in_([_digest(k) for k in keys])))
    db.session.flush()

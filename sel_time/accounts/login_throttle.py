"""The sign-in throttle, built so that nobody can use it to lock someone else out.

Three counts of failed sign-ins over the last 15 minutes, each with its own answer:

* **one account from one address** (the pair): from its 5th failure the pair must wait,
  30 seconds after the 5th, then twice as long after each further failure (60 s, 2 min, ...,
  at most 15 minutes). Only the pair's own failures start or lengthen the wait, and a refused
  attempt is not a failure, so a guesser cannot keep anyone else out and cannot renew their
  own wait by hammering: each renewal costs a real (checked) wrong password.
* **one address, any accounts**: 50 failures refuse that address until the oldest of them is
  15 minutes old (password spraying from one place). Only that address is refused; behind a
  shared NAT the ceiling is ten times the pair's.
* **one account, any addresses**: never a refusal, so the right password from another address
  always gets in. From the account's 5th failure every attempt for it is held before its
  password is checked, 0.1 s doubling per failure up to ``MAX_DELAY`` (1 s): a slow-down for
  a guesser spread over many addresses that costs a real user at most a second. The bound
  keeps a held request from tying up a worker thread for long.

Failures are rows in ``login_failure``, so every web process counts the same ones: N gunicorn
workers, or several machines, allow 5 failures, not 5 x N, whatever database is configured and
with no other service to run, and a restart forgets none. Only failures are written (a refused
attempt writes nothing), so the table grows at most by three rows a checked wrong password.
Keys are stored as SHA-256 digests (no email or IP address in the table) and rows older than
the window are deleted as new failures arrive. Like every service, this flushes and never
commits.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..core.clock import now_utc
from ..core.extensions import db
from ..models import LoginFailure

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5  # failures of one account from one address before it must wait
PAIR_FIRST_WAIT = timedelta(seconds=30)  # the wait after the 5th; doubles after each further one
ADDRESS_LIMIT = 50  # failures from one address, any accounts, before the address must wait
ACCOUNT_DELAY_FROM = 5  # failures of one account, any addresses, before its attempts are held
ACCOUNT_FIRST_DELAY = 0.1  # seconds; doubles per further failure
MAX_DELAY = 1.0  # seconds: the longest an attempt is held


@dataclass(frozen=True)
class Refusal:
    """An attempt that must wait: which count refused it and for how many seconds."""

    scope: str  # "account_address" or "address"
    seconds: int

    @property
    def message(self) -> str:
        wait = _in_words(self.seconds)
        if self.scope == "address":
            return f"Too many failed sign-ins from your network address: try again in {wait}"
        return f"Too many failed sign-ins for this account from here: try again in {wait}"


@dataclass(frozen=True)
class Keys:
    """The throttle keys of one attempt, as the digests stored in ``login_failure``."""

    pair: str
    address: str
    account: str

    @classmethod
    def of(cls, email: str, address: str) -> Keys:
        return cls(digest(f"pair:{email}|{address}"), digest(f"ip:{address}"),
                   digest(f"email:{email}"))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _times(key_hash: str, now: datetime) -> list[datetime]:
    """The failures of one key within the window, oldest first."""
    return list(db.session.scalars(
        sa.select(LoginFailure.at)
        .where(LoginFailure.key_hash == key_hash, LoginFailure.at > now - WINDOW)
        .order_by(LoginFailure.at)
    ))


def _pair_until(times: list[datetime]) -> datetime | None:
    if len(times) < PAIR_LIMIT:
        return None
    doublings = min(len(times) - PAIR_LIMIT, 16)  # past the cap already; no overflow
    factor: int = 2**doublings  # typeshed types int ** int as Any (a negative power is a float)
    wait = min(WINDOW, PAIR_FIRST_WAIT * factor)
    return times[-1] + wait


def _address_until(times: list[datetime]) -> datetime | None:
    if len(times) < ADDRESS_LIMIT:
        return None
    return times[-ADDRESS_LIMIT] + WINDOW


def _seconds(until: datetime | None, now: datetime) -> int | None:
    if until is None or until <= now:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def refusal(keys: Keys, now: datetime | None = None) -> Refusal | None:
    """Must this attempt wait (its pair's or its address's failures), and how long?"""
    now = now or now_utc()
    wait = _seconds(_pair_until(_times(keys.pair, now)), now)
    if wait is not None:
        return Refusal("account_address", wait)
    wait = _seconds(_address_until(_times(keys.address, now)), now)
    if wait is not None:
        return Refusal("address", wait)
    return None


def account_delay(keys: Keys, now: datetime | None = None) -> float:
    """Seconds to hold an attempt for this account, from its failures at every address."""
    now = now or now_utc()
    failures = len(_times(keys.account, now))
    if failures < ACCOUNT_DELAY_FROM:
        return 0.0
    factor: int = 2 ** min(failures - ACCOUNT_DELAY_FROM, 32)  # an int: the power is >= 0
    return min(MAX_DELAY, ACCOUNT_FIRST_DELAY * factor)


def pause(seconds: float) -> None:
    """Hold the request (the account delay); tests replace this to see the delay asked for."""
    if seconds > 0:
        time.sleep(seconds)


def record_failure(keys: Keys, now: datetime | None = None) -> Refusal | None:
    """Count one checked wrong password against the pair, the address and the account.
    Returns the wait this failure starts, if any (for the audit trail)."""
    at = now or now_utc()
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= at - WINDOW))
    db.session.add_all(LoginFailure(key_hash=k, at=at)
                       for k in (keys.pair, keys.address, keys.account))
    db.session.flush()
    return refusal(keys, at)


def clear(keys: Keys) -> None:
    """A successful sign-in forgets its own pair's failures only: failures for the account
    from other addresses (someone else's guesses) keep counting."""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key_hash == keys.pair))
    db.session.flush()

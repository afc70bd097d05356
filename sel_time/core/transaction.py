"""The one transaction boundary. Services change models and flush; the entry point (an API
request, a page, a CLI command, a background task) commits here once, or rolls back on any
error. Nothing else in ``sel_time`` calls ``commit()`` or ``rollback()``.

- :func:`boundary` — a block that commits when it ends, or rolls back if it raises; a page
  that re-renders after a refused change wraps the change in one and catches the error after
  it (the database is as it was), and a solve commits its progress in short ones;
- :func:`transactional` — one boundary around an API or page view, run again (at most
  :data:`RETRIES` times) when PostgreSQL picked it as the loser of a deadlock or a
  serialisation conflict: nothing of it was kept, and the next try sees the winner's work;
- :func:`read_only` — a block that keeps nothing (it always rolls back); :func:`discard`;
- :func:`sandbox` — a SAVEPOINT always undone (try a change, keep nothing of it);
- :func:`run_task` — a background task's outer boundary: its failure is logged, not raised;
- :func:`rollback_quietly`, :func:`end_session` — the ends that survive a lost database.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def boundary(*, quiet: bool = True) -> Iterator[None]:
    """Commit the session when the block ends; roll it back if the block raises, and let the
    error go on. Quietly if the database went away, unless ``quiet`` is false (a job's step,
    whose failure is then the lost database's, raised from the rollback)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        if quiet:
            rollback_quietly()
        else:
            db.session.rollback()
        raise


def discard() -> None:
    """Roll back what the session holds: end a read that keeps nothing, or drop a refused
    change before the page says why."""
    db.session.rollback()


@contextmanager
def read_only() -> Iterator[None]:
    """Run the block and end its transaction keeping nothing: a read, or work whose writes
    are not to be kept, never holds a transaction (and SQLite's write lock) open after it."""
    try:
        yield
    finally:
        discard()


@contextmanager
def sandbox() -> Iterator[None]:
    """Run the block inside a SAVEPOINT that is always rolled back: the outer transaction
    sees nothing of what the block changed."""
    savepoint = db.session.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()


# PostgreSQL's SQLSTATEs for "this transaction lost to a concurrent one; run it again": two
# requests inserting overlapping leave at once can each wait for the other inside the exclusion
# constraint, and PostgreSQL then aborts one of them with a deadlock rather than the violation.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
RETRIES = 3
COMMITTED = "sel_time.transaction.committed"


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database aborting this transaction in favour of another."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, sa.exc.DBAPIError) and getattr(orig, "sqlstate", None) in (
        RETRYABLE_SQLSTATES
    )


def _mark_committed(session: Any) -> None:
    session.info[COMMITTED] = True


sa.event.listen(Session, "after_commit", _mark_committed)


def transactional(view: F) -> F:
    """One transaction per request: commit when the view returns, roll back if it raises.

    A view that lost a deadlock or a serialisation conflict to a concurrent request is run
    again from the start (it kept nothing), unless part of it had already been committed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, RETRIES + 1):
            db.session.info[COMMITTED] = False
            try:
                with boundary():
                    return view(*args, **kwargs)
            except sa.exc.DBAPIError as exc:
                if attempt == RETRIES or not is_retryable(exc) or db.session.info[COMMITTED]:
                    raise
                log.info("transaction lost to a concurrent one (%s); running it again (try %d)",
                         getattr(exc.orig, "sqlstate", "?"), attempt + 1)
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter only
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


def run_task(name: str, work: Callable[[], object]) -> None:
    """Run background ``work`` that records its own outcome on its row (a plan, a what-if
    run): whatever it left uncommitted is rolled back, and an error is only logged."""
    try:
        work()
    except Exception:  # recorded on its row by the work itself
        rollback_quietly()
        log.debug("%s ended with an error (recorded on its row)", name, exc_info=True)


def rollback_quietly() -> None:
    """Roll the session back; if the database went away under it (a restart ends every
    connection), drop the connection instead, so that an error page can still be sent."""
    try:
        db.session.rollback()
    except sa.exc.DBAPIError as exc:
        _discard_session(exc)


def end_session(_exc: BaseException | None = None) -> None:
    """End the request's (or job's) session when its app context ends.

    Flask-SQLAlchemy's own teardown calls ``session.remove()``, which rolls back whatever
    transaction is open; if PostgreSQL was stopped after the last query, that ROLLBACK raises
    from the teardown and a response already built (a 200, a committed 201) turns into a 500.
    This runs first (teardowns run in reverse order), so the one above it finds nothing to do.
    """
    try:
        db.session.remove()
    except sa.exc.DBAPIError as exc:
        _discard_session(exc)


def _discard_session(exc: sa.exc.DBAPIError) -> None:
    log.warning("database connection lost while ending a transaction: %s",
                str(getattr(exc, "orig", exc)).splitlines()[0][:200])
    try:
        db.session().invalidate()  # close the connection without a ROLLBACK; the pool replaces it
    except sa.exc.DBAPIError:
        pass
    db.session.registry.clear()  # the next use starts a fresh session

"""One at a time across processes: a named job lock (a PostgreSQL advisory lock, or a lease
row that expires on SQLite), and who holds it (host:pid, and whether that process is dead).
The nightly refresh (:mod:`sel_time.nightly`) and the planners take it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from ..models import (
    Lease,
)
from .clock import now_utc
from .extensions import db
from .transaction import discard

log = logging.getLogger(__name__)


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LockHeld(Exception):
    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


# -- one at a time: a PostgreSQL advisory lock, or a lease row on SQLite ---------------------------


@contextmanager
def job_lock(
    name: str, *, wait: float = 0.0, lease: timedelta = timedelta(hours=2)
) -> Iterator[None]:
    """Hold the named lock for the block, or raise LockHeld naming who has it (after waiting
    up to ``wait`` seconds). PostgreSQL: an advisory lock on a dedicated connection, freed by
    the server if this process dies. SQLite: a lease row that expires."""
    deadline = time.monotonic() + wait
    engine = db.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        # advisory locks are per database: key by schema too, so that deployments (or test
        # runs) in separate schemas of one database never take each other's lock
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar() or "public"
        conn.commit()
        key = zlib.crc32(name.encode() if schema == "public" else f"{schema}/{name}".encode())
        try:
            while True:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                conn.commit()
                if got:
                    break
                if time.monotonic() >= deadline:
                    holder = conn.execute(
                        sa.text(
                            "SELECT a.application_name || ' pid ' || l.pid FROM pg_locks l "
                            "JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE l.locktype = 'advisory' AND l.objid = :k LIMIT 1"
                        ),
                        {"k": key & 0xFFFFFFFF},
                    ).scalar()
                    conn.commit()
                    raise LockHeld(holder or "another process")
                time.sleep(1.0)
            conn.execute(
                sa.text("SELECT set_config('application_name', :h, false)"), {"h": holder_id()[:60]}
            )
            conn.commit()
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
            except sa.exc.DBAPIError as exc:
                # The lock's session is gone (PostgreSQL restarted, the connection dropped):
                # the server freed the lock with it; the run's own outcome stands.
                if not exc.connection_invalidated:
                    conn.invalidate()
                log.warning(
                    "the %s lock's connection was lost (%s); the server has released it",
                    name,
                    type(exc.orig).__name__,
                )
            finally:
                conn.close()
        return
    me = holder_id()
    # SQLite lets a writer commit only when no reader holds a transaction open, this process's
    # own session included: end its read before the lease (on another connection) is written.
    discard()
    while True:
        holder = _take_lease(engine, name, me, lease)
        if holder == me:
            break
        if time.monotonic() >= deadline:
            raise LockHeld(holder)
        time.sleep(1.0)
    try:
        yield
    finally:
        discard()  # likewise; the refresh has committed its work (or must not)
        with engine.begin() as conn:
            conn.execute(sa.delete(Lease).where(Lease.name == name, Lease.holder == me))


def holder_is_dead(holder: str) -> bool:
    """Is ``holder`` (host:pid) a process on this host that no longer exists? A refresh killed
    outright never deletes its lease; waiting for the expiry would skip a night."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    """A process killed outright stays in the process table, and still answers ``kill(pid, 0)``,
    until its parent reaps it. A killed gunicorn's workers are orphans that wait for PID 1, which
    in a container or a small VM may take its time: meanwhile their plans looked alive."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except FileNotFoundError:  # gone since kill(), unless there is no /proc here at all (macOS)
        return os.path.exists("/proc/self/stat")
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()  # the name in brackets may hold spaces and ')'
    return bool(fields) and fields[0] in ("Z", "X")


def _take_lease(engine: sa.Engine, name: str, me: str, lease: timedelta) -> str:
    """Take or renew the lease unless a live holder has it; return who holds it now.

    The row is read before any write: a holder in the middle of its publish holds SQLite's
    write lock, and a second process must be told who is running, not wait on that lock.
    Two processes racing for a free lease can deadlock in SQLite (each holds a read, one wants
    to write); SQLite then fails one at once, which reads the row again a moment later."""
    for attempt in range(10):
        holder = _take_lease_once(engine, name, me, lease)
        if holder is not None:
            return holder
        time.sleep(0.1 * (attempt + 1))
    return "another process (the database is busy)"


def _take_lease_once(engine: sa.Engine, name: str, me: str, lease: timedelta) -> str | None:
    now = now_utc()
    try:
        with engine.begin() as conn:
            row = conn.execute(
                sa.select(Lease.holder, Lease.expires_at).where(Lease.name == name)
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            sa.insert(Lease).values(name=name, holder=me, expires_at=now + lease)
                        )
                    return me
                except sa.exc.IntegrityError:
                    return (
                        conn.execute(sa.select(Lease.holder).where(Lease.name == name)).scalar()
                        or "another process"
                    )
            if row.holder != me and row.expires_at > now and not holder_is_dead(row.holder):
                return str(row.holder)
            if row.holder != me:
                log.warning(
                    "taking over the %s lease from %s (%s)",
                    name,
                    row.holder,
                    "expired" if row.expires_at <= now else "its process is gone",
                )
            taken = conn.execute(
                sa.update(Lease)
                .where(  # only if nobody took it meanwhile
                    Lease.name == name,
                    Lease.holder == row.holder,
                    Lease.expires_at == row.expires_at,
                )
                .values(holder=me, expires_at=now + lease)
            ).rowcount
            if taken:
                return me
            return (
                conn.execute(sa.select(Lease.holder).where(Lease.name == name)).scalar()
                or "another process"
            )
    except sa.exc.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return None

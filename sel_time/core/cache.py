"""Results derived from the whole roster (cost summaries, a plan's grid), kept per process
until anything is written.

Every write is audited, and publishing and delivery records also stamp the roster, so the
newest audit event, the newest roster change and the newest delivery record together say
whether anything a summary reads has changed. Reading that stamp is three index lookups;
recomputing a summary of the whole demo is most of a second.
"""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa

from ..models import Attendance, AuditEvent, ProtectedSession
from .clock import today_london
from .extensions import db

T = TypeVar("T")


def data_version() -> tuple[Any, ...]:
    """A stamp that changes whenever anything a roster-wide summary reads is written. It
    starts with a tag of this engine, so that two databases (or two apps in one process, as
    in tests) never share a cached value."""
    engine_tag = db.engine.__dict__.setdefault("_sel_time_cache_tag", uuid.uuid4().hex)
    stamp = db.session.execute(sa.select(*(q.scalar_subquery() for q in _STAMP))).one()
    return (engine_tag, *stamp, today_london())


_STAMP = (  # one round trip: each is an index lookup (or a count of one table)
    sa.select(sa.func.max(AuditEvent.id)),
    sa.select(sa.func.max(ProtectedSession.last_modified)),
    sa.select(sa.func.max(ProtectedSession.id)),
    sa.select(sa.func.max(Attendance.recorded_at)),
    sa.select(sa.func.max(Attendance.id)),
    sa.select(sa.func.count(Attendance.id)),
)


class VersionedCache:
    """A small per-process LRU of values, each valid for the data version it was made at."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        version = data_version()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == version:
                self._items.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._items[key] = (version, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

"""The finance dashboard's default view (every period, every organisation) worked out ahead:
a worker makes it after any write the dashboard reads, so the first visit after a publish or a
delivery record finds it ready instead of reading every cost line.

The figures are a cache, so they are kept in the task queue's store (the queue's SQLite file in
the embedded default, Redis in production), never in the database of record: on SQLite, a worker
writing them to the same file after every write would compete for its one write lock with the
writes people make (CI saw a publish refused as "changed meanwhile" that way).

A kept snapshot carries the data stamp it was made at (:func:`sel_time.core.cache.data_version`
without its per-process tag) and is used only while that stamp is current: a visit before the
worker has run, or after a later write, works the figures out afresh as before, so the page is
always exact. The stamp is read before the figures, so a write that lands while they are being
worked out leaves a snapshot that is already stale, never one that looks newer than it is.

:mod:`.tasks` asks for a refresh after every commit that writes what the stamp reads.

The figures are pickled: they are the app's own dicts, written only by this module's task and
read back by the same code, in the store that already holds the queue's own pickled tasks.
"""
from __future__ import annotations

import logging
import pickle
from typing import Any

from huey.constants import EmptyData

from ..core.cache import data_version
from ..core.queue import queue
from ..models import Attendance, AuditEvent, ProtectedSession
from .dashboard import dashboard_data

log = logging.getLogger(__name__)
DEFAULT_VIEW = "all"  # the dashboard without a period or an organisation
WATCHED = (AuditEvent, ProtectedSession, Attendance)  # the tables the data stamp reads


def current_stamp() -> str:
    """The data stamp as kept in the database (the same in every process)."""
    return repr(data_version()[1:])


KEY_PREFIX = "sel-time:finance-snapshot:"


def _kept(key: str) -> tuple[str, bytes] | None:
    raw = queue.huey().storage.peek_data(KEY_PREFIX + key)
    if raw is EmptyData:
        return None
    stamp, data = pickle.loads(raw)  # noqa: S301 - our own entries, as the queue's own tasks
    return stamp, data


def stored(key: str = DEFAULT_VIEW) -> dict[str, Any] | None:
    """The kept figures for ``key`` if they were made at the current data stamp."""
    kept = _kept(key)
    if kept is None or kept[0] != current_stamp():
        return None
    return pickle.loads(kept[1])  # type: ignore[no-any-return]  # noqa: S301 - as above


def refresh(key: str = DEFAULT_VIEW) -> bool:
    """Work out and keep the default view's figures unless they are current (reads only the
    database); returns whether anything was worked out."""
    stamp = current_stamp()  # first: figures read after it are at least as new
    kept = _kept(key)
    if kept is not None and kept[0] == stamp:
        return False
    data = pickle.dumps(dashboard_data(None, None, None), protocol=pickle.HIGHEST_PROTOCOL)
    queue.huey().storage.put_data(KEY_PREFIX + key, pickle.dumps((stamp, data)))
    log.info("finance dashboard figures kept (%d bytes)", len(data))
    return True


def forget(key: str = DEFAULT_VIEW) -> None:
    """Drop the kept figures (tests; an operator who wants the next visit to work them out)."""
    queue.huey().storage.pop_data(KEY_PREFIX + key)

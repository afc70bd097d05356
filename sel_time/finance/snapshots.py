"""The finance dashboard's default view (every period, every organisation) worked out ahead:
a worker makes it after any write the dashboard reads, so the first visit after a publish or a
delivery record finds it ready instead of reading every cost line.

A kept snapshot carries the data stamp it was made at (:func:`sel_time.core.cache.data_version`
without its per-process tag) and is used only while that stamp is current: a visit before the
worker has run, or after a later write, works the figures out afresh as before, so the page is
always exact. The stamp is read before the figures, so a write that lands while they are being
worked out leaves a snapshot that is already stale, never one that looks newer than it is.

:mod:`.tasks` asks for a refresh after every commit that writes what the stamp reads.

The figures are pickled: they are the app's own dicts, written only by this module's task and
read back by the same code, so a visit gets exactly what it would have worked out.
"""
from __future__ import annotations

import logging
import pickle
from typing import Any

from ..core.cache import data_version
from ..core.clock import now_utc
from ..core.extensions import db
from ..models import Attendance, AuditEvent, FinanceSnapshot, ProtectedSession
from .dashboard import dashboard_data

log = logging.getLogger(__name__)
DEFAULT_VIEW = "all"  # the dashboard without a period or an organisation
WATCHED = (AuditEvent, ProtectedSession, Attendance)  # the tables the data stamp reads


def current_stamp() -> str:
    """The data stamp as kept in the database (the same in every process)."""
    return repr(data_version()[1:])


def stored(key: str = DEFAULT_VIEW) -> dict[str, Any] | None:
    """The kept figures for ``key`` if they were made at the current data stamp."""
    row = db.session.get(FinanceSnapshot, key)
    if row is None or row.stamp != current_stamp():
        return None
    return pickle.loads(row.data)  # type: ignore[no-any-return]  # noqa: S301 - our own rows


def refresh(key: str = DEFAULT_VIEW) -> bool:
    """Work out and keep the default view's figures unless they are current. Flushes; returns
    whether anything was worked out."""
    stamp = current_stamp()  # first: figures read after it are at least as new
    row = db.session.get(FinanceSnapshot, key)
    if row is not None and row.stamp == stamp:
        return False
    data = pickle.dumps(dashboard_data(None, None, None), protocol=pickle.HIGHEST_PROTOCOL)
    if row is None:
        row = FinanceSnapshot(key=key)
        db.session.add(row)
    row.stamp, row.data, row.made_at = stamp, data, now_utc()
    db.session.flush()
    log.info("finance dashboard figures kept (%d bytes)", len(data))
    return True

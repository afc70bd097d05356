"""Cancelling a running solve: the worker watches its row's ``cancel_requested`` (on a
connection of its own, every few tenths of a second) and sets the solver's stop flag."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from ..extensions import db

POLL = 0.3  # seconds between looks at the row: the solver stops within POLL + 0.05 s


@contextmanager
def watch_cancel(model: Any, row_id: int) -> Iterator[threading.Event]:
    """An Event set once ``model`` row ``row_id`` has ``cancel_requested``; watched for the
    length of the block."""
    stop = threading.Event()
    done = threading.Event()
    engine = db.engine
    table = model.__table__

    def watch() -> None:
        while not done.wait(POLL):
            try:
                with engine.connect() as conn:
                    asked = conn.execute(
                        sa.select(table.c.cancel_requested).where(table.c.id == row_id)
                    ).scalar()
            except sa.exc.DBAPIError:
                continue  # the database is briefly away: look again
            if asked:
                stop.set()
                return

    watcher = threading.Thread(target=watch, name=f"cancel-watch-{row_id}", daemon=True)
    watcher.start()
    try:
        yield stop
    finally:
        done.set()
        watcher.join()

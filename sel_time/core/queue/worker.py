"""``sel-time worker``: a Huey consumer for the app's queue. Run any number of them, on any
number of machines that reach the same PostgreSQL and the same Redis.

Each worker says when it was last seen (a key in the queue's own storage, for ``/health`` and
the admin page: it is shown, never used to decide anything), and sweeps for runs a killed
worker left behind (see :mod:`sel_time.core.queue.recovery`) when it starts and every minute.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from flask import Flask
from huey.consumer import Consumer

from ..clock import now_utc
from ..extensions import db
from .engine import queue

log = logging.getLogger(__name__)
SEEN_PREFIX = "sel-time-worker:"
SEEN_EVERY = 15.0  # seconds between "last seen" notes


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_consumer(app: Flask, concurrency: int = 1) -> Consumer:
    """A consumer running ``concurrency`` tasks at once, each in a thread with its own app
    context and database session (CP-SAT solves in native threads, outside the GIL; for more
    CPUs run more worker processes, on this machine or others), with Huey's periodic
    scheduler on (the minute sweep)."""
    huey = queue.huey(app)
    return huey.create_consumer(
        workers=max(1, int(concurrency)),
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        health_check_interval=5,
        initial_delay=0.1,
        max_delay=1.0,
    )


def note_seen(app: Flask, concurrency: int, stop: threading.Event) -> None:
    huey = queue.huey(app)
    key = SEEN_PREFIX + worker_name()
    while not stop.is_set():
        try:
            huey.storage.put_data(key, json.dumps(
                {"name": worker_name(), "concurrency": concurrency,
                 "seen": now_utc().isoformat()}).encode())
        except Exception:  # the broker is down: the consumer will say so itself
            log.debug("could not note this worker as seen", exc_info=True)
        stop.wait(SEEN_EVERY)


def run_worker(app: Flask, concurrency: int = 1) -> None:
    """Run a worker until SIGINT (finish the running tasks) or SIGTERM (stop now)."""
    from .recovery import sweep

    if not logging.root.handlers:  # a worker says what it does on stderr (systemd's journal)
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with app.app_context():
        swept = sweep()
        if swept:
            log.warning("recovered %s run(s) left behind by a stopped worker", swept)
        db.session.remove()
    consumer = make_consumer(app, concurrency)
    stop = threading.Event()
    seen = threading.Thread(target=note_seen, args=(app, concurrency, stop), daemon=True,
                            name="sel-time-worker-seen")
    seen.start()
    try:
        consumer.run()
    finally:
        stop.set()
        try:
            queue.huey(app).storage.pop_data(SEEN_PREFIX + worker_name())
        except Exception:
            log.debug("could not remove this worker's note", exc_info=True)


def live_workers(app: Flask, within: float = 3 * SEEN_EVERY) -> list[dict[str, Any]]:
    """Workers seen recently, newest first, from the notes they leave in the queue."""
    huey = queue.huey(app)
    out = []
    storage: Any = huey.storage
    for key, value in _notes(storage):
        try:
            note = json.loads(value)
        except ValueError:
            continue
        from datetime import datetime

        seen = datetime.fromisoformat(note["seen"])
        age = (now_utc() - seen).total_seconds()
        note["seconds_ago"] = round(age, 1)
        note["live"] = age <= within
        out.append(note)
    return sorted(out, key=lambda n: n["seconds_ago"])


def _notes(storage: Any) -> list[tuple[str, bytes]]:
    """Every worker note in the queue's key-value store (Huey's ``result_items``)."""
    return [(str(k), v) for k, v in storage.result_items().items()
            if str(k).startswith(SEEN_PREFIX)]


def queue_depth(app: Flask) -> int:
    try:
        return int(queue.huey(app).pending_count())
    except Exception:
        log.debug("queue depth unavailable", exc_info=True)
        return -1


__all__ = ["live_workers", "make_consumer", "queue_depth", "run_worker", "time"]

"""The task queue: every solve (plans, re-solves, what-ifs), each part of the nightly refresh,
feed rendering after a publish and e-mail run in ``sel-time worker`` processes through Huey,
never in a web process. See docs/scaling.md for running workers on many machines.

Features declare tasks with :func:`task` in their own ``tasks.py`` and ask for one with
``the_task.after_commit(args)`` inside their transaction: it is enqueued only if and when
that transaction commits (:func:`enqueue_after_commit`).
"""

from __future__ import annotations

import importlib

from flask import Flask

from .engine import (
    HOUSEKEEPING,
    INTERACTIVE,
    NIGHTLY,
    URGENT,
    QueueTask,
    enqueue_after_commit,
    queue,
    registered,
    revoke,
    task,
)

# The modules that declare tasks: imported before the queue is bound to an app, so that a
# worker knows every task a web process may enqueue.
TASK_MODULES = (
    "sel_time.core.queue.housekeeping",
    "sel_time.plans.tasks",
    "sel_time.finance.tasks",
    "sel_time.nightly.tasks",
    "sel_time.feeds.tasks",
    "sel_time.mail.tasks",
)


def init_queue(app: Flask) -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)
    queue.init_app(app)


__all__ = [
    "HOUSEKEEPING",
    "INTERACTIVE",
    "NIGHTLY",
    "URGENT",
    "QueueTask",
    "enqueue_after_commit",
    "init_queue",
    "queue",
    "registered",
    "revoke",
    "task",
]

"""The queue itself: a Huey instance built from ``QUEUE_URL`` when the app is made, the tasks
registered on it, and the enqueue calls the features use.

- ``sqlite:///path`` (the embedded default, a file under ``instance/``): Huey's SQLite storage;
  web, worker and scheduler on one machine, nothing to install.
- ``redis://host:port/db`` (production): Huey's priority Redis storage; any number of worker
  processes on any number of machines.
- ``QUEUE_IMMEDIATE`` (tests): Huey's immediate mode; a task runs in the calling process right
  after the transaction that enqueued it commits, in a fresh app context and session.

A task is enqueued only once the transaction that asked for it has committed
(:func:`enqueue_after_commit`), so a worker never looks for a row that is not there yet, and a
request that fails enqueues nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from huey import Huey, PriorityRedisHuey, SqliteHuey
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db

log = logging.getLogger(__name__)
EXTENSION = "sel_time_queue"
WRAPPERS = "sel_time_queue_tasks"  # app.extensions key: task name -> Huey's TaskWrapper
PENDING = "sel_time_queue_pending"  # session.info key: tasks waiting for the commit

# Priorities (higher first): a plan a rota manager waits for goes before what-ifs and the
# nightly parts; mail and feed rendering fill the gaps.
URGENT = 100
INTERACTIVE = 50
NIGHTLY = 10
HOUSEKEEPING = 0


@dataclass(frozen=True)
class QueueTask:
    """A function that runs in a worker. Call it to run it here and now (a CLI command, a
    test); :meth:`after_commit` to have a worker run it once this transaction commits."""

    name: str
    fn: Callable[..., Any]
    priority: int

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def after_commit(self, *args: Any, priority: int | None = None, task_id: str | None = None
                     ) -> str:
        """Enqueue when the current transaction commits; return the task's id (recorded on the
        row it works on, so that it can be revoked)."""
        return enqueue_after_commit(self, *args, priority=priority, task_id=task_id)

    def enqueue_now(self, *args: Any, priority: int | None = None) -> str:
        """Enqueue at once, outside any transaction (the scheduler, a CLI command)."""
        return _enqueue(self, args, self.priority if priority is None else priority, None)


_TASKS: dict[str, QueueTask] = {}


def task(name: str, priority: int = HOUSEKEEPING) -> Callable[[Callable[..., Any]], QueueTask]:
    """Register ``fn`` as a queue task named ``name`` (the name is what the queue stores, so
    renaming the function does not orphan queued work)."""

    def register(fn: Callable[..., Any]) -> QueueTask:
        if name in _TASKS and _TASKS[name].fn is not fn:
            raise ValueError(f"two queue tasks are named {name!r}")
        _TASKS[name] = QueueTask(name, fn, priority)
        return _TASKS[name]

    return register


def registered() -> dict[str, QueueTask]:
    return dict(_TASKS)


def make_huey(url: str, *, immediate: bool = False, name: str = "sel-time") -> Huey:
    """A Huey for ``url``: ``sqlite:///file`` or ``redis://host:port/db``."""
    parts = urlsplit(url)
    if immediate:
        return Huey(name, results=False, immediate=True)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("//") else parts.path
        path = path or "sel_time_queue.sqlite"
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # Huey's SQLite storage opens its connection per thread; a 30 s busy timeout rides out
        # the brief write locks of other processes dequeueing.
        return SqliteHuey(name, filename=path, results=False, timeout=30)
    if parts.scheme in ("redis", "rediss", "unix"):
        return PriorityRedisHuey(name, url=url, results=False)
    raise ValueError(
        f"SEL_TIME_QUEUE_URL must be sqlite:///<file> or redis://<host>:<port>/<db>, not {url!r}"
    )


class TaskQueue:
    """The Flask extension: ``queue.init_app(app)`` builds the app's Huey and registers every
    task on it, each running inside an app context of that app (and one transaction boundary
    of its own: tasks commit through ``sel_time.transaction`` like requests)."""

    def init_app(self, app: Flask) -> None:
        url = app.config.get("QUEUE_URL") or "sqlite:///" + os.path.join(
            app.instance_path, "queue.sqlite"
        )
        huey = make_huey(url, immediate=bool(app.config.get("QUEUE_IMMEDIATE")),
                         name=str(app.config.get("QUEUE_NAME", "sel-time")))
        app.extensions[EXTENSION] = huey
        app.extensions[WRAPPERS] = {}
        for spec in _TASKS.values():
            _bind(huey, app, spec)
        from .recovery import bind_periodic

        bind_periodic(app, huey)
        _listen_once()

    @staticmethod
    def huey(app: Flask | None = None) -> Huey:
        return (app or current_app).extensions[EXTENSION]


queue = TaskQueue()


def _bind(huey: Huey, app: Flask, spec: QueueTask) -> Any:
    def run(*args: Any) -> None:
        # Immediate mode (tests) runs inside the enqueuing request's context: a fresh app
        # context gives the task its own session, as a worker process would have.
        with app.app_context():
            try:
                spec.fn(*args)
            finally:
                db.session.remove()

    wrapper = huey.task(name=spec.name, priority=spec.priority)(run)
    app.extensions[WRAPPERS][spec.name] = wrapper
    return wrapper


def _enqueue(spec: QueueTask, args: tuple[Any, ...], priority: int, task_id: str | None) -> str:
    huey = queue.huey()
    wrapper = current_app.extensions[WRAPPERS].get(spec.name)
    if wrapper is None:  # registered after init_app: bind it now
        wrapper = _bind(huey, current_app._get_current_object(), spec)  # type: ignore[attr-defined]
    t = wrapper.task_class(args=args, priority=priority, id=task_id)
    huey.enqueue(t)
    log.debug("enqueued %s%r as %s", spec.name, args, t.id)
    return str(t.id)


def enqueue_after_commit(spec: QueueTask, *args: Any, priority: int | None = None,
                         task_id: str | None = None, once: bool = False) -> str:
    """Enqueue ``spec(*args)`` when the session's transaction commits; forget it if it rolls
    back. Returns the id the task will have (record it on the row, to revoke it). With
    ``once``, the same task with the same arguments asked twice in one transaction is queued
    once (e-mail delivery after a transaction that queued many messages)."""
    import uuid

    pending = db.session.info.setdefault(PENDING, [])
    if once:
        for other, other_args, _, other_id in pending:
            if other is spec and other_args == args:
                return str(other_id)
    tid = task_id or str(uuid.uuid4())
    db.session.connection()  # begin the transaction now, so that its rollback is heard
    pending.append((spec, args, spec.priority if priority is None else priority, tid))
    return tid


def revoke(task_id: str | None) -> None:
    """Stop a queued task from starting (Huey's revoke: a worker that dequeues it skips it)."""
    if task_id:
        queue.huey().revoke_by_id(task_id, revoke_once=True)


_listening = False


def _listen_once() -> None:
    global _listening
    if _listening:
        return
    _listening = True
    sa.event.listen(Session, "after_commit", _after_commit)
    sa.event.listen(Session, "after_soft_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending or not has_app_context():
        return
    for spec, args, priority, tid in pending:
        _enqueue(spec, args, priority, tid)


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the outer transaction: what it asked for is not to happen
        session.info.pop(PENDING, None)

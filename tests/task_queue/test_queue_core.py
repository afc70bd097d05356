"""The queue's core: a task asked for inside a transaction is enqueued only when it commits,
and real ``sel-time worker`` processes take tasks off the embedded SQLite queue (and off Redis
in the PostgreSQL run)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db
from sel_time.core.queue import queue
from sel_time.core.queue.housekeeping import ping, ping_answer
from sel_time.core.queue.worker import live_workers, queue_depth
from sel_time.core.transaction import boundary
from tests.support.workers import REDIS_URL, flush_redis, redis_available, wait_for, workers


@pytest.mark.slow
def test_a_task_asked_for_in_a_committed_transaction_runs(app: Flask) -> None:
    token = uuid.uuid4().hex
    with boundary():
        ping.after_commit(token)
        assert ping_answer(token) is None  # not before the commit
    assert ping_answer(token) is not None


def test_a_task_asked_for_in_a_rolled_back_transaction_never_runs(app: Flask) -> None:
    token = uuid.uuid4().hex
    with pytest.raises(RuntimeError), boundary():
        ping.after_commit(token)
        raise RuntimeError("the request failed")
    with boundary():  # a later commit does not bring it back
        pass
    assert ping_answer(token) is None


def test_a_bad_queue_url_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SEL_TIME_QUEUE_URL must be sqlite"):
        create_app(TestingConfig, QUEUE_IMMEDIATE=False, QUEUE_URL="amqp://x",
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite'}")


def _real_queue_app(tmp_path: Path, database_url: str, queue_url: str) -> Flask:
    return create_app(TestingConfig, QUEUE_IMMEDIATE=False, QUEUE_URL=queue_url,
                      SQLALCHEMY_DATABASE_URI=database_url)


def _ping_through_a_worker(tmp_path: Path, app: Flask, queue_url: str) -> None:
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    client_app = _real_queue_app(tmp_path, database_url, queue_url)
    with client_app.app_context():
        tokens = [uuid.uuid4().hex for _ in range(3)]
        with boundary():
            for t in tokens:
                ping.after_commit(t)
        assert queue_depth(client_app) == 3  # nothing runs in this process
        assert all(ping_answer(t) is None for t in tokens)
        with workers(database_url, queue_url, log_dir=tmp_path):
            answers = wait_for(lambda: all(ping_answer(t) for t in tokens), timeout=90)
            assert answers, "no worker answered within 90 s"
            assert wait_for(lambda: live_workers(client_app), timeout=10)
        assert queue_depth(client_app) == 0
        db.session.remove()
        db.engine.dispose()  # close this app's connections (PostgreSQL) before the next test


@pytest.mark.slow
def test_a_worker_process_takes_tasks_off_the_embedded_sqlite_queue(
    app: Flask, tmp_path: Path
) -> None:
    _ping_through_a_worker(tmp_path, app, f"sqlite:///{tmp_path / 'queue.sqlite'}")


@pytest.mark.slow
@pytest.mark.skipif(not redis_available(), reason="SEL_TIME_TEST_REDIS names no reachable Redis")
def test_a_worker_process_takes_tasks_off_redis(app: Flask, tmp_path: Path) -> None:
    flush_redis(REDIS_URL)
    _ping_through_a_worker(tmp_path, app, REDIS_URL)
    assert queue.huey(app).immediate  # the test's own app never left immediate mode

"""Small, in-process checks of the fixes the fault tests led to."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.cache import VersionedCache, data_version
from sel_time.core.clock import today_london
from sel_time.core.errors import Conflict
from sel_time.core.extensions import db
from sel_time.models import Plan, PlanStatus
from sel_time.plans.planning import request_plan


def _monday() -> date:
    today = today_london()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def test_a_scope_left_solving_by_a_dead_process_is_freed_at_once(app: Flask) -> None:
    first = request_plan(_monday(), 2, "system", 5, CLI_ACTOR)
    first.holder = f"{socket.gethostname()}:{2**22 + 12345}"  # no such process
    db.session.commit()
    second = request_plan(_monday(), 2, "system", 5, CLI_ACTOR)  # no Conflict
    db.session.commit()
    db.session.expire_all()
    dead = db.session.get(Plan, first.id)
    assert dead is not None and dead.status == PlanStatus.FAILED and dead.active_scope is None
    assert (
        second.active_scope == "system"
        and second.holder
        and second.holder.endswith(f":{os.getpid()}")
    )


def test_a_live_solver_keeps_its_scope(app: Flask) -> None:
    request_plan(_monday(), 2, "system", 5, CLI_ACTOR)  # held by this (live) process
    db.session.commit()
    with pytest.raises(Conflict):
        request_plan(_monday(), 2, "system", 5, CLI_ACTOR)


def test_cached_summaries_follow_every_audited_write(app: Flask, make: Callable[..., Any]) -> None:
    cache = VersionedCache()
    calls = []

    def compute() -> int:
        calls.append(1)
        return db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) or 0

    before = data_version()
    assert cache.get("k", compute) == cache.get("k", compute) and len(calls) == 1
    make("organisations")  # any write through the services is audited
    assert data_version() != before
    cache.get("k", compute)
    assert len(calls) == 2


def test_a_scope_held_by_a_killed_process_not_yet_reaped_is_freed(app: Flask) -> None:
    """SIGKILL a gunicorn and its workers are zombies until PID 1 reaps them, which can take
    a while; ``kill(pid, 0)`` still succeeds on a zombie. The sigkill loop in CI once found the
    next plan refused as "already solving" because of one."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = request_plan(_monday(), 2, "system", 5, CLI_ACTOR)
        first.holder = f"{socket.gethostname()}:{child.pid}"
        db.session.commit()
        with pytest.raises(Conflict):  # alive: its scope is kept
            request_plan(_monday(), 2, "system", 5, CLI_ACTOR)
        db.session.rollback()
        os.kill(child.pid, 9)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = request_plan(_monday(), 2, "system", 5, CLI_ACTOR)  # a zombie, not reaped: dead
        db.session.commit()
        db.session.expire_all()
        dead = db.session.get(Plan, first.id)
        assert dead is not None and dead.status == PlanStatus.FAILED and dead.active_scope is None
        assert second.active_scope == "system"
    finally:
        child.kill()
        child.wait()

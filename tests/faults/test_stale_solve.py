"""Small, in-process checks of the fixes the fault tests led to."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.clock import today_london
from sel_time.errors import Conflict
from sel_time.extensions import db
from sel_time.models import Plan, PlanStatus
from sel_time.planning import request_plan
from sel_time.services.audit import CLI_ACTOR
from sel_time.services.cache import VersionedCache, data_version


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
    assert second.active_scope == "system" and second.holder and second.holder.endswith(f":{os.getpid()}")


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

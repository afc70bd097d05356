"""Small, in-process checks of the fixes the fault tests led to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from sel_time.core.cache import VersionedCache, data_version
from sel_time.core.clock import today_london
from sel_time.core.extensions import db
from sel_time.models import Plan


def _monday() -> date:
    today = today_london()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


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

"""One solve per scope holds when two rota managers ask at the same instant: both are held at a
barrier after freeing any lost solve, just before each looks for a running plan of the scope,
so both see none; the unique active scope lets exactly one in, and the other gets 409 in words
(SQLite, one writer at a time: or 503 "busy"). Nothing is solved: no worker takes the plan."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import Plan, PlanStatus
from sel_time.plans import planning, tasks
from tests.plans.conftest import Small
from tests.plans.test_plans_api import REQUEST
from tests.plans.test_races import POSTGRES, at_barrier, side_by_side


class _NoWorker:
    def after_commit(self, *args: Any, **kwargs: Any) -> str:
        return "no-worker"


def test_two_plans_for_one_scope_at_once_let_exactly_one_in(
    app: Flask, small: Small, login_as: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = login_as("rota_manager"), login_as("rota_manager")
    db.session.commit()
    monkeypatch.setattr(tasks, "solve", _NoWorker())
    barrier = threading.Barrier(2)
    release = planning.release_lost

    def release_then_wait(scope: str) -> None:
        release(scope)
        at_barrier(barrier)  # both are about to look for a running plan of the scope

    monkeypatch.setattr(planning, "release_lost", release_then_wait)

    def post(headers: dict[str, str]) -> Callable[[FlaskClient], Any]:
        return lambda client: client.post("/api/v1/plans", json=REQUEST, headers=headers)

    responses = side_by_side(app, post(first), post(second))
    codes = Counter(r.status_code for r in responses)
    texts = [r.get_data(as_text=True) for r in responses]
    assert codes[202] == 1, texts
    refused = next(r for r in responses if r.status_code != 202)
    if POSTGRES or refused.status_code == 409:
        assert refused.status_code == 409, texts
        assert "already solving for system" in refused.get_json()["detail"]
    else:
        assert refused.status_code == 503 and "busy" in refused.get_json()["detail"], texts
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Plan.id)).where(
        Plan.status == PlanStatus.QUEUED)) == 1

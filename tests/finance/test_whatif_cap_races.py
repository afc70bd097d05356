"""The what-if caps hold when requests arrive at the same instant: counting the queued and
running what-ifs and recording a new one happen one request at a time
(:mod:`sel_time.finance.caps`). Each request runs in its own thread with its own connection,
and every one is held at a barrier just after counting, where two used to both see room for
one more; a request waiting for the caps' lock lets the barrier time out (3 s) instead.

PostgreSQL: exactly the cap gets in and the rest get 429 naming the limit. SQLite has one
writer at a time: never more than the cap gets in; a request the other's write overtook is
refused in words (429, or 503 "busy")."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.auth import create_api_token
from sel_time.core.extensions import db
from sel_time.finance import tasks, whatif
from sel_time.models import User, WhatIfRun, WhatIfStatus
from tests.finance.conftest import Directory
from tests.finance.test_whatif_runs import BODY
from tests.plans.test_races import at_barrier, side_by_side

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


class _NoWorker:
    """Stands in for the what-if task: queued runs stay queued (no worker takes them), so
    they count against the caps for the length of the test."""

    def after_commit(self, *args: Any, **kwargs: Any) -> str:
        return "no-worker"


@pytest.fixture()
def held_after_counting(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``held_after_counting(n)``: the next ``n`` requests wait for each other just after
    the caps were checked (or for the barrier to time out)."""
    monkeypatch.setattr(tasks, "run", _NoWorker())

    def hold(parties: int) -> None:
        barrier = threading.Barrier(parties)
        checked = whatif.check_caps

        def check_then_wait(*args: Any, **kwargs: Any) -> None:
            checked(*args, **kwargs)
            at_barrier(barrier)  # every request has counted: now all record their run

        monkeypatch.setattr(whatif, "check_caps", check_then_wait)

    return hold


def _post(headers: dict[str, str]) -> Callable[[FlaskClient], Any]:
    return lambda client: client.post("/api/v1/costs/whatif", json=BODY, headers=headers)


def _active() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(WhatIfRun.id)).where(
        WhatIfRun.status.in_((WhatIfStatus.QUEUED, WhatIfStatus.RUNNING)))) or 0


def _refused_in_words(responses: list[Any], limit: str) -> None:
    for r in responses:
        if r.status_code == 429:
            assert limit in r.get_json()["detail"], r.get_json()
            assert r.headers["Retry-After"].isdigit()
        elif r.status_code != 202:
            assert not POSTGRES, r.get_data(as_text=True)
            assert r.status_code == 503, r.get_data(as_text=True)
            assert "busy" in r.get_json()["detail"]


def test_four_what_ifs_at_once_against_a_system_cap_of_three_let_exactly_three_in(
    app: Flask, directory: Directory, login_as: Callable[..., dict[str, str]],
    held_after_counting: Callable[[int], None]
) -> None:
    app.config["WHATIF_CAP_TOTAL"] = 3
    users = [login_as("finance") for _ in range(4)]
    db.session.commit()
    held_after_counting(4)
    responses = side_by_side(app, *[_post(h) for h in users])
    codes = Counter(r.status_code for r in responses)
    if POSTGRES:
        assert codes == {202: 3, 429: 1}, [r.get_data(as_text=True) for r in responses]
    else:
        assert 1 <= codes[202] <= 3 and codes[202] + codes[429] + codes[503] == 4, codes
    _refused_in_words(responses, "the most the system runs at once (3)")
    assert _active() == codes[202] <= 3


def test_three_what_ifs_of_one_person_at_once_let_exactly_two_in(
    app: Flask, directory: Directory, login_as: Callable[..., dict[str, str]],
    held_after_counting: Callable[[int], None]
) -> None:
    login_as("finance")
    user = db.session.scalar(sa.select(User).order_by(User.id.desc()))  # just made
    assert user is not None
    # A token each, as from three browser tabs or scripts: one shared token's last-used
    # stamp would make the requests wait for each other, and hide the race.
    tokens = [create_api_token(user, f"tab {n}")[1] for n in range(3)]
    db.session.commit()
    held_after_counting(3)
    responses = side_by_side(
        app, *[_post({"Authorization": f"Bearer {token}"}) for token in tokens])
    codes = Counter(r.status_code for r in responses)
    if POSTGRES:
        assert codes == {202: 2, 429: 1}, [r.get_data(as_text=True) for r in responses]
    else:
        assert 1 <= codes[202] <= 2 and codes[202] + codes[429] + codes[503] == 3, codes
    _refused_in_words(responses, "the most one person may have at once (2)")
    assert _active() == codes[202] <= 2

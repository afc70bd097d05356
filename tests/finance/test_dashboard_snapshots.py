"""The finance dashboard's figures are kept by a worker after each write (issue 17: the first
visit after a publish or a delivery record must not wait for every cost line to be read), and
the page stays exact when the worker has not run yet."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from huey.constants import EmptyData
from werkzeug.security import generate_password_hash

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.core.queue import queue
from sel_time.delivery.recording import record_delivery
from sel_time.finance import pages, snapshots
from sel_time.finance import tasks as finance_tasks
from sel_time.finance.dashboard import dashboard_data
from sel_time.models import Attendance, User, UserRole
from sel_time.web.formats import money

from .conftest import RECORDED_AT, Ledger

PASSWORD = "snapshot-test-password"


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "FINANCE_SNAPSHOTS": True, "WTF_CSRF_ENABLED": False}


def _finance_client(app: Any) -> Any:
    db.session.add(User(email="money@snapshots.test", name="Money", role=UserRole.FINANCE,
                        password_hash=generate_password_hash(PASSWORD,
                                                             method="pbkdf2:sha256:1000")))
    db.session.commit()
    client = app.test_client()
    r = client.post("/login", data={"email": "money@snapshots.test", "password": PASSWORD})
    assert r.status_code == 302
    return client


def _kept_entry() -> Any:
    """What the queue's store holds for the default view (the figures are never in the
    database of record)."""
    raw = queue.huey().storage.peek_data(snapshots.KEY_PREFIX + snapshots.DEFAULT_VIEW)
    return None if raw is EmptyData else raw


def _delivered() -> str:
    return money(dashboard_data(None, None, None)["data"]["month"]["total"]["delivered"])


def _record_the_unrecorded(ledger: Ledger) -> None:
    att = db.session.get(Attendance, ledger.attendances["S9-Ada"])
    record_delivery(att, "taken", None, None, CLI_ACTOR, now=RECORDED_AT)
    db.session.commit()


def test_the_first_visit_after_a_write_uses_the_figures_the_worker_kept(
        app: Any, ledger: Ledger, monkeypatch: Any) -> None:
    kept = snapshots.stored()
    assert kept is not None, "the ledger's commit had the worker keep the figures"
    assert kept["data"] == dashboard_data(None, None, None)["data"]
    client = _finance_client(app)
    before = _delivered()

    _record_the_unrecorded(ledger)  # a write: the worker keeps the new figures after it
    after = _delivered()
    assert after != before

    def not_here(*_args: Any) -> Any:
        raise AssertionError("the page worked the figures out instead of using the kept ones")

    monkeypatch.setattr(pages, "dashboard_data", not_here)
    pages.DASHBOARDS.clear()
    html = client.get("/finance").get_data(as_text=True)
    assert after in html and before not in html


def test_before_the_worker_has_run_the_page_works_the_figures_out(
        app: Any, ledger: Ledger, monkeypatch: Any) -> None:
    client = _finance_client(app)
    monkeypatch.setattr(finance_tasks, "snapshots_enabled", lambda: False)  # worker not yet run
    old = _kept_entry()
    assert old is not None
    _record_the_unrecorded(ledger)
    assert _kept_entry() == old
    assert snapshots.stored() is None, "kept figures older than the write are not used"
    html = client.get("/finance").get_data(as_text=True)
    assert _delivered() in html

    assert snapshots.refresh() is True  # the worker catches up
    assert snapshots.refresh() is False  # and does nothing more until the next write


def test_the_night_keeps_the_figures_for_the_new_day(
        app: Any, ledger: Ledger, monkeypatch: Any) -> None:
    """The data stamp holds the day: the night's housekeeping keeps the figures at the new
    day's stamp, so the first visit of the morning finds them ready."""
    from sel_time.nightly import tasks as nightly_tasks

    queue.huey().storage.put_data(snapshots.KEY_PREFIX + snapshots.DEFAULT_VIEW,
                                  pickle.dumps(("yesterday's stamp", b"")))
    assert snapshots.stored() is None
    monkeypatch.setattr(nightly_tasks, "PARTS", [])  # only the parts features registered
    nightly_tasks.housekeeping_task()
    db.session.expire_all()
    kept = snapshots.stored()
    assert kept is not None
    assert kept["data"] == dashboard_data(None, None, None)["data"]

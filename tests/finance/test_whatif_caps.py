"""What-if caps and cancel: at most two queued or running per person and eight in all
(configurable); beyond that 429 with Retry-After and the limit in words, and nothing queued.
A queued what-if can be cancelled (audited); a finished one cannot."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.models import AuditEvent, User, WhatIfRun, WhatIfStatus
from tests.finance.conftest import Directory
from tests.finance.test_whatif_runs import BODY, PROBLEM


def _active(requested_by: str, n: int) -> list[int]:
    """``n`` what-ifs queued by ``requested_by`` (as if no worker had taken them yet)."""
    rows = [WhatIfRun(status=WhatIfStatus.QUEUED, request=BODY, progress=0.0,
                      requested_by=requested_by, created_at=now_utc()) for _ in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(WhatIfRun.id))) or 0


def test_a_third_what_if_of_one_person_is_refused_with_429_naming_the_limit(
    app: Flask, directory: Directory, client: FlaskClient,
    login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("finance")
    label = db.session.scalar(sa.select(User.email).order_by(User.id.desc()))  # just made
    _active(str(label), 2)
    before = _count()
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
    assert r.status_code == 429 and r.mimetype == PROBLEM, r.get_data(as_text=True)
    assert r.headers["Retry-After"].isdigit()
    assert "the most one person may have at once (2)" in r.get_json()["detail"]
    assert _count() == before  # nothing queued
    # Someone else may still run one.
    other = client.post("/api/v1/costs/whatif", json=BODY, headers=login_as("rota_manager"))
    assert other.status_code == 202, other.get_data(as_text=True)


def test_beyond_the_system_cap_every_user_gets_429(
    app: Flask, directory: Directory, client: FlaskClient,
    login_as: Callable[..., dict[str, str]]
) -> None:
    app.config["WHATIF_CAP_TOTAL"] = 3
    _active("a@example.org", 1)
    _active("b@example.org", 2)
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=login_as("finance"))
    assert r.status_code == 429, r.get_data(as_text=True)
    assert "the most the system runs at once (3)" in r.get_json()["detail"]


def test_a_queued_what_if_is_cancelled_and_audited_a_finished_one_is_not(
    app: Flask, directory: Directory, client: FlaskClient,
    login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("finance")
    [queued] = _active("someone@example.org", 1)
    r = client.post(f"/api/v1/costs/whatif/{queued}/cancel", headers=headers)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert r.get_json()["status"] == "cancelled"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cancel"))
    assert event is not None and event.entity_id == str(queued)
    again = client.post(f"/api/v1/costs/whatif/{queued}/cancel", headers=headers)
    assert again.status_code == 409 and "only a queued or running" in again.get_json()["detail"]

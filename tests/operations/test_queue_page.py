"""The "Work queue" page: admins and rota managers see the tasks waiting, the plans and
what-ifs queued or running, the nightly runs and the live workers; other roles are refused."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.core.queue import queue
from sel_time.core.queue.worker import SEEN_PREFIX
from sel_time.models import JobRun, Plan, PlanStatus, RunStatus, User
from tests.support.sign_in import signed_in, users_of_every_role


@pytest.fixture()
def users(app: Any, make: Any) -> dict[str, User]:
    return users_of_every_role(make, "queue.test", name="Lee Leader")


@pytest.mark.parametrize("role", ["admin", "rota_manager"])
def test_the_page_lists_a_queued_plan_a_running_one_the_night_and_a_live_worker(
        app: Any, users: dict[str, User], role: str) -> None:
    queue.huey(app).storage.put_data(SEEN_PREFIX + "box-7:4242", json.dumps(
        {"name": "box-7:4242", "concurrency": 2,
         "seen": (now_utc() - timedelta(seconds=4)).isoformat()}).encode())
    db.session.add_all([
        Plan(scope="organisation:kch", start_date=date(2027, 4, 26), weeks=2,
             status=PlanStatus.QUEUED, requested_by="rota@kch.test", created_at=now_utc()),
        Plan(scope="team:kch-lt", start_date=date(2027, 4, 26), weeks=2,
             status=PlanStatus.RUNNING, requested_by="rota@kch.test", created_at=now_utc(),
             progress=0.4, progress_message="solving week 1"),
        Plan(scope="system", start_date=date(2027, 4, 26), weeks=2,
             status=PlanStatus.DRAFT, requested_by="rota@kch.test", created_at=now_utc()),
        JobRun(job="nightly-refresh", run_date=date(2027, 4, 20), status=RunStatus.RUNNING,
               holder="box-7:99", trigger="cron", started_at=now_utc()),
    ])
    db.session.commit()
    html = signed_in(app, users[role]).get("/manage/queue").get_data(as_text=True)
    assert "<h1>Work queue</h1>" in html
    assert 'class="sel-table"' in html and 'id="queue-plans"' in html  # the house's table
    assert "organisation:kch" in html and "team:kch-lt" in html
    assert "40%: solving week 1" in html
    assert ">system<" not in html  # a draft is not in the queue
    assert "Tue 20 Apr 2027" in html and "nightly-refresh" in html
    assert "box-7:4242" in html and "seconds ago" in html and ">live<" in html
    assert 'href="/manage/queue"' in html  # in the menu


def test_an_empty_queue_says_so_in_words(app: Any, users: dict[str, User]) -> None:
    html = signed_in(app, users["admin"]).get("/manage/queue").get_data(as_text=True)
    assert "No plan is queued or running." in html
    assert "No worker has been seen lately" in html


@pytest.mark.parametrize("role", ["leader", "finance", "programme_lead"])
def test_other_roles_are_refused(app: Any, users: dict[str, User], role: str) -> None:
    client = signed_in(app, users[role])
    assert client.get("/manage/queue").status_code == 403
    assert 'href="/manage/queue"' not in client.get("/accessibility").get_data(as_text=True)


def test_signed_out_goes_to_sign_in(client: Any) -> None:
    r = client.get("/manage/queue")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def _running_night(parts_done: int = 1, parts_total: int = 3) -> int:
    run = JobRun(job="nightly-refresh", run_date=date(2027, 4, 20), status=RunStatus.RUNNING,
                 holder="box-7:99", trigger="cron", started_at=now_utc(),
                 parts_total=parts_total, parts_done=parts_done)
    db.session.add(run)
    db.session.commit()
    return run.id


def test_a_manager_sees_the_nights_progress_and_cancels_it(
        app: Any, users: dict[str, User]) -> None:
    from sel_time.models import AuditEvent

    run_id = _running_night()
    client = signed_in(app, users["rota_manager"])
    html = client.get("/manage/queue").get_data(as_text=True)
    assert "1 of 3" in html and "Cancel this night" in html
    r = client.post(f"/manage/queue/nights/{run_id}/cancel", follow_redirects=True)
    assert "nothing of it is published" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(JobRun, run_id).status == RunStatus.CANCELLED
    assert db.session.query(AuditEvent).filter_by(entity="job_run", action="cancel").count() == 1
    # cancelled: no button any more, and asking again says why in words
    assert "Cancel this night" not in client.get("/manage/queue").get_data(as_text=True)
    again = client.post(f"/manage/queue/nights/{run_id}/cancel", follow_redirects=True)
    assert "only a running night can be cancelled" in again.get_data(as_text=True)


def test_a_leader_cannot_cancel_a_night(app: Any, users: dict[str, User]) -> None:
    run_id = _running_night()
    r = signed_in(app, users["leader"]).post(f"/manage/queue/nights/{run_id}/cancel")
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(JobRun, run_id).status == RunStatus.RUNNING

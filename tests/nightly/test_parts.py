"""The night in parts, on a real (embedded SQLite) queue drained here as a worker would: the
scheduler's half records the night and queues one task per scope of its first wave; each wave
queues the next when its last part ends; the part that ends the night queues the one publish;
a part that fails is said on the run and the other scopes are still published; a cancelled
night publishes nothing; and of two parts finishing at once, exactly one is the last (the
database counts them), on SQLite and on PostgreSQL.

The system: the small trust (``gst``) and a second one (``kch``) with a team spanning both, so
the night has three parts: the team first, then both organisations together, planned around it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.core.queue import queue
from sel_time.models import (
    AuditEvent,
    JobRun,
    NightPart,
    PartStatus,
    Plan,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
    RunStatus,
)
from sel_time.nightly import refresh as nightly
from sel_time.nightly.refresh import JOB, finish_part, start_night
from tests.nightly.conftest import Small, create_with, weekdays


@pytest.fixture()
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # A real queue (a SQLite file) that this test drains itself, one task at a time.
    return {**app_config, "QUEUE_IMMEDIATE": False,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"}


@pytest.fixture()
def two_trusts(small: Small) -> Small:
    create = create_with()
    kch = create("organisations", code="kch", name="King's College Hospital",
                 kind="acute_trust", borough="Southwark")
    people = []
    for n, (name, email) in enumerate((("Eve Osei", "eve@nhs.net"),
                                       ("Finn Hart", "finn@nhs.net")), 1):
        person = create("people", organisation_id=kch.id, name=name, email=email,
                        profession="consultant", band=None,
                        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"))
        role = create("roles", host_organisation_id=kch.id, code=f"kch-role-{n}",
                      title=f"KCH Lead {n}", level="place", commitment_amount=1,
                      commitment_unit="session", commitment_per="week")
        create("assignments", person_id=person.id, role_id=role.id, start_date="2025-01-01")
        people.append(person)
    create("teams", code="sel-board", name="South-east London board", kind="leadership_team",
           sessions_amount=1, sessions_per="month", quorum=2, allowed_slots=["Wed/AM"],
           member_ids=[small.dev, people[0].id])
    return small


def drain(app: Flask, *, limit: int | None = None,
          until: Callable[[str], bool] | None = None) -> list[str]:
    """Run the queued tasks one at a time, as a worker with one thread would (highest priority
    first), skipping those revoked; return their names in the order run. Stops after ``limit``
    tasks, or before a task ``until`` names."""
    huey = queue.huey(app)
    ran: list[str] = []
    while limit is None or len(ran) < limit:
        task = huey.dequeue()
        if task is None:
            return ran
        if until is not None and until(task.name):
            huey.enqueue(task)
            return ran
        if huey.is_revoked(task, peek=False):  # a worker skips it (a cancel revoked it)
            continue
        ran.append(task.name)
        huey.execute(task)
    return ran


def _parts() -> list[NightPart]:
    db.session.rollback()  # a fresh read: the "worker" committed in sessions of its own
    return list(db.session.scalars(sa.select(NightPart).order_by(NightPart.wave, NightPart.id)))


def _run() -> JobRun:
    db.session.rollback()  # a fresh read: the "worker" committed in sessions of its own
    run = db.session.scalar(sa.select(JobRun).where(JobRun.job == JOB))
    assert run is not None
    return run


def _published_for(person_ids: list[int]) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(ProtectedSession.id)).where(
            ProtectedSession.status == RosterStatus.CONFIRMED,
            sa.or_(ProtectedSession.person_id.in_(person_ids),
                   ProtectedSession.team_id.is_not(None)))) or 0


def test_the_night_is_queued_one_task_per_scope_wave_after_wave_then_published_once(
        app: Flask, two_trusts: Small) -> None:
    said = start_night("cron")
    assert said.ran, said.message

    parts = _parts()
    assert [(p.scope, p.wave, p.status) for p in parts] == [
        ("team:sel-board", 0, PartStatus.QUEUED),
        ("organisation:gst", 1, PartStatus.QUEUED),
        ("organisation:kch", 1, PartStatus.QUEUED),
    ]
    run = _run()
    assert (run.status, run.parts_done, run.parts_total) == (RunStatus.RUNNING, 0, 3)
    # only the first wave is on the queue: the organisations wait for the team's draft
    pending = [(t.name, t.args) for t in queue.huey(app).pending()]
    assert pending == [("nightly.part", (parts[0].id, 1))]
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0  # the scheduler solves nothing

    ran = drain(app)  # then a feed render for the publish's transaction (one, for 3 scopes)
    assert ran == ["nightly.part", "nightly.part", "nightly.part", "nightly.publish",
                   "feeds.render"]
    run = _run()
    assert (run.status, run.parts_done, run.parts_total) == (RunStatus.SUCCEEDED, 3, 3)
    assert run.stats is not None and run.stats["skipped"] == [] and run.stats["scopes"] == 3
    assert all(p.status == PartStatus.DONE for p in _parts())
    plans = {p.scope: p.status for p in db.session.scalars(sa.select(Plan))}
    assert plans == {"team:sel-board": PlanStatus.PUBLISHED,
                     "organisation:gst": PlanStatus.PUBLISHED,
                     "organisation:kch": PlanStatus.PUBLISHED}
    # the organisations planned around the team's draft: Dev is never booked twice in a slot
    dev_slots = [s.slot for s in db.session.scalars(sa.select(ProtectedSession).where(
        ProtectedSession.status == RosterStatus.CONFIRMED))
        if two_trusts.dev in {a.person_id for a in s.attendances}]
    assert dev_slots and len(dev_slots) == len(set(dev_slots))
    publishes = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "publish", AuditEvent.actor == "scheduler"))
    assert publishes == 3  # one per scope, in the one publish

    # a publish asked for again (a duplicate task, a sweep) publishes nothing more
    from sel_time.nightly.tasks import publish_task

    publish_task.enqueue_now(run.id, run.attempts)
    assert drain(app) == ["nightly.publish"]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "publish", AuditEvent.actor == "scheduler")) == 3
    # and a part finished twice is counted once
    assert finish_part(parts[0].id, 1, PartStatus.DONE, None, {}) is False
    assert _run().parts_done == 3


def test_a_failed_part_is_said_on_the_run_and_the_other_scopes_are_published(
        app: Flask, two_trusts: Small, monkeypatch: pytest.MonkeyPatch) -> None:
    from sel_time.plans import planning

    solve = planning.run_plan

    def failing_for_kch(plan_id: int, **kwargs: Any) -> Plan:
        plan = db.session.get(Plan, plan_id)
        if plan is not None and plan.scope == "organisation:kch":
            raise RuntimeError("the solver ran out of memory")
        return solve(plan_id, **kwargs)

    monkeypatch.setattr(planning, "run_plan", failing_for_kch)
    assert start_night("cron").ran
    drain(app)

    run = _run()
    assert run.status == RunStatus.SUCCEEDED and run.parts_done == 3
    assert run.stats is not None
    assert run.stats["skipped"] == ["organisation:kch: the solver ran out of memory"]
    by_scope = {p.scope: (p.status, p.outcome) for p in _parts()}
    assert by_scope["organisation:kch"] == (
        PartStatus.FAILED, "organisation:kch: the solver ran out of memory")
    assert by_scope["organisation:gst"] == (PartStatus.DONE, None)
    assert _published_for([two_trusts.ada, two_trusts.ben]) > 0  # gst's night went live


def test_cancel_stops_a_running_night_and_nothing_of_it_is_published(
        app: Flask, client: FlaskClient, two_trusts: Small,
        login_as: Callable[..., dict[str, str]]) -> None:
    before = db.session.scalar(sa.select(sa.func.count(ProtectedSession.id)))
    assert start_night("cron").ran
    assert drain(app, limit=1) == ["nightly.part"]  # the team's: both organisations queued

    manager = login_as("rota_manager")
    [item] = client.get("/api/v1/jobs", headers=manager).get_json()["items"]
    assert (item["status"], item["parts_done"], item["parts_total"]) == ("running", 1, 3)
    assert item["progress"] == "1 of 3 parts done"
    assert [p["status"] for p in item["parts"]] == ["done", "queued", "queued"]

    leader = client.post(f"/api/v1/jobs/{item['id']}/cancel",
                         headers=login_as("leader", person_id=two_trusts.ada))
    assert leader.status_code == 403
    cancelled = client.post(f"/api/v1/jobs/{item['id']}/cancel", headers=manager)
    assert cancelled.status_code == 202, cancelled.get_json()
    body = cancelled.get_json()
    assert body["status"] == "cancelled" and "nothing of this night was published" in body["error"]
    assert [p["status"] for p in body["parts"]] == ["done", "cancelled", "cancelled"]

    assert drain(app) == []  # the organisations' parts were revoked: never started
    run = _run()
    assert run.status == RunStatus.CANCELLED and run.parts_done == 1
    assert db.session.scalar(sa.select(sa.func.count(ProtectedSession.id))) == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "cancel", AuditEvent.entity == "job_run")) == 1
    again = client.post(f"/api/v1/jobs/{item['id']}/cancel", headers=manager)
    assert again.status_code == 409 and "only a running night" in again.get_json()["detail"]


def _running_night(parts: int) -> tuple[int, list[int]]:
    """A night with ``parts`` parts, all running (their workers about to finish)."""
    run = JobRun(job=JOB, run_date=now_utc().date(), status=RunStatus.RUNNING, attempts=1,
                 holder="test", trigger="cron", started_at=now_utc(), parts_total=parts)
    db.session.add(run)
    db.session.flush()
    rows = [NightPart(run_id=run.id, scope=f"organisation:o{n}", wave=0, attempt=1,
                      status=PartStatus.RUNNING, time_limit=5.0, task_id=f"t{n}",
                      started_at=now_utc()) for n in range(parts)]
    db.session.add_all(rows)
    db.session.commit()
    return run.id, [r.id for r in rows]


@pytest.mark.parametrize("finishers", [2, 4])
def test_of_parts_finishing_at_once_exactly_one_is_last_and_one_publish_is_queued(
        app: Flask, finishers: int) -> None:
    """Threads with sessions (connections) of their own, released together: the database
    counts them one at a time (PostgreSQL: the run's row lock; SQLite: its one writer)."""
    for _ in range(3):
        run_id, part_ids = _running_night(finishers)
        start = threading.Barrier(finishers)
        lasts: list[bool] = []
        errors: list[BaseException] = []

        def finish(part_id: int) -> None:
            with app.app_context():
                try:
                    start.wait()
                    lasts.append(finish_part(part_id, 1, PartStatus.DONE, None, {}))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=finish, args=(p,)) for p in part_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert sorted(lasts) == [False] * (finishers - 1) + [True]
        db.session.rollback()
        run = db.session.get(JobRun, run_id)
        assert run is not None and run.parts_done == finishers
        publishes = [t for t in queue.huey(app).pending() if t.name == "nightly.publish"]
        assert [t.args for t in publishes] == [(run_id, 1)]
        queue.huey(app).flush()
        db.session.execute(sa.delete(JobRun).where(JobRun.id == run_id))
        db.session.commit()


def test_of_two_publishes_at_once_one_publishes(app: Flask, two_trusts: Small) -> None:
    """The publish takes the run from running to succeeded conditionally, in its transaction:
    two workers asked to publish the same night (a duplicate, a sweep) publish it once."""
    assert start_night("cron").ran
    drain(app, until=lambda name: name == "nightly.publish")
    run = _run()
    assert run.parts_done == 3 and run.status == RunStatus.RUNNING
    start = threading.Barrier(2)
    results: list[bool] = []

    def publish() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(nightly.publish_night(run.id, run.attempts))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == [False, True]
    assert _run().status == RunStatus.SUCCEEDED
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "publish", AuditEvent.actor == "scheduler")) == 3


def test_a_part_whose_worker_was_killed_is_solved_again_once_then_failed_on_the_run(
        app: Flask, two_trusts: Small) -> None:
    """The minute sweep finds a part still running past its time limit plus QUEUE_LOST_AFTER
    (its worker was SIGKILLed: nothing else would say so): queued again from the start, once;
    the second time failed with the reason and counted, so the rest of the night publishes."""
    from datetime import timedelta

    from sel_time.core.queue.recovery import sweep

    assert start_night("cron").ran
    assert drain(app, limit=1) == ["nightly.part"]  # the team's; the organisations are queued
    queue.huey(app).flush()  # kch's and gst's tasks are lost with their worker
    gst = next(p for p in _parts() if p.scope == "organisation:gst")
    kch = next(p for p in _parts() if p.scope == "organisation:kch")
    long_ago = now_utc() - timedelta(seconds=gst.time_limit + 121)
    for attempt in (1, 2):  # as if a worker took each and was killed mid-solve
        db.session.execute(sa.update(NightPart).where(NightPart.id.in_([gst.id, kch.id]))
                           .values(status=PartStatus.RUNNING, started_at=long_ago))
        db.session.commit()
        assert sweep() >= 2
        if attempt == 1:
            again = {p.scope: (p.status, p.attempt) for p in _parts()}
            assert again["organisation:gst"] == (PartStatus.QUEUED, 2)
            assert sorted(t.args for t in queue.huey(app).pending()) == sorted(
                [(gst.id, 2), (kch.id, 2)])
            queue.huey(app).flush()
    failed = {p.scope: (p.status, p.outcome) for p in _parts()}
    assert failed["organisation:gst"] == (
        PartStatus.FAILED,
        "organisation:gst: the worker solving it stopped (killed or its machine lost) twice")
    run = _run()
    assert run.parts_done == 3
    assert drain(app)[:1] == ["nightly.publish"]  # the last one counted queued the publish
    run = _run()
    assert run.status == RunStatus.SUCCEEDED and len(run.stats["skipped"]) == 2
    assert {p.status for p in db.session.scalars(sa.select(Plan))} <= {
        PlanStatus.PUBLISHED, PlanStatus.FAILED}

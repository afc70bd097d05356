"""When the refresh runs: the cron trigger at 02:00 Europe/London fires once a night, clock
changes included; a missed night is caught up once when the scheduler starts; a night runs
once however often it is asked. All under a controlled clock."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from sel_time.core.clock import LONDON, UTC
from sel_time.core.extensions import db
from sel_time.models import JobRun, RunStatus
from sel_time.nightly.refresh import JOB, refresh
from sel_time.nightly.scheduler import catch_up_needed, make_trigger, run_scheduler
from tests.jobs.conftest import Small, london, night


def fire_times(first: date, last: date) -> list[datetime]:
    """Every time the trigger fires from midnight before ``first`` to the end of ``last``,
    asking it the way APScheduler does: the next fire time after the previous one, now."""
    trigger = make_trigger()
    now = datetime.combine(first, datetime.min.time()).replace(tzinfo=LONDON)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time()).replace(tzinfo=LONDON)
    out: list[datetime] = []
    previous = None
    while True:
        with time_machine.travel(now, tick=False):
            fire = trigger.get_next_fire_time(previous, datetime.now(LONDON))
        if fire is None or fire >= end:
            return out
        out.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)  # the job ran; the clock moved on


@pytest.mark.parametrize(
    "change, gap_hours",
    [(date(2027, 3, 28), 23), (date(2027, 10, 31), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_the_trigger_fires_once_at_2am_on_the_night_of_a_clock_change(
    change: date, gap_hours: int
) -> None:
    fires = fire_times(change - timedelta(days=3), change + timedelta(days=3))
    per_night = Counter(f.astimezone(LONDON).date() for f in fires)
    assert per_night == {change + timedelta(days=d): 1 for d in range(-3, 4)}, fires
    assert {f.astimezone(LONDON).strftime("%H:%M") for f in fires} == {"02:00"}
    utc = [f.astimezone(UTC) for f in fires]
    gaps = [(b - a) / timedelta(hours=1) for a, b in zip(utc, utc[1:])]
    # ordinary nights are 24 hours apart; the night of the change is an hour shorter or longer
    assert gaps == [24, 24, gap_hours, 24, 24, 24]
    assert utc[3] == london(change)
    assert utc[3].hour == (1 if gap_hours == 23 else 2)  # 02:00 BST, or 02:00 GMT after the repeat


def test_the_trigger_fires_once_a_night_all_year() -> None:
    fires = fire_times(date(2027, 1, 1), date(2027, 12, 31))
    assert len(fires) == 365
    assert len({f.astimezone(LONDON).date() for f in fires}) == 365
    assert {f.astimezone(LONDON).time().isoformat() for f in fires} == {"02:00:00"}


def _record(day: date, status: RunStatus) -> None:
    db.session.add(
        JobRun(
            job=JOB,
            run_date=day,
            status=status,
            attempts=1,
            holder="test:1",
            trigger="cron",
            started_at=night(day),
            finished_at=night(day),
        )
    )
    db.session.commit()


def test_catch_up_is_needed_when_last_nights_run_is_missing_or_failed(app: Flask) -> None:
    monday = date(2027, 3, 29)
    at_nine = london(monday, datetime.min.time().replace(hour=9))
    assert catch_up_needed(at_nine)  # nothing has ever run
    _record(monday - timedelta(days=1), RunStatus.SUCCEEDED)
    assert catch_up_needed(at_nine)  # Sunday's ran, Monday 02:00 has passed without a run
    # before 02:00 the night that counts is the previous one
    assert not catch_up_needed(london(monday, datetime.min.time().replace(hour=1, minute=59)))
    _record(monday, RunStatus.FAILED)
    assert catch_up_needed(at_nine)
    db.session.execute(
        sa.update(JobRun).where(JobRun.run_date == monday).values(status=RunStatus.SUCCEEDED)
    )
    db.session.commit()
    assert not catch_up_needed(at_nine)
    assert not catch_up_needed(london(monday, datetime.min.time().replace(hour=23, minute=59)))
    # on the clock-change nights 02:00 local is the boundary, in either direction
    db.session.execute(sa.delete(JobRun))
    _record(date(2027, 3, 27), RunStatus.SUCCEEDED)
    assert catch_up_needed(london(date(2027, 3, 28), datetime.min.time().replace(hour=3)))
    assert not catch_up_needed(
        london(date(2027, 3, 28), datetime.min.time().replace(hour=0, minute=59))
    )
    _record(date(2027, 10, 30), RunStatus.SUCCEEDED)
    repeated_hour = datetime(
        2027, 10, 31, 1, 30, fold=1, tzinfo=LONDON
    )  # 01:30 GMT, after the repeat
    assert not catch_up_needed(repeated_hour.astimezone(UTC))
    assert catch_up_needed(datetime(2027, 10, 31, 2, 0, tzinfo=UTC))


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = predicate()
        db.session.rollback()  # hold no read open while the job writes (SQLite)
        if done:
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _runs() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(JobRun).order_by(JobRun.id)))


def test_starting_the_scheduler_after_a_missed_night_catches_up_exactly_once(
    app: Flask, small: Small
) -> None:
    monday_morning = london(date(2027, 3, 29), datetime.min.time().replace(hour=7, minute=30))
    _record(date(2027, 3, 28), RunStatus.SUCCEEDED)  # Sunday's ran; Monday 02:00 was missed
    with time_machine.travel(monday_morning, tick=True):
        sched = run_scheduler(app, block=False)
        try:
            job = sched.get_job(JOB)
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time >= 3600  # hours, not APScheduler's 1 s default
            assert job.trigger.timezone == LONDON
            assert job.next_run_time == datetime(2027, 3, 30, 2, 0, tzinfo=LONDON)
            _wait_for(
                lambda: any(
                    r.status != RunStatus.RUNNING
                    for r in _runs()
                    if r.run_date == date(2027, 3, 29)
                )
            )
        finally:
            sched.shutdown(wait=True)
        runs = _runs()
        assert [(r.run_date, r.trigger, r.status) for r in runs] == [
            (date(2027, 3, 28), "cron", RunStatus.SUCCEEDED),
            (date(2027, 3, 29), "catch-up", RunStatus.SUCCEEDED),
        ], runs[-1].error
        # started again the same morning: nothing is missing, so nothing runs
        sched = run_scheduler(app, block=False)
        try:
            assert sched.get_job(f"{JOB}-catch-up") is None
            time.sleep(1.0)
        finally:
            sched.shutdown(wait=True)
        assert len(_runs()) == 2


def test_a_second_refresh_for_the_same_night_says_it_already_ran(app: Flask, small: Small) -> None:
    first = refresh("cron", now=night(date(2027, 3, 1)))
    assert first.ran and first.run_id is not None, first.message
    later = night(date(2027, 3, 1)) + timedelta(hours=5)
    second = refresh("manual", now=later)
    assert not second.ran
    assert "already ran" in second.message and str(first.run_id) in second.message
    runs = _runs()
    assert len(runs) == 1 and runs[0].attempts == 1 and runs[0].status == RunStatus.SUCCEEDED
    # --force runs it again on the same record
    forced = refresh("manual", now=later, force=True)
    assert forced.ran and forced.run_id == first.run_id
    assert [r.attempts for r in _runs()] == [2]

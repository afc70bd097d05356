"""``sel-time plan`` queues its solve for a worker (as the API does) and follows it with a
progress bar; Ctrl-C asks for the run to be cancelled and says so; ``--here`` solves in this
process. ``sel-time cancel plan ID`` / ``sel-time cancel whatif ID`` do what the API's
``.../cancel`` does, and say in words why an unknown or finished run cannot be cancelled.

These tests run with a real queue (a SQLite file) and no worker, so nothing queued runs unless
a test says so."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.models import AuditEvent, Plan, PlanStatus, WhatIfRun, WhatIfStatus
from sel_time.plans import commands as plan_commands
from sel_time.plans import tasks as plan_tasks
from sel_time.plans.planning import request_plan
from tests.finance.test_whatif_runs import BODY
from tests.plans.conftest import START, WEEKS, Small
from tests.support.processes import process_env
from tests.support.workers import SEL_TIME, wait_for, workers


@pytest.fixture()
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "QUEUE_IMMEDIATE": False,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"}


def _plan_args(*extra: str) -> list[str]:
    return ["sel-time", "plan", "--start", START.isoformat(), "--weeks", str(WEEKS),
            "--time-limit", "5", *extra]


def _queued_plan() -> int:
    plan = request_plan(START, WEEKS, "system", 5, CLI_ACTOR)
    db.session.commit()
    return plan.id


def _plan(plan_id: int) -> Plan:
    db.session.rollback()
    plan = db.session.get(Plan, plan_id)
    assert plan is not None
    return plan


# -- sel-time plan --------------------------------------------------------------------------


def test_plan_here_solves_in_this_process_and_publishes(
    app: Flask, small: Small, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=_plan_args("--here", "--publish"))
    assert result.exit_code == 0, result.output
    plan = _plan(int(result.stdout.strip()))
    assert plan.status == PlanStatus.PUBLISHED
    assert "published" in result.stderr
    # no solve was left for a worker (a worker may still keep finance's figures for the write)
    from sel_time.core.queue.engine import queue
    assert [t.name for t in queue.huey(app).pending() if "solve" in t.name] == []


def test_plan_here_says_so_when_its_solve_stops_without_an_outcome(
    app: Flask, small: Small, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ends_early(plan_id: int, attempt: int) -> None:
        """A solve that ends, leaving its plan queued (as if its thread died)."""

    monkeypatch.setattr(plan_tasks, "solve", ends_early)
    result = runner.invoke(args=_plan_args("--here"))
    assert result.exit_code == 1, result.output
    assert "stopped without recording an outcome" in result.stderr


def test_plan_queues_the_solve_and_ctrl_c_cancels_it(
    app: Flask, small: Small, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker is running: the plan waits in the queue, the command says no worker seems to
    be running, and Ctrl-C cancels the queued solve (audited) and exits non-zero."""
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(plan_commands, "NO_WORKER_HINT_AFTER", 0.0)
    monkeypatch.setattr(plan_commands, "_pause", wait)
    result = runner.invoke(args=_plan_args())
    assert result.exit_code == 1, result.output
    assert "still waiting for a worker" in result.stderr
    assert "sel-time plan --here" in result.stderr
    assert "Ctrl-C: cancelling plan" in result.stderr
    assert "was cancelled" in result.stderr
    plan = db.session.scalar(sa.select(Plan).order_by(Plan.id.desc()))
    assert plan is not None and plan.status == PlanStatus.CANCELLED
    assert plan.task_id is not None  # it was queued, not solved here
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "cancel", AuditEvent.entity_id == str(plan.id))) is not None


@pytest.mark.slow
def test_plan_is_solved_by_a_worker_and_followed_to_its_end(
    app: Flask, small: Small, tmp_path: Path
) -> None:
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    queue_url = app.config["QUEUE_URL"]
    db.session.remove()
    with workers(database_url, queue_url, log_dir=tmp_path):
        done = subprocess.run(
            [SEL_TIME, *_plan_args("--publish", "--json")[1:]],
            env=process_env(DATABASE_URL=database_url, SEL_TIME_QUEUE_URL=queue_url,
                            SEL_TIME_SOLVER_WORKERS="1"),
            capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    import json

    summary = json.loads(done.stdout)
    assert summary["status"] == "published"
    plan = _plan(summary["id"])
    assert plan.task_id is not None and plan.requested_by == "cli"


@pytest.mark.slow
def test_ctrl_c_on_a_real_plan_command_cancels_its_run(
    app: Flask, small: Small, tmp_path: Path
) -> None:
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    proc = subprocess.Popen(
        [SEL_TIME, *_plan_args()[1:]],
        env=process_env(DATABASE_URL=database_url, SEL_TIME_QUEUE_URL=app.config["QUEUE_URL"]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal, even when these tests run in the background (SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        queued = wait_for(lambda: _newest_status() == PlanStatus.QUEUED, timeout=60)
        assert queued, "the command queued no plan"
        time.sleep(0.5)  # past the commit, into the loop that follows it
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    assert "Ctrl-C: cancelling plan" in err and "was cancelled" in err
    assert _newest_status() == PlanStatus.CANCELLED


def _newest_status() -> PlanStatus | None:
    db.session.rollback()
    return db.session.scalar(sa.select(Plan.status).order_by(Plan.id.desc()))


# -- sel-time cancel plan -------------------------------------------------------------------


def test_cancel_plan_cancels_a_queued_plan_and_audits_it(
    app: Flask, small: Small, runner: FlaskCliRunner
) -> None:
    plan_id = _queued_plan()
    result = runner.invoke(args=["sel-time", "cancel", "plan", str(plan_id)])
    assert result.exit_code == 0, result.output
    assert f"plan {plan_id}: cancelled before it started" in result.output
    assert _plan(plan_id).status == PlanStatus.CANCELLED
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "cancel", AuditEvent.entity_id == str(plan_id))) is not None


def test_cancel_plan_asks_a_running_solve_to_stop(
    app: Flask, small: Small, runner: FlaskCliRunner
) -> None:
    plan_id = _queued_plan()
    plan = _plan(plan_id)
    plan.status = PlanStatus.RUNNING
    plan.started_at = now_utc()
    db.session.commit()
    result = runner.invoke(args=["sel-time", "cancel", "plan", str(plan_id)])
    assert result.exit_code == 0, result.output
    assert "cancelling" in result.output
    plan = _plan(plan_id)
    assert plan.cancel_requested and plan.status == PlanStatus.RUNNING  # its worker stops it


def test_cancel_plan_refuses_an_unknown_id_in_words(
    app: Flask, small: Small, runner: FlaskCliRunner
) -> None:
    for ident in ("99999", "x7"):
        result = runner.invoke(args=["sel-time", "cancel", "plan", ident])
        assert result.exit_code == 2, result.output
        assert f"No plan {ident}" in result.stderr


def test_cancel_plan_refuses_a_finished_solve_and_changes_nothing(
    app: Flask, small: Small, runner: FlaskCliRunner, solve_plan: Callable[..., Plan]
) -> None:
    plan_id = solve_plan().id
    result = runner.invoke(args=["sel-time", "cancel", "plan", str(plan_id)])
    assert result.exit_code == 2, result.output
    assert f"Plan {plan_id} is draft: its solve has ended, so there is nothing to cancel" in (
        result.stderr)
    assert _plan(plan_id).status == PlanStatus.DRAFT
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cancel")) is None


# -- sel-time cancel whatif -----------------------------------------------------------------


def _whatif(status: WhatIfStatus) -> int:
    row = WhatIfRun(status=status, request=BODY, progress=0.0, requested_by="someone",
                    created_at=now_utc())
    db.session.add(row)
    db.session.commit()
    return row.id


def test_cancel_whatif_cancels_a_queued_run_and_asks_a_running_one_to_stop(
    app: Flask, runner: FlaskCliRunner
) -> None:
    queued, running = _whatif(WhatIfStatus.QUEUED), _whatif(WhatIfStatus.RUNNING)
    result = runner.invoke(args=["sel-time", "cancel", "whatif", str(queued)])
    assert result.exit_code == 0, result.output
    assert f"what-if {queued}: cancelled before it started" in result.output
    result = runner.invoke(args=["sel-time", "cancel", "whatif", str(running)])
    assert result.exit_code == 0, result.output
    assert f"what-if {running}: cancelling" in result.output
    db.session.rollback()
    rows = {r.id: r for r in db.session.scalars(sa.select(WhatIfRun))}
    assert rows[queued].status == WhatIfStatus.CANCELLED
    assert rows[running].status == WhatIfStatus.RUNNING and rows[running].cancel_requested
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "cancel", AuditEvent.entity == "whatif_runs")) == 2


def test_cancel_whatif_refuses_unknown_and_finished_runs_in_words(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["sel-time", "cancel", "whatif", "4242"])
    assert result.exit_code == 2 and "No what-if run 4242" in result.stderr
    done = _whatif(WhatIfStatus.DONE)
    result = runner.invoke(args=["sel-time", "cancel", "whatif", str(done)])
    assert result.exit_code == 2, result.output
    assert f"What-if {done} is done: it has ended, so there is nothing to cancel" in (
        result.stderr)

"""Plans through the API and the CLI: asking for a plan, following its progress, one solve
at a time per scope, who may do what, and the commands a rota manager scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

import solver
from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import now_utc
from sel_time.core.errors import Conflict
from sel_time.core.extensions import db
from sel_time.core.queue.recovery import sweep
from sel_time.models import AuditEvent, Plan, PlanStatus, ProtectedSession
from sel_time.plans.planning import request_plan
from sel_time.plans.tasks import queue_solve
from tests.plans.conftest import START, Small

REQUEST = {"start": START.isoformat(), "weeks": 2, "scope": "system", "time_limit": 5}


def test_post_plan_returns_202_with_progress(
    small: Small, client: FlaskClient, rota: dict[str, str]
) -> None:
    r = client.post("/api/v1/plans", json=REQUEST, headers=rota)
    assert r.status_code == 202, r.get_data(as_text=True)
    body = r.get_json()
    for key in ("id", "status", "progress", "progress_message", "solver_status", "time_limit"):
        assert key in body
    assert r.headers["Location"].endswith(f"/api/v1/plans/{body['id']}")
    assert body["status"] == "draft" and body["progress"] == 1.0 and body["time_limit"] == 5
    shown = client.get(f"/api/v1/plans/{body['id']}", headers=rota).get_json()
    assert shown["status"] == "draft" and shown["solver_status"] in ("optimal", "feasible")
    assert shown["sessions"] == 5 and shown["team_sessions"] == 1
    assert shown["shortfalls"] == 2 and shown["requested_by"].startswith("rota_manager")
    problem = client.get(f"/api/v1/plans/{body['id']}/problem", headers=rota).get_json()
    solution = client.get(f"/api/v1/plans/{body['id']}/solution", headers=rota).get_json()
    assert solver.check(solver.parse_problem(problem), solution).ok
    reasons = client.get(f"/api/v1/plans/{body['id']}/shortfalls", headers=rota).get_json()["items"]
    assert {(x["person"], x["reason"]) for x in reasons if x["person"]} == {
        ("Cara Mensah", "unavailable")
    }
    listed = client.get("/api/v1/plans", headers=rota).get_json()["items"]
    assert [p["id"] for p in listed] == [body["id"]]


def test_plan_request_is_validated(small: Small, client: FlaskClient, rota: dict[str, str]) -> None:
    r = client.post("/api/v1/plans", json={**REQUEST, "start": "2027-04-27"}, headers=rota)
    assert r.status_code == 422
    assert "start" in {e["field"] for e in r.get_json()["errors"]}
    r = client.post("/api/v1/plans", json={**REQUEST, "scope": "ward:9"}, headers=rota)
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0


def test_the_background_solve_reports_progress_until_draft(
    app: Flask, small: Small, client: FlaskClient, rota: dict[str, str]
) -> None:
    r = client.post("/api/v1/plans", json=REQUEST, headers=rota)
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] in ("queued", "running", "draft")
    seen = set()
    deadline = time.monotonic() + 60
    while True:
        shown = client.get(f"/api/v1/plans/{body['id']}", headers=rota).get_json()
        seen.add(shown["status"])
        assert 0.0 <= shown["progress"] <= 1.0 and shown["progress_message"]
        if shown["status"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    assert shown["status"] == "draft", shown
    assert shown["progress"] == 1.0 and shown["sessions"] == 5
    # The scope is free again.
    assert db.session.get(Plan, body["id"]).active_scope is None


def test_a_second_solve_for_the_same_scope_gets_409_naming_the_running_plan(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    draft = solve_plan()
    running = request_plan(START, 2, "system", 5, CLI_ACTOR)
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        request_plan(START, 2, "system", 5, CLI_ACTOR)
    assert f"Plan {running.id}" in str(exc.value)
    db.session.rollback()
    running.status = PlanStatus.RUNNING
    db.session.commit()
    r = client.post("/api/v1/plans", json=REQUEST, headers=rota)
    assert r.status_code == 409
    assert f"Plan {running.id} is already solving" in r.get_json()["detail"]
    # Nor can a draft of the same scope be re-solved meanwhile.
    r = client.post(f"/api/v1/plans/{draft.id}/resolve", json={}, headers=rota)
    assert r.status_code == 409
    assert f"Plan {running.id} is already solving" in r.get_json()["detail"]
    assert db.session.get(Plan, draft.id).status == PlanStatus.DRAFT
    # Another scope is not blocked.
    r = client.post("/api/v1/plans", json={**REQUEST, "scope": "team:kch-lt"}, headers=rota)
    assert r.status_code == 202, r.get_data(as_text=True)


def _lost(plan: Plan, seconds_ago: float) -> None:
    plan.status = PlanStatus.RUNNING
    plan.started_at = now_utc() - timedelta(seconds=seconds_ago)
    db.session.commit()


def test_a_plan_whose_worker_was_lost_is_solved_again_once_then_failed_with_the_reason(
    app: Flask, small: Small, client: FlaskClient, rota: dict[str, str]
) -> None:
    app.config["QUEUE_LOST_AFTER"] = 60
    lost = request_plan(START, 2, "system", 5, CLI_ACTOR)
    queue_solve(lost)  # its worker never ran it: in tests the queue runs at commit, so
    lost.status = PlanStatus.RUNNING  # mark it taken before the commit, as a killed worker
    lost.started_at = now_utc() - timedelta(seconds=30)  # within 5 s + 60 s: not lost yet
    db.session.commit()
    assert sweep() == 0
    assert client.post("/api/v1/plans", json=REQUEST, headers=rota).status_code == 409
    _lost(lost, 66)  # past its time limit and the grace: lost, queued again and solved
    assert sweep() == 1
    db.session.expire_all()
    again = db.session.get(Plan, lost.id)
    assert again.status == PlanStatus.DRAFT and again.attempt == 2 and again.active_scope is None
    # A second loss: failed, saying why, and the scope is free.
    again.active_scope = again.scope
    _lost(again, 66)
    assert sweep() == 1
    db.session.expire_all()
    failed = db.session.get(Plan, lost.id)
    assert failed.status == PlanStatus.DRAFT  # it had a draft: kept as it was
    assert "stopped (killed or its machine lost) twice" in failed.error
    assert failed.active_scope is None
    assert client.post("/api/v1/plans", json=REQUEST, headers=rota).status_code == 202


def test_a_new_plan_lost_twice_is_failed(small: Small, app: Flask) -> None:
    app.config["QUEUE_LOST_AFTER"] = 0
    plan = request_plan(START, 2, "system", 5, CLI_ACTOR)
    plan.attempt = 2
    _lost(plan, 10)
    assert sweep() == 1
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    assert plan.status == PlanStatus.FAILED and "please plan again" in plan.error


def test_cancelling_a_queued_plan_frees_its_scope_and_is_audited(
    small: Small, client: FlaskClient, rota: dict[str, str]
) -> None:
    queued = request_plan(START, 2, "system", 5, CLI_ACTOR)
    db.session.commit()
    r = client.post(f"/api/v1/plans/{queued.id}/cancel", headers=rota)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert r.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/plans/{queued.id}/cancel", headers=rota)
    assert again.status_code == 409 and "cancelled" in again.get_json()["detail"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cancel"))
    assert event is not None and event.entity_id == str(queued.id)
    assert client.post("/api/v1/plans", json=REQUEST, headers=rota).status_code == 202


def test_cancelling_a_running_solve_asks_its_worker_to_stop(
    small: Small, client: FlaskClient, rota: dict[str, str]
) -> None:
    running = request_plan(START, 2, "system", 5, CLI_ACTOR)
    running.status = PlanStatus.RUNNING
    db.session.commit()
    r = client.post(f"/api/v1/plans/{running.id}/cancel", headers=rota)
    assert r.status_code == 202 and r.get_json()["progress_message"] == "Cancelling"
    db.session.expire_all()
    assert db.session.get(Plan, running.id).cancel_requested


def test_a_plan_that_cannot_be_built_fails_with_a_reason(
    small: Small, make: Callable[..., Any], client: FlaskClient, rota: dict[str, str]
) -> None:
    dee = make("people", organisation_id=small.org, name="Dee Social", profession="social_worker")
    make("assignments", person_id=dee.id, role_id=small.cara_role, start_date="2027-01-01")
    r = client.post("/api/v1/plans", json=REQUEST, headers=rota)
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] == "failed"
    assert "social_worker" in body["error"] and "Dee Social" in body["error"]
    assert (
        client.post("/api/v1/plans", json=REQUEST, headers=rota).status_code == 202
    )  # scope freed


def test_leaders_and_finance_cannot_plan_or_publish(
    small: Small, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    leader, finance = login_as("leader", small.ada), login_as("finance")
    for headers in (leader, finance):
        assert client.post("/api/v1/plans", json=REQUEST, headers=headers).status_code == 403
    assert client.get("/api/v1/plans", headers=finance).status_code == 200
    assert client.get("/api/v1/plans", headers=leader).status_code == 403
    assert client.post("/api/v1/plans", json=REQUEST).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(Plan.id))) == 0


def test_published_is_an_alias_for_the_live_plan(
    small: Small, client: FlaskClient, rota: dict[str, str], export_and_check: Callable[[str], Any]
) -> None:
    assert client.get("/api/v1/plans/published", headers=rota).status_code == 404
    plan_id = client.post("/api/v1/plans", json=REQUEST, headers=rota).get_json()["id"]
    assert client.post("/api/v1/plans/published/publish", headers=rota).status_code == 404
    assert client.post(f"/api/v1/plans/{plan_id}/publish", headers=rota).status_code == 200
    shown = client.get("/api/v1/plans/published", headers=rota).get_json()
    assert shown["id"] == plan_id and shown["status"] == "published"
    assert (
        len(client.get("/api/v1/plans/published/sessions", headers=rota).get_json()["items"]) == 6
    )
    export_and_check("published")


def test_resolving_keeps_pins(small: Small, client: FlaskClient, rota: dict[str, str]) -> None:
    plan_id = client.post("/api/v1/plans", json=REQUEST, headers=rota).get_json()["id"]
    items = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    cara = next(s for s in items if s["person_id"] == small.cara)
    target = "2027-04-26/AM" if cara["slot"] != "2027-04-26/AM" else "2027-04-27/AM"
    assert (
        client.patch(
            f"/api/v1/plans/{plan_id}/sessions/{cara['id']}", json={"slot": target}, headers=rota
        ).status_code
        == 200
    )
    r = client.post(f"/api/v1/plans/{plan_id}/resolve", json={"time_limit": 5}, headers=rota)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert r.get_json()["status"] == "draft" and r.get_json()["edits"] == 0
    items = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    again = [s for s in items if s["person_id"] == small.cara]
    assert [(s["slot"], s["pinned"]) for s in again] == [(target, True)]
    assert client.get(f"/api/v1/plans/{plan_id}/problem", headers=rota).get_json()["pinned"] == [
        {"person": f"p{small.cara}", "commitment": f"a{small.cara_assignment}", "slot": target}
    ]


# -- the command line ---------------------------------------------------------------------------


def test_cli_plan_prints_a_json_summary(small: Small, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "sel-time",
            "plan",
            "--start",
            START.isoformat(),
            "--weeks",
            "2",
            "--time-limit",
            "5",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "draft" and summary["weeks"] == 2 and summary["sessions"] == 5
    assert summary["requested_by"] == "cli" and "publish" not in summary
    assert db.session.scalar(sa.select(sa.func.count(ProtectedSession.id))) == 0


def test_cli_plan_publish_and_list(small: Small, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "sel-time",
            "plan",
            "--start",
            START.isoformat(),
            "--weeks",
            "2",
            "--time-limit",
            "5",
            "--publish",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "published" and summary["publish"]["added"] == 6
    assert db.session.scalar(sa.select(sa.func.count(ProtectedSession.id))) == 6
    again = runner.invoke(args=["sel-time", "publish", str(summary["id"])])
    assert again.exit_code == 0 and "already published" in again.output
    listed = runner.invoke(args=["sel-time", "plans"])
    assert listed.exit_code == 0
    assert str(summary["id"]) in listed.output and "published" in listed.output
    plain = runner.invoke(
        args=["sel-time", "plan", "--start", START.isoformat(), "--weeks", "1", "--time-limit", "5"]
    )
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.strip().isdigit()


def test_cli_refuses_a_horizon_not_starting_on_a_monday(
    small: Small, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["sel-time", "plan", "--start", "2027-04-27", "--weeks", "2"])
    assert result.exit_code == 2
    assert "Monday" in result.output


def test_cli_export_problem_writes_a_valid_problem(
    small: Small, runner: FlaskCliRunner, tmp_path: Any
) -> None:
    out = tmp_path / "problem.json"
    result = runner.invoke(
        args=[
            "sel-time",
            "export-problem",
            "--start",
            START.isoformat(),
            "--weeks",
            "2",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    problem = json.loads(out.read_text())
    parsed = solver.parse_problem(problem)
    assert len(parsed.slots) == 18 and len(problem["commitments"]) == 3
    solution = solver.solution_to_dict(
        solver.solve(parsed, solver.SolveOptions(time_limit=5, workers=1, seed=0))
    )
    assert solver.check(parsed, solution).ok


def test_a_resolve_that_finds_no_plan_keeps_the_draft(
    small: Small,
    make: Callable[..., Any],
    client: FlaskClient,
    rota: dict[str, str],
    export_and_check: Callable[[str], Any],
) -> None:
    plan_id = client.post("/api/v1/plans", json=REQUEST, headers=rota).get_json()["id"]
    before = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    cara = next(s for s in before if s["person_id"] == small.cara)
    r = client.patch(
        f"/api/v1/plans/{plan_id}/sessions/{cara['id']}", json={"pinned": True}, headers=rota
    )
    assert r.status_code == 200
    # Cara then books leave on the day of her pinned session: the pin can no longer hold.
    make(
        "absences",
        person_id=small.cara,
        kind="annual",
        start_date=cara["slot"][:10],
        end_date=cara["slot"][:10],
    )
    r = client.post(f"/api/v1/plans/{plan_id}/resolve", json={"time_limit": 5}, headers=rota)
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] == "draft" and body["edits"] == 1
    assert any("Cara Mensah" in c and "pinned" in c for c in body["conflicts"])
    assert "draft is unchanged" in body["error"]
    after = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    assert [(s["slot"], s["person_id"], s["team_id"]) for s in after] == [
        (s["slot"], s["person_id"], s["team_id"]) for s in before
    ]
    export_and_check(str(plan_id))  # still consistent with the problem it was made from
    # The manager unpins it and re-solves: a plan again, around the new leave.
    assert (
        client.patch(
            f"/api/v1/plans/{plan_id}/sessions/{cara['id']}", json={"pinned": False}, headers=rota
        ).status_code
        == 200
    )
    body = client.post(
        f"/api/v1/plans/{plan_id}/resolve", json={"time_limit": 5}, headers=rota
    ).get_json()
    assert body["status"] == "draft" and body["conflicts"] == [] and body["error"] is None
    assert body["edits"] == 0
    slots = [
        s["slot"]
        for s in client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
        if s["person_id"] == small.cara
    ]
    assert cara["slot"] not in slots


def test_a_resolve_that_fails_keeps_the_draft(
    small: Small, make: Callable[..., Any], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan_id = client.post("/api/v1/plans", json=REQUEST, headers=rota).get_json()["id"]
    before = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    problem = client.get(f"/api/v1/plans/{plan_id}/problem", headers=rota).get_json()
    # Someone adds a leader whose staff group has no rate: the problem cannot be built.
    dee = make("people", organisation_id=small.org, name="Dee Social", profession="social_worker")
    make("assignments", person_id=dee.id, role_id=small.cara_role, start_date="2027-01-01")
    body = client.post(f"/api/v1/plans/{plan_id}/resolve", json={}, headers=rota).get_json()
    assert body["status"] == "draft"
    assert "draft is unchanged" in body["error"] and "social_worker" in body["error"]
    after = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=rota).get_json()["items"]
    assert after == before
    assert client.get(f"/api/v1/plans/{plan_id}/problem", headers=rota).get_json() == problem
    assert client.post(f"/api/v1/plans/{plan_id}/publish", headers=rota).status_code == 200

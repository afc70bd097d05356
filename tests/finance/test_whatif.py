"""What-if on the demo: a finance user describes a change, sel-time plans it with the solver in
a sandbox next to a baseline and reports the cost delta; the published roster and the
directory are exactly as they were, row for row, column for column."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.demo import DEFAULT_START, load_demo
from sel_time.models import Attendance, PlanStatus, ProtectedSession, RateCardEntry
from sel_time.plans.planning import request_plan, run_plan
from sel_time.plans.publishing import publish

PROBLEM = "application/problem+json"
START = DEFAULT_START.isoformat()  # Monday 30 November 2026
# Sign-in bookkeeping (a token's last use) is not part of the roster or the directory, and a
# what-if records itself as a run, audited (tests/finance/test_whatif_runs.py checks those rows).
NOT_COMPARED = {"app_user", "api_token", "whatif_run"}


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, every column, in primary-key order."""
    db.session.expire_all()
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in NOT_COMPARED:
            continue
        query = sa.select(table).order_by(*table.primary_key.columns)
        if table.name == "audit_event":  # asking for a what-if is audited; nothing else may be
            query = query.where(table.c.entity != "whatif_runs")
        rows = db.session.execute(query).all()
        out[table.name] = [tuple(r) for r in rows]
    db.session.rollback()
    return out


@pytest.fixture()
def demo(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """The demo, with two weeks planned and published; returns the dump of every table."""
    load_demo(db.session, start=DEFAULT_START)
    db.session.commit()
    plan = request_plan(DEFAULT_START, 2, "system", 5, CLI_ACTOR)
    db.session.commit()
    plan = run_plan(plan.id)
    assert plan.status == PlanStatus.DRAFT, (plan.error, plan.conflicts)
    publish(plan.id, CLI_ACTOR, now=datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    db.session.commit()
    before = dump()
    assert len(before["protected_session"]) > 100 and len(before["attendance"]) > 100
    return before


def post(client: FlaskClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/costs/whatif", json=body, headers=headers)


def finished(client: FlaskClient, headers: dict[str, str], r: Any) -> dict[str, Any]:
    """The result of a what-if queued with 202 (run in the request under PLAN_SYNCHRONOUS),
    read back from the run it names, which agrees with the 202's body."""
    assert r.status_code == 202, r.get_data(as_text=True)
    run = client.get(r.headers["Location"], headers=headers)
    assert run.status_code == 200, run.get_data(as_text=True)
    body = run.get_json()
    assert body["status"] == "done" and body["progress"] == 1.0 and body["error"] is None, body
    assert body == r.get_json()
    return body["result"]


@pytest.mark.slow
def test_a_what_if_on_the_demo_reports_a_delta_and_leaves_everything_as_it_was(
    demo: dict[str, list[tuple[Any, ...]]],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    finance_user = login_as("finance")
    before = dump()
    published = sum(
        a.cost_pence
        for a in db.session.scalars(
            sa.select(Attendance)
            .join(ProtectedSession)
            .where(ProtectedSession.status == "confirmed")
        )
    )
    rates = db.session.scalar(sa.select(sa.func.count(RateCardEntry.id)))
    db.session.rollback()

    # Every band 7+ nurse leader gets one session a fortnight, and rates rise 4 %.
    r = post(
        client,
        finance_user,
        {
            "start": START,
            "weeks": 2,
            "time_limit": 5,
            "rate_change_percent": 4,
            "new_entitlements": [
                {
                    "people": {"profession": "nurse", "min_band": "7"},
                    "amount": 1,
                    "per": "fortnight",
                }
            ],
        },
    )
    out = finished(client, finance_user, r)
    base, scen = out["baseline"], out["scenario"]
    assert out["changes"]["rates"] == rates and out["changes"]["people"] > 0
    assert base["status"] in ("optimal", "feasible") and scen["status"] in ("optimal", "feasible")
    # The baseline is the plan as published (nothing has changed since).
    assert base["backfill_cost"] == pytest.approx(published / 100, abs=0.01)
    delta = out["delta"]["backfill_cost"]
    assert delta == pytest.approx(scen["backfill_cost"] - base["backfill_cost"], abs=0.01)
    assert out["delta"]["backfill_cost"] > 0 and out["delta"]["sessions"] > 0
    assert out["annualised_delta"] == pytest.approx(out["delta"]["backfill_cost"] * 26, abs=0.01)
    # The same sessions at 4 % more, and more sessions besides (each rate rounded to the penny).
    assert scen["backfill_cost"] >= base["backfill_cost"] * 1.04 - 0.05 * base["sessions"]
    assert dump() == before

    # Rates alone: the same plan, 4 % dearer (the solver may trade a little cost for fairness).
    r = post(
        client,
        finance_user,
        {"start": START, "weeks": 2, "time_limit": 5, "rate_change_percent": 4},
    )
    out = finished(client, finance_user, r)
    expected = out["baseline"]["backfill_cost"] * 1.04
    assert out["scenario"]["backfill_cost"] == pytest.approx(expected, rel=0.01)
    # The same sessions priced at the new rates: 4 % more, to within each hourly rate's rounding
    # to the penny (half a penny an hour, at most 2p a 4-hour session).
    same = out["baseline_at_new_rates"]
    assert abs(same["backfill_cost"] - expected) <= 0.02 * out["baseline"]["sessions"] + 0.005
    assert same["delta"] == pytest.approx(
        same["backfill_cost"] - out["baseline"]["backfill_cost"], abs=0.005
    )
    assert out["delta"]["backfill_cost"] > 0
    assert dump() == before


@pytest.mark.slow
def test_a_what_if_that_cannot_run_names_the_field_and_changes_nothing(
    demo: dict[str, list[tuple[Any, ...]]],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    finance_user = login_as("finance")
    before = dump()

    def refused(body: dict[str, Any], field: str, status: int = 422) -> None:
        r = post(client, finance_user, {"start": START, "weeks": 2, "time_limit": 5, **body})
        text = r.get_data(as_text=True)
        assert r.status_code == status and r.mimetype == PROBLEM, text
        assert field in {e["field"] for e in r.get_json()["errors"]}, text

    refused({"colour": "blue"}, "colour")
    refused(
        {"new_entitlements": [{"people": {"profesion": "nurse"}, "amount": 1}]},
        "new_entitlements.0.people.profesion",
    )
    refused(
        {
            "new_entitlements": [
                {"people": {"profession": "nurse", "organisation": "nowhere"}, "amount": 1}
            ]
        },
        "new_entitlements.0.people",
    )
    refused(
        {
            "new_entitlements": [
                {"people": {"profession": "nurse"}, "amount": 1},
                {"people": {"profession": "nurse", "min_band": "12"}, "amount": 1},
            ]
        },
        "new_entitlements.1.people.min_band",
    )
    refused(
        {"commitment_changes": [{"roles": {"title_contains": "no such role"}, "amount": 2}]},
        "commitment_changes.0.roles",
    )
    refused({"rate_change_percent": 4, "start": "2026-12-01"}, "start")  # a Tuesday
    refused({"weeks": 0}, "weeks")
    refused({"scope": "galaxy"}, "scope")
    refused({"start": None}, "start")
    assert dump() == before


@pytest.mark.slow
def test_the_whatif_command_reads_a_scenario_file(
    demo: dict[str, list[tuple[Any, ...]]], runner: FlaskCliRunner, tmp_path: Path
) -> None:
    before = dump()
    scenario = tmp_path / "scenario.json"
    # PCN clinical directors go to 2 sessions a week
    pcn_directors = {"code_prefix": "PCN-", "title_contains": "clinical director"}
    scenario.write_text(
        json.dumps(
            {
                "start": START,
                "weeks": 1,
                "time_limit": 5,
                "commitment_changes": [
                    {"roles": pcn_directors, "amount": 2, "unit": "gp_session", "per": "week"}
                ],
            }
        )
    )
    result = runner.invoke(args=["sel-time", "whatif", str(scenario)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    progress = result.stderr.splitlines()
    assert any("Baseline planned" in line for line in progress), result.stderr
    assert any("Scenario planned" in line for line in progress), result.stderr
    assert out["changes"]["roles"] > 0 and out["delta"]["sessions"] > 0
    assert dump() == before
    scenario.write_text(json.dumps({"start": START, "colour": "blue"}))
    result = runner.invoke(args=["sel-time", "whatif", str(scenario)])
    assert result.exit_code == 2 and "colour" in result.output


def test_no_lock_is_held_while_the_solver_runs(
    directory: Any,
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sandbox writes (rates, roles) and rolls back; while the two solves run (up to ten
    minutes each) another process must still be able to write, e.g. a leader recording a
    session through their calendar link. On SQLite the sandbox's write lock lasts until the
    transaction ends, so the transaction must end before the solver starts."""
    from sel_time.finance import whatif

    solve, writes = whatif._solve, []

    def solve_while_someone_writes(
        problem: Any, time_limit: float, progress: Any = None, stop: Any = None
    ) -> Any:
        with db.engine.connect() as other:
            if db.engine.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout=200")
            else:
                other.exec_driver_sql("SET lock_timeout = '1s'")
            try:
                other.execute(sa.update(RateCardEntry).values(label=RateCardEntry.label))
                other.commit()
                writes.append("ok")
            except sa.exc.OperationalError as exc:
                writes.append(str(exc.orig))
        return solve(problem, time_limit, progress, stop)

    monkeypatch.setattr(whatif, "_solve", solve_while_someone_writes)
    headers = login_as("finance")
    r = post(
        client,
        headers,
        {"start": "2026-12-28", "weeks": 2, "time_limit": 5, "rate_change_percent": 4},
    )
    out = finished(client, headers, r)
    assert writes == ["ok", "ok"]
    # 4 % on every rate: Ada 4 × 48000, Bea 16400+17200 (×2 with the team), Cal 4 × 21000, ...
    assert out["delta"]["backfill_cost"] == pytest.approx(3768.00 * 0.04, abs=0.05)


def test_a_rate_change_rounds_to_the_penny_half_up() -> None:
    from sel_time.finance.whatif import _scaled

    assert _scaled(3175, 2) == 3239  # £31.75 + 2 % = £32.385 → £32.39 (round(float) gave £32.38)
    assert _scaled(4100, 4) == 4264  # £41 + 4 % = £42.64
    assert _scaled(4100, -90) == 410
    assert _scaled(12345, 3.3) == 12752  # £123.45 × 1.033 = £127.52385

"""A small hand-built system for the planning tests: one trust with an Emergency Department
that lets one person away at a time, three leaders with their roles, a leadership team that
meets on Thursday afternoons, a rate change in the middle of the horizon, and a bank holiday.

The horizon is the two weeks from Monday 26 April 2027 (Monday 3 May 2027 is the Early May
bank holiday), far enough ahead that every session in it is still in the future.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from support.worlds import (  # noqa: F401  (the planning tests import them from here)
    BANK_HOLIDAY,
    END,
    RATE_CHANGE,
    START,
    WEEKS,
    planning_world,
    weekdays,
)
from support.worlds import PlanningWorld as Small

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import Plan, PlanStatus
from sel_time.plans.planning import request_plan, run_plan

TIME_LIMIT = 5.0


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Plans are solved inside the request unless a test turns this off."""
    return {**app_config, "SOLVER_TIME_LIMIT": TIME_LIMIT,
            "SOLVER_WORKERS": 2}


@pytest.fixture()
def small(app: Flask, make: Callable[..., Any]) -> Small:
    return planning_world(make)


@pytest.fixture()
def solve_plan(app: Flask) -> Callable[..., Plan]:
    """``solve_plan()``: request and run a plan over the small horizon; returns the draft."""

    def _solve(
        start: date = START,
        weeks: int = WEEKS,
        scope: str = "system",
        time_limit: float = TIME_LIMIT,
    ) -> Plan:
        plan = request_plan(start, weeks, scope, time_limit, CLI_ACTOR)
        db.session.commit()
        plan = run_plan(plan.id)
        assert plan.status == PlanStatus.DRAFT, (plan.status, plan.error, plan.conflicts)
        return plan

    return _solve


@pytest.fixture()
def rota(login_as: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Authorization headers of a rota manager."""
    return login_as("rota_manager")


@pytest.fixture()
def export_and_check(
    runner: Any, tmp_path: Any
) -> Callable[[str], tuple[dict[str, Any], dict[str, Any]]]:
    """``export_and_check("3")``: run ``sel-time export-plan 3 --problem P --solution S`` and
    assert that the solver's checker accepts the pair; returns (problem, solution)."""
    import json

    import solver

    def _run(plan_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        p, s = tmp_path / f"problem-{plan_ref}.json", tmp_path / f"solution-{plan_ref}.json"
        result = runner.invoke(
            args=["sel-time", "export-plan", plan_ref, "--problem", str(p), "--solution", str(s)]
        )
        assert result.exit_code == 0, result.output
        problem, solution = json.loads(p.read_text()), json.loads(s.read_text())
        assert problem["format"] == "sel-time/problem@1"
        assert solution["format"] == "sel-time/solution@1"
        verdict = solver.check(solver.parse_problem(problem), solution)
        assert verdict.ok, verdict.violations
        return problem, solution

    return _run


def roster_snapshot() -> dict[str, tuple[Any, ...]]:
    """The published roster as uid → (slot, status, sequence, ((person, cost in pence), ...))."""
    import sqlalchemy as sa

    from sel_time.models import ProtectedSession

    db.session.expire_all()
    out = {}
    for s in db.session.scalars(sa.select(ProtectedSession)):
        out[s.uid] = (
            s.slot,
            s.status.value,
            s.sequence,
            tuple(sorted((a.person_id, a.cost_pence) for a in s.attendances)),
        )
    return out


def add_leave(
    make: Callable[..., Any], person_id: int, first: str, last: str | None = None
) -> None:
    make("absences", person_id=person_id, kind="sickness", start_date=first, end_date=last or first)

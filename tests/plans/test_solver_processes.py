"""A plan solved with ``SEL_TIME_SOLVER_PROCESSES=2``: its independent parts are solved side
by side in processes started for the solve, and the plan is stored as any other."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from flask import Flask

from sel_time.models import Plan, PlanStatus
from tests.plans.conftest import Small


def test_a_plan_solved_in_two_processes_is_stored_like_any_other(
    app: Flask, small: Small, solve_plan: Callable[..., Plan]
) -> None:
    app.config["SOLVER_PROCESSES"] = 2
    app.config["FAIRNESS_WEIGHT"] = 0  # with fairness on, this small world is one model
    plan = solve_plan()
    assert plan.status == PlanStatus.DRAFT, plan.error
    info = plan.solution["solver"]
    assert info["processes"] == 2 and info["parts"] > 1
    assert plan.solution["status"] == "optimal" and plan.sessions
    assert not multiprocessing.active_children()

"""Factories for the solver tests: tiny hand-built problems as JSON dicts, and a solve helper
that returns the problem, the solution document and the checker's verdict."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from solver_factories import make_slots, random_problem, window

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve
from solver.model import Problem


@pytest.fixture()
def make_problem() -> Callable[..., dict]:
    """A valid one-week problem dict; keyword arguments replace top-level fields."""

    def factory(**fields: Any) -> dict:
        slots = fields.pop("slots", None) or make_slots()
        data = {
            "format": "sel-time/problem@1",
            "timezone": "Europe/London",
            "slots": slots,
            "people": [
                {
                    "id": "p1",
                    "name": "Amara Okafor",
                    "department": "kch-ed",
                    "available": {s["id"]: 100.0 for s in slots},
                },
            ],
            "commitments": [{"id": "c1", "person": "p1", "windows": [window()]}],
            "teams": [],
            "caps": [],
            "pinned": [],
            "previous": [],
            "weights": {"shortfall": 5000, "absence": 200, "churn": 50, "avoid": 25},
        }
        data.update(copy.deepcopy(fields))
        return data

    return factory


@pytest.fixture()
def solve_dict() -> Callable[..., tuple[Problem, dict]]:
    """Parse, solve (small time limit, one worker) and assert the plan passes `check`."""

    def run(data: dict, checked: bool = True, **options: Any) -> tuple[Problem, dict]:
        problem = parse_problem(data)
        opts = {"time_limit": 10.0, "workers": 1, "seed": 0, **options}
        sol = solution_to_dict(solve(problem, SolveOptions(**opts)))
        if checked and sol["status"] in ("optimal", "feasible"):
            result = check(problem, sol)
            assert result.ok, result.violations
            assert abs(result.objective - sol["objective"]) <= 0.01
        return problem, sol

    return run


@pytest.fixture()
def random_problem_dict() -> Callable[..., dict]:
    return random_problem

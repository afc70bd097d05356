"""Stopping a solve from another thread (a cancelled plan or what-if): CP-SAT's search ends
at once and ``solve`` raises ``Stopped`` instead of returning a plan."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import solver  # noqa: E402
from bench.generate import generate  # noqa: E402


@pytest.fixture(scope="module")
def problem() -> solver.Problem:
    return solver.parse_problem(generate("S", seed=7))


def test_a_solve_stopped_midway_raises_stopped_and_returns_no_plan(problem) -> None:
    stop = threading.Event()
    reports: list[str] = []

    def progress(message: str, _fraction: float) -> None:  # the first report: mid-solve
        reports.append(message)
        stop.set()

    started = time.monotonic()
    with pytest.raises(solver.Stopped):
        solver.solve(problem, solver.SolveOptions(time_limit=60, workers=1, stop=stop,
                                                  progress=progress))
    assert len(reports) == 1  # nothing was reported (or returned) after the stop
    assert time.monotonic() - started < 60  # the whole budget was not spent


def test_a_stop_set_before_the_solve_starts_stops_it_at_once(problem) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(solver.Stopped):
        solver.solve(problem, solver.SolveOptions(time_limit=60, workers=1, stop=stop))


def test_without_a_stop_the_solve_runs_as_before(problem) -> None:
    sol = solver.solve(problem, solver.SolveOptions(time_limit=3, workers=1))
    assert sol.status in ("optimal", "feasible")

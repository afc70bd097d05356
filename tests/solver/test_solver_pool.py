"""Parts solved side by side in worker processes (``SolveOptions.processes``, ``solve
--processes``), and the fairness term on a problem too big to solve whole."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import sys
import threading
import time
from pathlib import Path

import pytest
from solver_factories import make_slots, random_problem, window

import solver.decompose
from solver import SolveOptions, Stopped, check, parse_problem, pool, solution_to_dict, solve
from solver.decompose import scopes

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.generate import generate  # noqa: E402


def many_parts() -> dict:
    """Fourteen people over two weeks: with a small chunk, several independent parts."""
    return random_problem(11, people=14, days=10, teams=3)


def test_two_processes_reach_the_same_optimum_with_a_plan_that_holds():
    problem = parse_problem(many_parts())
    assert len(list(scopes(problem, chunk=60))) > 2
    one = solve(problem, SolveOptions(time_limit=20, workers=1, chunk=60))
    two = solve(problem, SolveOptions(time_limit=20, workers=2, processes=2, chunk=60))
    sol = solution_to_dict(two)
    result = check(problem, sol)
    assert result.ok, result.violations
    assert result.objective == pytest.approx(sol["objective"], abs=0.01)
    assert one.status == two.status == "optimal"
    assert two.objective == one.objective and two.bound == one.bound
    info = sol["solver"]
    assert info["processes"] == 2 and info["parts"] > 2
    assert info["peak_mb"]["main"] > 0 and info["peak_mb"]["process"] > 0
    assert not multiprocessing.active_children()


def test_stopping_a_solve_in_processes_ends_them_at_once():
    problem = parse_problem(generate("M", seed=3))
    stop = threading.Event()
    seen: list[str] = []

    def progress(message: str, _fraction: float) -> None:
        seen.append(message)
        if "processes" in message:  # the worker processes have been asked to start
            threading.Timer(1.0, stop.set).start()

    started = time.monotonic()
    with pytest.raises(Stopped):
        solve(problem, SolveOptions(time_limit=120, processes=2, stop=stop, progress=progress))
    assert time.monotonic() - started < 30
    assert any("processes" in m for m in seen)
    assert not multiprocessing.active_children()


def _job(problem: object, kind: str) -> str:
    """A part for `pool.run`: answers, fails, or takes too long."""
    if kind == "fail":
        raise ValueError("a bug in this part")
    if kind == "slow":
        time.sleep(60)
    return f"{kind} with {len(problem.people)} people"  # type: ignore[attr-defined]


def test_a_failed_or_late_part_is_left_out_and_the_processes_are_ended(caplog):
    problem = parse_problem(random_problem(1))
    started = time.monotonic()
    answers = pool.run(problem, _job, [("ok",), ("fail",), ("slow",)], 2, time.monotonic() + 8)
    assert answers == {0: f"ok with {len(problem.people)} people"}
    assert time.monotonic() - started < 20
    assert "part 2 failed" in caplog.text and "not back by the deadline" in caplog.text
    assert not multiprocessing.active_children()


def test_processes_must_be_at_least_one():
    with pytest.raises(ValueError, match="processes"):
        SolveOptions(processes=0)


def test_too_big_to_solve_whole_with_fairness_the_parts_are_solved_and_its_floor_bounds_it(
    monkeypatch,
):
    data = many_parts()
    for i, p in enumerate(data["people"]):
        p["groups"] = ["profession:nurse" if i % 2 else "profession:doctor"]
    # A pharmacist with a role but never available: their group is 1,000 per thousand short
    # whatever the plan, so the worst group, and the term's floor, is theirs.
    data["people"].append({"id": "rx", "groups": ["profession:pharmacist"], "available": {}})
    first, last = data["slots"][0]["id"][:10], data["slots"][-1]["id"][:10]
    data["commitments"].append(
        {"id": "crx", "person": "rx", "windows": [window(first, last, sessions=2)]}
    )
    data["weights"]["fairness"] = 40
    problem = parse_problem(data)
    (whole,) = list(scopes(problem, chunk=60))  # fairness on: one model
    assert whole[0].people is None
    monkeypatch.setattr(solver.decompose, "FAIRNESS_WHOLE_LIMIT", 0)
    assert len(list(scopes(problem, chunk=60))) > 2
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1, chunk=60)))
    result = check(problem, sol)  # the term is priced on the plan, and check agrees
    assert result.ok, result.violations
    assert result.objective == pytest.approx(sol["objective"], abs=0.01)
    assert sol["solver"]["fairness"] == "evened out by part"
    assert sol["objective_terms"]["fairness"] == 40 * 1000
    # The parts' bounds leave the term out; its unavoidable floor (the pharmacist's group)
    # is added, which here closes the gap.
    assert sol["status"] == "optimal" and sol["bound"] == sol["objective"]


def two_weeks_on_one_ward() -> dict:
    """A nurse and a doctor on one ward with one away at a time, each asking for five
    sessions a week over two weeks with five mornings each: half of what is asked can be
    had, and the nurse's backfill is cheaper. Two independent weeks: two parts."""
    slots = make_slots(10)
    mornings = [s["id"] for s in slots if s["id"].endswith("/AM")]
    weeks = [("2026-03-02", "2026-03-06"), ("2026-03-09", "2026-03-13")]
    return {
        "format": "sel-time/problem@1",
        "slots": slots,
        "people": [
            {"id": "n1", "department": "ward", "groups": ["profession:nurse"],
             "available": {s: 10.0 for s in mornings}},
            {"id": "d1", "department": "ward", "groups": ["profession:doctor"],
             "available": {s: 100.0 for s in mornings}},
        ],
        "commitments": [
            {"id": f"c{p}", "person": p, "windows": [window(a, b, sessions=5) for a, b in weeks]}
            for p in ("n1", "d1")
        ],
        "caps": [{"department": "ward", "max_away": 1}],
        "weights": {"fairness": 10},
    }


def test_parts_solved_apart_are_evened_out_to_the_whole_models_optimum(monkeypatch):
    problem = parse_problem(two_weeks_on_one_ward())
    whole = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1)))
    assert whole["solver"]["fairness"] == "optimised" and whole["status"] == "optimal"
    assert whole["objective_terms"]["fairness"] == 10 * 500  # five of ten short each
    monkeypatch.setattr(solver.decompose, "FAIRNESS_WHOLE_LIMIT", 0)
    assert len(list(scopes(problem))) == 2
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1)))
    assert check(problem, sol).ok
    assert sol["solver"]["fairness"] == "evened out by part"
    assert sol["solver"]["fairness_parts"] >= 1
    assert sol["objective"] == whole["objective"]
    # Without evening out, each week alone puts all its shortfall on the dearer doctor.
    solving = importlib.import_module("solver.solve")  # `solver.solve` is the function
    monkeypatch.setattr(solving, "_even_out", lambda _p, plan, _parts, floor, *_: (plan, 0, floor))
    apart = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1)))
    assert apart["objective_terms"]["fairness"] == 10 * 1000
    assert apart["objective"] > sol["objective"]


def test_a_shortfall_the_caps_force_is_proved_so_the_parts_plan_is_optimal(monkeypatch):
    from solver.solve import _fairness_floor

    data = two_weeks_on_one_ward()
    for p in data["people"]:
        p["groups"] = ["profession:nurse"]  # one group: ten of its twenty sessions can be had
    problem = parse_problem(data)
    assert _fairness_floor(problem) == 0  # everyone is available for every session asked
    monkeypatch.setattr(solver.decompose, "FAIRNESS_WHOLE_LIMIT", 0)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1)))
    assert sol["objective_terms"]["fairness"] == 10 * 500
    # The cap of one away forces five of ten short each week: the group's least shortfall,
    # proved part by part, is in the bound, which then meets the plan.
    assert sol["status"] == "optimal" and sol["bound"] == sol["objective"]


def test_the_fairness_floor_counts_only_what_no_plan_can_avoid():
    from solver.solve import _fairness_floor

    data = many_parts()
    for p in data["people"]:
        p["groups"] = ["everyone"]
    data["weights"]["fairness"] = 40
    problem = parse_problem(data)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1)))
    assert _fairness_floor(problem) <= round(sol["objective_terms"]["fairness"] * 100)
    for p in data["people"]:
        p["available"] = {}
    data["pinned"], data["previous"] = [], []
    bare = parse_problem(data)  # nobody available: every session asked is short
    assert _fairness_floor(bare) == 4000 * 1000


def test_solve_command_takes_processes(tmp_path: Path):
    from test_solver_cli import run

    path = tmp_path / "problem.json"
    path.write_text(json.dumps(many_parts()))
    bad = run("solve", str(path), "--processes", "0")
    assert bad.returncode == 2 and "--processes must be at least 1" in bad.stderr
    out = tmp_path / "solution.json"
    good = run("solve", str(path), "--processes", "2", "--time-limit", "20", "-o", str(out))
    assert good.returncode == 0, good.stderr
    sol = json.loads(out.read_text())
    assert sol["solver"]["processes"] == 2
    assert check(parse_problem(many_parts()), sol).ok

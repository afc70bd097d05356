"""Solving as a whole: repeatability, stability, the greedy baseline, decomposition, bounds."""

from __future__ import annotations

import copy
import time

import pytest
from ortools.sat.python import cp_model
from solver_factories import make_slots, random_problem, window

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve
from solver.constraints import build
from solver.decompose import blocks, groups, scopes
from solver.greedy import greedy, repair
from solver.plan import evaluate
from solver.variables import Scope


def plan_of(sol: dict) -> tuple:
    return (
        sorted((s["person"], s["commitment"], s["slot"]) for s in sol["sessions"]),
        sorted((t["team"], t["slot"], tuple(t["attendees"])) for t in sol["team_sessions"]),
    )


def bigger_problem(seed: int = 11) -> dict:
    return random_problem(seed, people=14, days=10, teams=3)


def test_same_seed_one_worker_same_plan():
    problem = parse_problem(bigger_problem())
    opts = SolveOptions(time_limit=5, workers=1, seed=3)
    first = solution_to_dict(solve(problem, opts))
    for _ in range(2):
        again = solution_to_dict(solve(parse_problem(bigger_problem()), opts))
        assert plan_of(again) == plan_of(first)
        assert again["objective"] == first["objective"]
    assert first["solver"]["seed"] == 3 and first["solver"]["workers"] == 1


def test_solver_info_records_how_it_was_made():
    sol = solution_to_dict(
        solve(parse_problem(bigger_problem()), SolveOptions(time_limit=5, workers=2, seed=7))
    )
    info = sol["solver"]
    assert info["method"] == "cp-sat" and info["seed"] == 7 and info["workers"] == 2
    assert info["time_limit"] == 5 and info["blocks"] >= 1
    assert info["version"].count(".") == 2


def test_greedy_plan_passes_check_and_cp_sat_is_no_worse():
    for seed in range(5):
        problem = parse_problem(random_problem(seed, people=10))
        g = solution_to_dict(solve(problem, SolveOptions(method="greedy", time_limit=5)))
        assert g["solver"]["method"] == "greedy" and g["status"] == "feasible"
        result = check(problem, g)
        assert result.ok, result.violations
        c = solution_to_dict(solve(problem, SolveOptions(time_limit=5, workers=1)))
        assert check(problem, c).ok
        assert c["objective"] <= g["objective"] + 0.01
        assert c["bound"] <= c["objective"] + 0.01


def test_model_objective_matches_plan_price():
    """CP-SAT's own objective (pence) equals the independent pricing of the plan read back."""
    from solver.constraints import plan_from

    problem = parse_problem(bigger_problem(5))
    built = build(problem)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    assert solver.solve(built.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    plan = plan_from(problem, built, lambda v: int(solver.value(v)))
    assert evaluate(problem, plan).objective == round(solver.objective_value)


def test_decomposition_gives_the_whole_model_optimum():
    data = random_problem(21, people=10, days=10, teams=2)
    problem = parse_problem(data)
    built = build(problem)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = 20
    assert solver.solve(built.model) == cp_model.OPTIMAL
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=20, workers=1, chunk=50)))
    assert sol["status"] == "optimal"
    assert sol["solver"]["parts"] > 1
    assert sol["objective"] == pytest.approx(solver.objective_value / 100, abs=0.01)


def test_blocks_follow_windows_and_groups_follow_teams_and_caps(make_problem):
    slots = make_slots(10)
    data = make_problem(
        slots=slots,
        people=[
            {"id": "a", "department": "ed", "available": {slots[0]["id"]: 0}},
            {"id": "b", "department": "ed", "available": {}},
            {"id": "c", "available": {}},
            {"id": "d", "available": {}},
            {"id": "e", "department": "icu", "available": {}},
        ],
        commitments=[
            {
                "id": "c1",
                "person": "a",
                "windows": [
                    {"from": "2026-03-02", "to": "2026-03-06", "sessions": 1},
                    {"from": "2026-03-09", "to": "2026-03-13", "sessions": 1},
                ],
            },
        ],
        teams=[{"id": "t", "members": ["c", "d"], "quorum": 1, "windows": []}],
        caps=[{"department": "ed", "max_away": 1}],
    )
    problem = parse_problem(data)
    assert blocks(problem) == [(0, 10), (10, 20)]
    assert sorted(map(sorted, groups(problem))) == [["a", "b"], ["c", "d"], ["e"]]
    parts = list(scopes(problem, chunk=0))
    assert {(s.lo, s.hi) for s, _ in parts} == {(0, 10), (10, 20)}
    for s, _ in parts:  # a scope never splits a group
        assert all(set(g) <= s.people or not set(g) & s.people for g in groups(problem))


def test_restability_new_leave_moves_only_that_persons_sessions():
    data = random_problem(4, people=12, days=10, teams=0)
    data["pinned"] = []
    data["previous"] = []
    opts = SolveOptions(time_limit=10, workers=1)
    first = solution_to_dict(solve(parse_problem(data), opts))
    # Publish it; give p3 a new day of leave where they had sessions.
    data2 = copy.deepcopy(data)
    data2["previous"] = [
        {"person": s["person"], "commitment": s["commitment"], "slot": s["slot"]}
        for s in first["sessions"]
    ]
    mine = [s for s in first["sessions"] if s["person"] == "p3"]
    assert mine, "the instance should give p3 sessions"
    lost = mine[0]["slot"]
    day = lost[:10]
    p3 = next(p for p in data2["people"] if p["id"] == "p3")
    for sid in list(p3["available"]):
        if sid.startswith(day):
            del p3["available"][sid]
    problem2 = parse_problem(data2)
    second = solution_to_dict(solve(problem2, opts))
    assert check(problem2, second).ok
    before = {(s["person"], s["slot"]) for s in first["sessions"]}
    after = {(s["person"], s["slot"]) for s in second["sessions"]}
    moved = {p for p, _ in before ^ after}
    assert moved <= {"p3"}, before ^ after


def test_repair_keeps_valid_previous_entries_and_drops_broken_ones(make_problem):
    slots = make_slots(5)
    am, pm = slots[0]["id"], slots[1]["id"]
    data = make_problem(
        people=[{"id": "p1", "available": {am: 100, pm: 0}}],
        previous=[
            {"person": "p1", "commitment": "c1", "slot": am},
            {"person": "p1", "commitment": "c1", "slot": slots[2]["id"]},
        ],  # now unavailable
    )
    problem = parse_problem(data)
    plan = repair(problem.previous, problem)
    assert plan.sessions == {("p1", 0): "c1"}
    assert greedy(problem).sessions == {("p1", 1): "c1"}


def test_progress_is_reported():
    seen: list[tuple[str, float]] = []
    solve(
        parse_problem(bigger_problem()),
        SolveOptions(time_limit=5, workers=1, progress=lambda m, f: seen.append((m, f))),
    )
    assert seen[0][1] == 0.0 and seen[-1][1] == 1.0
    assert all(0.0 <= f <= 1.0 for _, f in seen)
    assert [f for _, f in seen] == sorted(f for _, f in seen)


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown method"):
        SolveOptions(method="magic")
    with pytest.raises(ValueError):
        SolveOptions(time_limit=0)


def test_fixed_team_meetings_occupy_their_attendees(make_problem):
    slots = make_slots(5)
    am, pm = slots[0]["id"], slots[1]["id"]
    data = make_problem(
        people=[
            {"id": "p1", "department": "ed", "available": {am: 0, pm: 0}},
            {"id": "p2", "department": "ed", "available": {am: 0, pm: 0}},
        ],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p2", "windows": [window()]},
        ],
        teams=[{"id": "t1", "members": ["p1", "p2"], "quorum": 1, "windows": [window()]}],
        caps=[{"department": "ed", "max_away": 1}],
    )
    problem = parse_problem(data)
    scope = Scope(0, len(problem.slots), None, fixed_teams={("t1", 0): ("p1",)})
    built = build(problem, scope)
    assert built.vars.meet == {} and ("c1", 0) not in built.vars.x  # p1 is at the meeting
    solver = cp_model.CpSolver()
    assert solver.solve(built.model) == cp_model.OPTIMAL
    # p2 cannot be away in slot 0 too: the held meeting uses the ed cap's one place.
    assert solver.value(built.vars.x[("c2", 0)]) == 0


def test_refining_with_team_meetings_held_keeps_a_valid_better_plan():
    from solver.explain import build_solution
    from solver.solve import _refine

    problem = parse_problem(random_problem(8, people=14, days=10, teams=3))
    start = greedy(problem)
    opts = SolveOptions(workers=1, chunk=40)
    hints = [("greedy", start)]
    plan, _ = _refine(problem, Scope.whole(problem), hints, opts, 5.0, time.monotonic() + 10, "t")
    assert plan.meetings == start.meetings  # held as they were
    assert evaluate(problem, plan).objective <= evaluate(problem, start).objective
    sol = solution_to_dict(build_solution(problem, plan, "feasible", None, 0.0, {}))
    assert check(problem, sol).ok

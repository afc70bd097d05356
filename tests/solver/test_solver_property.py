"""Property tests: every solution of a random small problem passes `check`, and `check`
catches a corrupted one."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import random_problem

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve

SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def problems(draw: st.DrawFn) -> dict:
    seed = draw(st.integers(0, 10_000))
    people = draw(st.integers(2, 7))
    teams = draw(st.integers(0, 2))
    return random_problem(seed, people=people, days=10, teams=teams)


@SETTINGS
@given(problems(), st.sampled_from(["cp-sat", "greedy"]))
def test_every_solution_passes_check(data: dict, method: str) -> None:
    problem = parse_problem(data)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=2, workers=1, method=method)))
    assert sol["status"] in ("optimal", "feasible")
    result = check(problem, sol)
    assert result.ok, result.violations
    assert abs(sum(sol["objective_terms"].values()) - sol["objective"]) <= 0.01


@SETTINGS
@given(problems(), st.data())
def test_check_catches_a_corrupted_solution(data: dict, draw: st.DataObject) -> None:
    problem = parse_problem(data)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=2, workers=1)))
    bad = copy.deepcopy(sol)
    kinds = ["objective", "term"]
    if sol["sessions"]:
        kinds += ["unavailable", "duplicate", "drop"]
    if problem.caps:
        kinds.append("cap")
    kind = draw.draw(st.sampled_from(kinds))
    if kind == "objective":
        bad["objective"] += 5
    elif kind == "term":
        bad["objective_terms"]["cost"] += 1
    elif kind == "unavailable":
        s = bad["sessions"][0]
        person = problem.person[s["person"]]
        free = [x.id for x in problem.slots if x.id not in person.available]
        if not free:
            bad["sessions"][0]["cost"] += 1
        else:
            s["slot"] = free[0]
    elif kind == "duplicate":
        bad["sessions"].append(dict(bad["sessions"][0]))
    elif kind == "drop":
        bad["sessions"].pop(0)
    elif kind == "cap":
        cap = problem.caps[0]
        dept_people = [p for p in problem.people if p.department == cap.department]
        slot = problem.slots[0].id
        # Put max_away + 1 of the department on protected time in one slot.
        bad["sessions"] = [s for s in bad["sessions"] if s["slot"] != slot]
        for p in dept_people[: cap.max_away + 1]:
            cs = problem.commitments_of.get(p.id)
            if cs:
                bad["sessions"].append(
                    {"person": p.id, "commitment": cs[0].id, "slot": slot, "cost": 0}
                )
        if sum(1 for s in bad["sessions"] if s["slot"] == slot) <= cap.max_away:
            bad["objective"] += 1  # too few people to break it: corrupt the objective instead
    result = check(problem, bad)
    assert not result.ok

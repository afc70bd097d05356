"""The fairness term (additive in @1): weights.fairness x the worst group's shortfall per
thousand entitled sessions, rounded up; modelled in CP-SAT, recounted by `check`."""

from __future__ import annotations

import copy

import pytest
from solver_factories import make_slots, random_problem, window

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve
from solver.constraints import build
from solver.decompose import scopes

AMS = [s["id"] for s in make_slots(5) if s["id"].endswith("/AM")]


def scarce(fairness: float) -> dict:
    """A nurse and a doctor on one ward with a cap of one away: five AM slots between them
    for ten sessions asked. The nurse's backfill is cheaper."""
    slots = make_slots(5)
    return {
        "format": "sel-time/problem@1",
        "slots": slots,
        "people": [
            {"id": "n1", "department": "ward", "groups": ["profession:nurse"],
             "available": {s: 10.0 for s in AMS}},
            {"id": "d1", "department": "ward", "groups": ["profession:doctor"],
             "available": {s: 100.0 for s in AMS}},
        ],
        "commitments": [
            {"id": "cn", "person": "n1", "windows": [window(sessions=5)]},
            {"id": "cd", "person": "d1", "windows": [window(sessions=5)]},
        ],
        "caps": [{"department": "ward", "max_away": 1}],
        "weights": {"fairness": fairness},
    }


def run(data: dict, **options) -> tuple[object, dict]:
    problem = parse_problem(data)
    opts = {"time_limit": 10.0, "workers": 1, "seed": 0, **options}
    sol = solution_to_dict(solve(problem, SolveOptions(**opts)))
    result = check(problem, sol)
    assert result.ok, result.violations
    assert result.objective == pytest.approx(sol["objective"], abs=0.01)
    return problem, sol


def shares(sol: dict) -> dict[str, tuple[int, int]]:
    return {g["group"]: (g["entitled"], g["short"]) for g in sol["groups"]}


def test_fairness_off_shortfall_lands_where_backfill_costs_most():
    _, sol = run(scarce(0))
    assert sol["status"] == "optimal"
    assert shares(sol) == {"profession:doctor": (5, 5), "profession:nurse": (5, 0)}
    assert sol["objective_terms"]["fairness"] == 0
    assert sol["objective"] == pytest.approx(5 * 10 + 5 * 5000)


def test_fairness_on_splits_the_shortfall():
    # 3 nurse + 2 doctor sessions: worst group 3 of 5 short = 600 per thousand, x 10 = 6,000,
    # against 10,000 for leaving the doctor 5 short (and 8,000 at 4 short).
    _, sol = run(scarce(10))
    assert sol["status"] == "optimal"
    assert shares(sol) == {"profession:doctor": (5, 3), "profession:nurse": (5, 2)}
    assert sol["objective_terms"]["fairness"] == 6000
    assert sol["objective"] == pytest.approx(3 * 10 + 2 * 100 + 5 * 5000 + 6000)
    assert sum(sol["objective_terms"].values()) == pytest.approx(sol["objective"])


def test_fairness_rounds_up_per_thousand():
    # One group, 3 sessions asked, 2 possible: ceil(1000 * 1 / 3) = 334.
    data = {
        "format": "sel-time/problem@1",
        "slots": make_slots(5),
        "people": [{"id": "p1", "groups": ["org:KCH"], "available": {AMS[0]: 0, AMS[1]: 0}},
                   {"id": "p2", "groups": ["org:KCH"], "available": {}}],
        "commitments": [{"id": "c1", "person": "p1", "windows": [window(sessions=3)]}],
        "weights": {"fairness": 1},
    }
    _, sol = run(data)
    assert sol["groups"] == [{"group": "org:KCH", "entitled": 3, "short": 1}]
    assert sol["objective_terms"]["fairness"] == 334


def test_group_without_entitlement_is_left_out_of_the_max():
    data = scarce(10)
    data["people"][0]["groups"].append("board")
    data["people"].append({"id": "x", "groups": ["visitors"], "available": {}})
    _, sol = run(data)
    assert shares(sol)["visitors"] == (0, 0)
    assert sol["objective_terms"]["fairness"] == 6000


def test_fairness_is_one_named_term_in_the_whole_model_only():
    problem = parse_problem(scarce(10))
    built = build(problem)
    assert [t.name for t in built.terms].count("fairness") == 1
    assert built.vars.worst is not None
    (only,) = list(scopes(problem))
    assert only[0].lo == 0 and only[0].hi == len(problem.slots) and only[0].people is None
    assert all(t.name != "fairness" for t in build(parse_problem(scarce(0))).terms)


def test_no_groups_no_fairness_fields():
    data = scarce(10)
    for p in data["people"]:
        del p["groups"]
    _, sol = run(data)
    assert "groups" not in sol and "fairness" not in sol["objective_terms"]


def test_check_catches_a_wrong_fairness_term_and_groups():
    problem, sol = run(scarce(10))
    bad = copy.deepcopy(sol)
    bad["objective_terms"]["fairness"] = 0
    bad["objective"] -= 6000
    text = "\n".join(check(problem, bad).violations)
    assert "objective_terms.fairness: 0 but recomputed 6000.00" in text
    assert "objective: " in text and "recomputed 31230.00" in text
    bad = copy.deepcopy(sol)
    bad["groups"][0]["short"] = 5
    assert "entitled/short 5/5 but recomputed 5/3" in "\n".join(check(problem, bad).violations)
    bad = copy.deepcopy(sol)
    del bad["groups"]
    assert "groups: missing" in "\n".join(check(problem, bad).violations)


def test_greedy_and_decomposed_solves_stay_valid_with_fairness():
    data = random_problem(3, people=8)
    groups = ["profession:nurse", "profession:doctor", "org:KCH"]
    for i, p in enumerate(data["people"]):
        p["groups"] = [groups[i % 2], groups[2]] if i % 3 else [groups[i % 2]]
    data["weights"]["fairness"] = 40
    for method in ("greedy", "cp-sat"):
        # A tiny chunk makes the whole problem "big": pieces are solved first (without the
        # term) and the whole model prices it; the objective is the whole problem's.
        problem, sol = run(data, method=method, chunk=20)
        assert "fairness" in sol["objective_terms"]
        assert [g["group"] for g in sol["groups"]] == sorted(groups)


def test_fairness_solves_are_repeatable_with_one_worker():
    data = random_problem(11, people=8)
    for i, p in enumerate(data["people"]):
        p["groups"] = ["nurse" if i % 2 else "doctor"]
    data["weights"]["fairness"] = 25
    first = run(data, chunk=20)[1]
    second = run(data, chunk=20)[1]
    assert first["sessions"] == second["sessions"]
    assert first["team_sessions"] == second["team_sessions"]

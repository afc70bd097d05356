"""The checker recounts every rule from first principles: each kind of corruption is named."""

from __future__ import annotations

import copy

import pytest

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve

AM, PM = "2026-03-02/AM", "2026-03-02/PM"
TUE_AM = "2026-03-03/AM"


@pytest.fixture()
def solved(make_problem):
    data = make_problem(
        people=[
            {
                "id": "p1",
                "department": "ed",
                "available": {AM: 10, PM: 0, TUE_AM: 20},
                "max_per_day": 1,
            },
            {"id": "p2", "department": "ed", "available": {AM: 0, PM: 30}},
            {"id": "p3", "available": {PM: 5, TUE_AM: 0}},
        ],
        commitments=[
            {
                "id": "c1",
                "person": "p1",
                "windows": [{"from": "2026-03-02", "to": "2026-03-08", "sessions": 1, "max": 1}],
            },
            {
                "id": "c2",
                "person": "p2",
                "windows": [{"from": "2026-03-02", "to": "2026-03-08", "sessions": 1}],
            },
        ],
        teams=[
            {
                "id": "t1",
                "members": ["p1", "p2", "p3"],
                "quorum": 2,
                "windows": [{"from": "2026-03-02", "to": "2026-03-08", "sessions": 1}],
                "slots": [PM, TUE_AM],
            }
        ],
        caps=[{"department": "ed", "max_away": 1}],
        pinned=[{"person": "p2", "commitment": "c2", "slot": AM}],
        previous=[{"person": "p1", "slot": TUE_AM}],
    )
    problem = parse_problem(data)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=5, workers=1)))
    assert check(problem, sol).ok
    return problem, sol


def violations(problem, sol) -> str:
    result = check(problem, sol)
    assert not result.ok
    return "\n".join(result.violations)


def test_plan_holds(solved):
    problem, sol = solved
    result = check(problem, sol)
    assert result.ok and result.violations == [] and result.objective == sol["objective"]
    assert "ok" in result.summary()


def test_unavailable_slot(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    s = next(s for s in bad["sessions"] if s["person"] == "p2")
    s["slot"] = TUE_AM
    assert "not available in 2026-03-03/AM (rule 2)" in violations(problem, bad)


def test_two_activities_in_a_slot(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"].append({"person": "p2", "commitment": "c2", "slot": AM, "cost": 0})
    assert "rule 6" in violations(problem, bad)


def test_cap(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"] = [s for s in bad["sessions"] if s["slot"] != AM]
    bad["sessions"] += [
        {"person": "p1", "commitment": "c1", "slot": AM, "cost": 10},
        {"person": "p2", "commitment": "c2", "slot": AM, "cost": 0},
    ]
    assert "above its cap of 1 (rule 4)" in violations(problem, bad)


def test_quorum_members_and_absent_list(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    ts = bad["team_sessions"][0]
    ts["attendees"] = ts["attendees"][:1]
    text = violations(problem, bad)
    assert "below t1's quorum of 2 (rule 3)" in text
    assert "absent" in text


def test_team_slot_not_allowed(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["team_sessions"][0]["slot"] = AM
    assert "may not meet in 2026-03-02/AM (rule 3)" in violations(problem, bad)


def test_window_max_and_daily_limit(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"] = [s for s in bad["sessions"] if s["person"] != "p1"]
    bad["team_sessions"] = []
    bad["sessions"] += [
        {"person": "p1", "commitment": "c1", "slot": PM, "cost": 0},
        {"person": "p1", "commitment": "c1", "slot": AM, "cost": 10},
    ]
    text = violations(problem, bad)
    assert "above its max 1 (rule 5)" in text
    assert "above max_per_day 1 (rule 5)" in text


def test_missing_pin(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"] = [s for s in bad["sessions"] if s["person"] != "p2"]
    assert "pinned[0] (p2 in 2026-03-02/AM) is not in the plan (rule 6)" in violations(problem, bad)


def test_wrong_commitment_owner(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"][0]["commitment"] = "c1" if bad["sessions"][0]["person"] != "p1" else "c2"
    assert "belongs to" in violations(problem, bad)


def test_terms_totals_and_shortfalls_recomputed(solved):
    problem, sol = solved
    for key, path in (("objective_terms", "churn"), ("totals", "absences")):
        bad = copy.deepcopy(sol)
        bad[key][path] += 1
        assert f"{key}.{path}" in violations(problem, bad)
    bad = copy.deepcopy(sol)
    bad["shortfalls"].append(
        {"commitment": "c1", "window": 0, "required": 1, "scheduled": 0, "reason": "cost"}
    )
    assert "is not short" in violations(problem, bad)
    bad = copy.deepcopy(sol)
    bad["bound"] = bad["objective"] + 10
    assert "bound" in violations(problem, bad)


def test_unknown_ids(solved):
    problem, sol = solved
    bad = copy.deepcopy(sol)
    bad["sessions"].append({"person": "zz", "commitment": "c1", "slot": AM, "cost": 0})
    bad["team_sessions"].append(
        {"team": "t9", "slot": AM, "attendees": [], "absent": [], "cost": 0}
    )
    text = violations(problem, bad)
    assert "unknown person 'zz'" in text and "unknown team 't9'" in text


def test_infeasible_result_is_not_a_plan(solved):
    problem, _ = solved
    result = check(
        problem, {"format": "sel-time/solution@1", "status": "infeasible", "sessions": []}
    )
    assert not result.ok and any("not a plan" in v for v in result.violations)

"""One test per rule on a tiny hand-built problem: the rule holds and its penalty is what
the spec says."""

from __future__ import annotations

from collections import Counter

import pytest
from ortools.sat.python import cp_model
from solver_factories import make_slots, window

from solver.constraints import RULES, build
from solver.io import parse_problem

AM, PM = "2026-03-02/AM", "2026-03-02/PM"
TUE_AM, TUE_PM = "2026-03-03/AM", "2026-03-03/PM"


def person(pid: str, available: dict, **kw) -> dict:
    return {"id": pid, "available": available, **kw}


# ---- hard rules -----------------------------------------------------------------------


def test_one_activity_per_slot(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 10})],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p1", "windows": [window()]},
        ],
    )
    _, sol = solve_dict(data)
    assert len(sol["sessions"]) == 1
    assert sol["objective_terms"]["shortfall"] == 5000
    assert sol["objective_terms"]["cost"] == 10
    assert sol["objective"] == 5010


def test_availability_only_listed_slots(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}, name="Amara Okafor")],
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=2)]}],
    )
    problem, sol = solve_dict(data)
    assert [s["slot"] for s in sol["sessions"]] == [AM]
    built = build(problem)
    assert {s for (_, s) in built.vars.x} == {
        problem.slot_index[AM]
    }  # literals only where available
    (sf,) = sol["shortfalls"]
    assert sf == {
        **sf,
        "commitment": "c1",
        "window": 0,
        "required": 2,
        "scheduled": 1,
        "reason": "unavailable",
    }
    assert "Amara Okafor" in sf["explanation"]
    assert "9 of the window's 10 slots" in sf["explanation"]
    assert "1 of 2 sessions possible" in sf["explanation"]
    assert sol["objective_terms"]["shortfall"] == 5000


def test_team_slot_choice_prices_absence(make_problem, solve_dict):
    data = make_problem(
        people=[
            person("p1", {AM: 10, PM: 10}),
            person("p2", {AM: 20}),
            person("p3", {PM: 30}),
            person("p4", {AM: 900}),
        ],
        commitments=[],
        teams=[
            {
                "id": "t1",
                "members": ["p1", "p2", "p3", "p4"],
                "quorum": 2,
                "windows": [window()],
                "slots": [AM, PM],
            }
        ],
    )
    _, sol = solve_dict(data)
    (ts,) = sol["team_sessions"]
    assert ts["slot"] == PM
    assert ts["attendees"] == ["p1", "p3"]
    assert ts["absent"] == []  # p2 and p4 are not available in PM: in neither list
    assert sol["objective"] == 40


def test_absence_costs_weight_per_available_member(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}), person("p2", {AM: 0}), person("p3", {AM: 1000})],
        commitments=[],
        teams=[{"id": "t1", "members": ["p1", "p2", "p3"], "quorum": 2, "windows": [window()]}],
    )
    _, sol = solve_dict(data)
    (ts,) = sol["team_sessions"]
    assert ts["attendees"] == ["p1", "p2"] and ts["absent"] == ["p3"]
    assert sol["objective_terms"]["absence"] == 200
    assert sol["totals"]["absences"] == 1
    assert sol["breakdown"]["p3"]["absence"] == 200


def test_team_without_quorum_is_short(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}), person("p2", {PM: 0}), person("p3", {})],
        commitments=[],
        teams=[
            {
                "id": "t1",
                "name": "Renal MDT",
                "members": ["p1", "p2", "p3"],
                "quorum": 2,
                "windows": [window()],
            }
        ],
    )
    _, sol = solve_dict(data)
    assert sol["team_sessions"] == []
    (sf,) = sol["shortfalls"]
    assert sf["team"] == "t1" and sf["reason"] == "unavailable"
    assert "Renal MDT" in sf["explanation"]
    assert sol["objective_terms"]["shortfall"] == 5000
    assert sol["team_breakdown"]["t1"]["shortfall"] == 5000


def test_team_only_in_its_slots(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 100, TUE_PM: 300})],
        commitments=[],
        teams=[
            {"id": "t1", "members": ["p1"], "quorum": 1, "windows": [window()], "slots": [TUE_PM]}
        ],
    )
    _, sol = solve_dict(data)
    assert [t["slot"] for t in sol["team_sessions"]] == [TUE_PM]


def test_cap_holds_in_every_slot(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}, department="ed"), person("p2", {AM: 0}, department="ed")],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p2", "windows": [window()]},
        ],
        caps=[{"department": "ed", "max_away": 1}],
    )
    _, sol = solve_dict(data)
    assert len(sol["sessions"]) == 1
    (sf,) = sol["shortfalls"]
    assert sf["reason"] == "constrained"
    assert "ed cap" in sf["explanation"]
    assert sol["objective_terms"]["shortfall"] == 5000


def test_cap_only_in_listed_slots(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {PM: 0}, department="ed"), person("p2", {PM: 0}, department="ed")],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p2", "windows": [window()]},
        ],
        caps=[{"department": "ed", "max_away": 1, "slots": [AM]}],
    )
    _, sol = solve_dict(data)
    assert len(sol["sessions"]) == 2 and sol["shortfalls"] == []


def test_max_per_day(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0, PM: 0, TUE_AM: 50}, max_per_day=1)],
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=2)]}],
    )
    _, sol = solve_dict(data)
    days = Counter(s["slot"][:10] for s in sol["sessions"])
    assert max(days.values()) == 1 and len(sol["sessions"]) == 2
    assert sol["objective"] == 50


def test_max_per_week_counts_team_and_individual(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0, PM: 0, TUE_AM: 0}, max_per_week=2)],
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=2)]}],
        teams=[{"id": "t1", "members": ["p1"], "quorum": 1, "windows": [window()]}],
    )
    _, sol = solve_dict(data)
    assert len(sol["sessions"]) + len(sol["team_sessions"]) == 2
    assert sol["objective_terms"]["shortfall"] == 5000
    assert sol["shortfalls"][0]["reason"] == "constrained"


def test_window_max(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0, PM: 0, TUE_AM: 0})],
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=1, max=1)]}],
        previous=[{"person": "p1", "slot": AM}, {"person": "p1", "slot": PM}],
    )
    _, sol = solve_dict(data)
    assert len(sol["sessions"]) == 1  # keeping both previous entries would break max
    assert sol["objective_terms"]["churn"] == 50


def test_pins_are_kept_even_when_expensive(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 900, PM: 0})],
        commitments=[{"id": "c1", "person": "p1", "windows": [window()]}],
        pinned=[{"person": "p1", "commitment": "c1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert [s["slot"] for s in sol["sessions"]] == [AM]
    assert sol["objective"] == 900


def test_team_pin(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 500, PM: 0}), person("p2", {AM: 500, PM: 0})],
        commitments=[],
        teams=[{"id": "t1", "members": ["p1", "p2"], "quorum": 2, "windows": [window()]}],
        pinned=[{"team": "t1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert [t["slot"] for t in sol["team_sessions"]] == [AM]


def test_pin_without_commitment_is_attributed_once(make_problem, solve_dict):
    data = make_problem(
        slots=make_slots(10),
        people=[person("p1", {AM: 10})],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window("2026-03-09", "2026-03-13")]},
            {"id": "c2", "person": "p1", "windows": [window()]},
        ],
        pinned=[{"person": "p1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    (s,) = sol["sessions"]
    assert s["commitment"] == "c2"  # the one whose window it serves


def test_pins_against_cap_are_infeasible_in_words(make_problem, solve_dict):
    data = make_problem(
        people=[
            person("p1", {AM: 0}, name="Amara Okafor", department="kch-ed"),
            person("p2", {AM: 0}, name="Ben Lee", department="kch-ed"),
            person("p3", {AM: 0}, department="kch-ed"),
        ],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p2", "windows": [window()]},
            {"id": "c3", "person": "p3", "windows": [window()]},
        ],
        caps=[{"department": "kch-ed", "max_away": 1}],
        pinned=[
            {"person": "p1", "commitment": "c1", "slot": AM},
            {"person": "p2", "commitment": "c2", "slot": AM},
        ],
    )
    _, sol = solve_dict(data)
    assert sol["status"] == "infeasible"
    assert sol["conflicts"] == [
        "Pinned sessions for Amara Okafor and Ben Lee on 2026-03-02/AM exceed the kch-ed cap "
        "of 1 away"
    ]


def test_pin_in_unavailable_slot_is_a_conflict_not_a_parse_error(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {PM: 0}, name="Amara Okafor")],
        pinned=[{"person": "p1", "commitment": "c1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert sol["status"] == "infeasible"
    (msg,) = sol["conflicts"]
    assert msg.startswith("Amara Okafor is pinned") and "not available" in msg


def test_pins_over_daily_limit_and_window_max(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0, PM: 0}, max_per_day=1)],
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=1, max=1)]}],
        pinned=[{"person": "p1", "slot": AM}, {"person": "p1", "slot": PM}],
    )
    _, sol = solve_dict(data)
    assert sol["status"] == "infeasible"
    assert any("limit of 1 a day" in c or "maximum of 1" in c for c in sol["conflicts"])


# ---- soft rules -----------------------------------------------------------------------


def test_shortfall_weight(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {})],
        weights={"shortfall": 5000},
    )
    _, sol = solve_dict(data)
    assert sol["objective_terms"]["shortfall"] == 5000
    assert sol["totals"]["shortfall_sessions"] == 1


def test_shortfall_reason_cost(make_problem, solve_dict):
    data = make_problem(people=[person("p1", {AM: 900})], weights={"shortfall": 100})
    _, sol = solve_dict(data)
    assert sol["sessions"] == []
    (sf,) = sol["shortfalls"]
    assert sf["reason"] == "cost"
    assert sol["objective"] == 100


def test_churn_prices_dropped_previous_entries(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 400, PM: 0})],
        previous=[{"person": "p1", "commitment": "c1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert [s["slot"] for s in sol["sessions"]] == [PM]  # 0 + churn 50 beats 400
    assert sol["objective_terms"]["churn"] == 50
    assert sol["totals"]["churn"] == 1


def test_churn_keeps_previous_when_cheaper(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 30, PM: 0})],
        previous=[{"person": "p1", "commitment": "c1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert [s["slot"] for s in sol["sessions"]] == [AM]  # 30 beats 0 + churn 50
    assert sol["objective"] == 30


def test_team_churn(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0, PM: 0})],
        commitments=[],
        teams=[{"id": "t1", "members": ["p1"], "quorum": 1, "windows": [window(sessions=0)]}],
        previous=[{"team": "t1", "slot": PM}],
    )
    _, sol = solve_dict(data)
    assert [t["slot"] for t in sol["team_sessions"]] == [PM]  # cost 0 beats churn 50
    assert sol["objective"] == 0


def test_avoid_weight(make_problem, solve_dict):
    data = make_problem(people=[person("p1", {AM: 0}, avoid=[AM])])
    _, sol = solve_dict(data)
    assert sol["objective_terms"]["avoid"] == 25 and sol["totals"]["avoided"] == 1
    data = make_problem(people=[person("p1", {AM: 0, PM: 10}, avoid=[AM])])
    _, sol = solve_dict(data)
    assert [s["slot"] for s in sol["sessions"]] == [PM] and sol["objective"] == 10


def test_cost_sums_sessions_and_attendances(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 212.40, PM: 100.0}), person("p2", {AM: 50.0})],
        teams=[
            {"id": "t1", "members": ["p1", "p2"], "quorum": 2, "windows": [window()], "slots": [AM]}
        ],
    )
    _, sol = solve_dict(data)
    assert sol["objective_terms"]["cost"] == pytest.approx(362.40)
    assert sol["team_sessions"][0]["cost"] == pytest.approx(262.40)
    assert sol["totals"]["backfill_cost"] == pytest.approx(362.40)
    assert sum(sol["objective_terms"].values()) == pytest.approx(sol["objective"])


def test_every_rule_function_returns_named_terms(make_problem):
    problem = parse_problem(
        make_problem(
            people=[person("p1", {AM: 10, PM: 0}, avoid=[PM]), person("p2", {AM: 5})],
            teams=[{"id": "t1", "members": ["p1", "p2"], "quorum": 1, "windows": [window()]}],
            previous=[{"person": "p1", "slot": AM}],
        )
    )
    built = build(problem)
    names = {t.name for t in built.terms}
    assert names == {"cost", "shortfall", "absence", "churn", "avoid"}
    assert all(rule.__name__.startswith("add_") for rule in RULES)
    solver = cp_model.CpSolver()
    assert solver.solve(built.model) == cp_model.OPTIMAL


def test_slots_helper_covers_a_week():
    assert len(make_slots(5)) == 10


def test_team_pin_without_quorum_is_explained(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}), person("p2", {PM: 0})],
        commitments=[],
        teams=[
            {
                "id": "t1",
                "name": "Renal MDT",
                "members": ["p1", "p2"],
                "quorum": 2,
                "windows": [window()],
            }
        ],
        pinned=[{"team": "t1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert sol["status"] == "infeasible"
    assert sol["conflicts"] == [
        "Team Renal MDT is pinned to meet on 2026-03-02/AM, but only 1 of its members are "
        "available then and its quorum is 2"
    ]


def test_person_pinned_to_two_activities_in_one_slot(make_problem, solve_dict):
    data = make_problem(
        people=[person("p1", {AM: 0}, name="Amara Okafor"), person("p2", {AM: 0})],
        teams=[{"id": "t1", "members": ["p1", "p2"], "quorum": 2, "windows": [window()]}],
        pinned=[{"team": "t1", "slot": AM}, {"person": "p1", "commitment": "c1", "slot": AM}],
    )
    _, sol = solve_dict(data)
    assert sol["status"] == "infeasible"
    (msg,) = sol["conflicts"]
    assert msg.startswith("Amara Okafor is pinned to more than one activity on 2026-03-02/AM")

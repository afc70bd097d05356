"""The incremental re-solve (`solver.incremental.resolve`): one tiny hand-made problem per
behaviour. Every plan it returns is re-verified with `check`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from solver_factories import make_slots, window

from solver import SolveOptions, check, parse_problem, solution_to_dict
from solver.__main__ import main
from solver.incremental import resolve

OPTIONS = SolveOptions(time_limit=10.0, workers=1, seed=0)
SLOTS = make_slots(5)  # Mon 2 - Fri 6 March 2026, AM and PM
IDS = [s["id"] for s in SLOTS]


def person(pid: str, dept: str = "ed", **kw: Any) -> dict:
    return {"id": pid, "department": dept, "available": {s: 100.0 for s in IDS}, **kw}


def problem_dict(people: list[dict], commitments: list[dict], **fields: Any) -> dict:
    return {
        "format": "sel-time/problem@1",
        "slots": SLOTS,
        "people": people,
        "commitments": commitments,
        "teams": [],
        "caps": [],
        "pinned": [],
        "previous": [],
        "weights": {"shortfall": 5000, "absence": 200, "churn": 200, "avoid": 25},
        **fields,
    }


def one(cid: str, pid: str, sessions: int = 1, **kw: Any) -> dict:
    return {"id": cid, "person": pid, "windows": [window(sessions=sessions, **kw)]}


def run(data: dict, previous: Any = None, **touched: Any) -> tuple[dict, dict]:
    """resolve, then check the whole plan; returns (solution document, incremental info)."""
    problem = parse_problem(data)
    sol = solution_to_dict(resolve(problem, previous, options=OPTIONS, **touched))
    assert sol["status"] in ("optimal", "feasible"), sol
    result = check(problem, sol)
    assert result.ok, result.violations
    assert abs(result.objective - sol["objective"]) <= 0.01
    return sol, sol["solver"]["incremental"]


def sessions_of(sol: dict, pid: str) -> list[dict]:
    return [s for s in sol["sessions"] if s["person"] == pid]


def leave(data: dict, pid: str, *slots: str) -> None:
    for p in data["people"]:
        if p["id"] == pid:
            for s in slots:
                p["available"].pop(s)


def published(
    data: dict, solve_dict: Callable[..., tuple[Any, dict]]
) -> tuple[dict, list[dict]]:
    """Solve `data` in full and return the solution and its `previous` entries."""
    _, sol = solve_dict(data)
    prev = [
        {"person": s["person"], "commitment": s["commitment"], "slot": s["slot"]}
        for s in sol["sessions"]
    ]
    prev += [{"team": t["team"], "slot": t["slot"]} for t in sol["team_sessions"]]
    return sol, prev


def test_untouched_people_keep_their_sessions_byte_for_byte(solve_dict) -> None:
    # p2 and p3 could now do better (their Monday AM became expensive), but nobody touched
    # them: their published sessions come back exactly, commitment and cost included.
    people = [person("p1"), person("p2", "icu"), person("p3", "gp")]
    data = problem_dict(people, [one("c1", "p1"), one("c2", "p2", 2), one("c3", "p3")])
    sol0, prev = published(data, solve_dict)
    data["previous"] = prev
    leave(data, "p1", *[s for s in IDS if s != IDS[-1]])  # p1 keeps only Friday PM
    for p in data["people"][1:]:
        p["available"] = {s: 480.0 for s in IDS}
    for pid in ("p2", "p3"):
        p_sessions = sessions_of(sol0, pid)
        assert p_sessions
    sol, info = run(data, people=["p1"])
    assert info["free_people"] == ["p1"] and info["widened"] is None
    for pid in ("p2", "p3"):
        was = [(s["person"], s["commitment"], s["slot"]) for s in sessions_of(sol0, pid)]
        now = [(s["person"], s["commitment"], s["slot"]) for s in sessions_of(sol, pid)]
        assert now == was
    assert [s["slot"] for s in sessions_of(sol, "p1")] == [IDS[-1]]


def test_a_full_solve_would_move_them_so_the_fixing_is_real(solve_dict) -> None:
    # The same change solved in full moves p2 (a cheaper slot appears for them), which the
    # incremental re-solve must not do when p2 is untouched.
    people = [person("p1"), person("p2", "icu")]
    data = problem_dict(people, [one("c1", "p1"), one("c2", "p2")])
    data["people"][1]["available"] = {s: 400.0 for s in IDS}
    data["previous"] = [
        {"person": "p1", "commitment": "c1", "slot": IDS[0]},
        {"person": "p2", "commitment": "c2", "slot": IDS[0]},
    ]
    data["people"][1]["available"][IDS[5]] = 0.0  # worth the churn of 200 to move
    _, full = solve_dict(data)
    assert [s["slot"] for s in sessions_of(full, "p2")] == [IDS[5]]
    sol, _ = run(data, people=["p1"])
    assert [s["slot"] for s in sessions_of(sol, "p2")] == [IDS[0]]
    sol, _ = run(data, people=["p2"])
    assert [s["slot"] for s in sessions_of(sol, "p2")] == [IDS[5]]


def test_new_leave_re_places_the_lost_session_within_its_window(solve_dict) -> None:
    people = [person("p1"), person("p2", "icu")]
    data = problem_dict(people, [one("c1", "p1", 2), one("c2", "p2")])
    sol0, prev = published(data, solve_dict)
    data["previous"] = prev
    lost, kept = [s["slot"] for s in sessions_of(sol0, "p1")]
    leave(data, "p1", lost)  # new leave in the slot of one published session
    sol, info = run(data, people=["p1"])
    slots = [s["slot"] for s in sessions_of(sol, "p1")]
    assert len(slots) == 2 and lost not in slots
    assert all("2026-03-02" <= s[:10] <= "2026-03-08" for s in slots)  # within the window
    assert kept in slots  # the other published session stays (churn)
    assert sol["totals"]["shortfall_sessions"] == 0
    assert sol["totals"]["churn"] == 1


def test_a_person_whose_published_session_broke_is_freed_without_being_named(solve_dict) -> None:
    data = problem_dict([person("p1"), person("p2", "icu")], [one("c1", "p1"), one("c2", "p2")])
    _, prev = published(data, solve_dict)
    data["previous"] = prev
    lost = next(e["slot"] for e in prev if e.get("person") == "p2")
    leave(data, "p2", lost)
    sol, info = run(data)  # nobody named
    assert info["auto_touched_people"] == ["p2"] and info["free_people"] == ["p2"]
    assert len(sessions_of(sol, "p2")) == 1 and sessions_of(sol, "p2")[0]["slot"] != lost


def capped() -> dict:
    """p1 loses Monday AM; every other slot but Friday PM is taken by p2 or p3 of the same
    department (cap 1); p3 is one session short."""
    people = [person("p1"), person("p2"), person("p3")]
    people[0]["available"] = {s: 0.0 for s in IDS}
    people[0]["available"][IDS[-1]] = 300.0
    people[1]["available"] = {s: 50.0 for s in IDS}
    people[2]["available"] = {s: 50.0 for s in IDS}
    commitments = [one("c1", "p1"), one("c2", "p2", 5), one("c3", "p3", 4)]
    prev = [{"person": "p1", "commitment": "c1", "slot": IDS[0]}]
    prev += [{"person": "p2", "commitment": "c2", "slot": s} for s in IDS[1:6]]
    prev += [{"person": "p3", "commitment": "c3", "slot": s} for s in IDS[6:9]]
    data = problem_dict(people, commitments, previous=prev,
                        caps=[{"department": "ed", "max_away": 1}])
    leave(data, "p1", IDS[0])
    return data


def test_a_cap_shared_with_fixed_people_is_respected() -> None:
    # Department-mates not freed: p2 and p3 stay put, so p1 must go to Friday PM, even
    # though it is dearer.
    sol, info = run(capped(), people=["p1"], departments=False)
    assert info["widened"] is None and info["free_people"] == ["p1"]
    assert [s["slot"] for s in sessions_of(sol, "p1")] == [IDS[-1]]
    assert len(sessions_of(sol, "p2")) == 5 and len(sessions_of(sol, "p3")) == 3


def test_department_mates_are_freed_by_default() -> None:
    # The same change with the default: p2 and p3 share p1's capped department, so they are
    # free too, and p3 takes the slot p1's leave left empty (its shortfall of £5,000 gone).
    alone, _ = run(capped(), people=["p1"], departments=False)
    sol, info = run(capped(), people=["p1"])
    assert info["free_people"] == ["p1", "p2", "p3"] and info["departments"] is True
    assert len(sessions_of(sol, "p3")) == 4
    assert sol["objective"] < alone["objective"] - 4000


def test_a_team_of_a_touched_person_moves_with_its_members_attendance(solve_dict) -> None:
    # p1 is on leave where the team met; quorum 3 of 3, so the team meets again elsewhere
    # with all three, and p2's and p3's individual sessions move out of its way if need be.
    people = [person("p1"), person("p2", "icu"), person("p3", "gp"), person("p4", "gp")]
    commitments = [one("c1", "p1"), one("c2", "p2"), one("c3", "p3"), one("c4", "p4")]
    team = {"id": "t1", "members": ["p1", "p2", "p3"], "quorum": 3,
            "windows": [window()]}
    data = problem_dict(people, commitments, teams=[team])
    sol0, prev = published(data, solve_dict)
    data["previous"] = prev
    met = sol0["team_sessions"][0]["slot"]
    leave(data, "p1", met)
    sol, info = run(data, people=["p1"])
    assert info["free_teams"] == ["t1"] and info["free_people"] == ["p1", "p2", "p3"]
    assert len(sol["team_sessions"]) == 1
    assert sol["team_sessions"][0]["slot"] != met
    assert sorted(sol["team_sessions"][0]["attendees"]) == ["p1", "p2", "p3"]
    assert sessions_of(sol, "p4") == sessions_of(sol0, "p4")  # not a member: fixed


def test_fixed_team_sessions_keep_the_published_attendees(solve_dict) -> None:
    # With the published solution given, a team session nobody touched keeps its
    # attendees exactly; with only `previous` (no attendees) they are chosen again.
    people = [person("p1"), person("p2", "icu"), person("p3", "gp")]
    team = {"id": "t1", "members": ["p2", "p3"], "quorum": 1, "windows": [window()]}
    data = problem_dict(people, [one("c1", "p1")], teams=[team])
    data["people"][2]["available"] = {s: 300.0 for s in IDS}  # p3 attends only for quorum
    prev = [{"person": "p1", "commitment": "c1", "slot": IDS[0]}, {"team": "t1", "slot": IDS[2]}]
    data["previous"] = prev
    published_sol = {
        "format": "sel-time/solution@1", "status": "feasible", "objective": 0, "bound": 0,
        "wall_seconds": 0,
        "sessions": [{"person": "p1", "commitment": "c1", "slot": IDS[0], "cost": 100.0}],
        "team_sessions": [{"team": "t1", "slot": IDS[2], "attendees": ["p2", "p3"],
                           "absent": [], "cost": 400.0}],
    }
    leave(data, "p1", IDS[0])
    sol, info = run(data, published_sol, people=["p1"])
    assert info["open_meetings"] == 0
    assert sol["team_sessions"][0]["attendees"] == ["p2", "p3"]
    sol, info = run(data, people=["p1"])
    assert info["open_meetings"] == 1
    assert sol["team_sessions"][0]["slot"] == IDS[2]
    assert sol["team_sessions"][0]["attendees"] == ["p2"]  # p3 costs more than an absence


def test_an_infeasible_local_problem_widens_to_the_department() -> None:
    # p1 is pinned to Monday AM, where fixed p2 of the same department (cap 1) has a
    # session: the local model has no plan, so p2 is freed too and moves.
    people = [person("p1"), person("p2")]
    data = problem_dict(
        people,
        [one("c1", "p1"), one("c2", "p2")],
        caps=[{"department": "ed", "max_away": 1}],
        previous=[
            {"person": "p1", "commitment": "c1", "slot": IDS[3]},
            {"person": "p2", "commitment": "c2", "slot": IDS[0]},
        ],
        pinned=[{"person": "p1", "commitment": "c1", "slot": IDS[0]}],
    )
    sol, info = run(data, people=["p1"], departments=False)
    assert info["widened"] == "departments"
    assert sorted(info["free_people"]) == ["p1", "p2"]
    assert IDS[0] in [s["slot"] for s in sessions_of(sol, "p1")]
    assert len(sessions_of(sol, "p2")) == 1 and sessions_of(sol, "p2")[0]["slot"] != IDS[0]


def test_a_problem_with_no_plan_falls_back_to_the_full_solve_and_says_why() -> None:
    # Two pins in one slot of a department capped at 1: no plan at all. The local model and
    # its widening fail, the full solve proves it and names the clash; no plan is returned.
    data = problem_dict(
        [person("p1"), person("p2")],
        [one("c1", "p1"), one("c2", "p2")],
        caps=[{"department": "ed", "max_away": 1}],
        pinned=[{"person": "p1", "slot": IDS[0]}, {"person": "p2", "slot": IDS[0]}],
    )
    sol = solution_to_dict(resolve(parse_problem(data), people=["p1"], options=OPTIONS))
    assert sol["status"] == "infeasible" and sol["conflicts"]
    assert sol["sessions"] == []
    assert sol["solver"]["incremental"]["widened"] == "full"


def test_nothing_touched_returns_the_published_plan(solve_dict) -> None:
    data = problem_dict([person("p1"), person("p2", "icu")], [one("c1", "p1", 2), one("c2", "p2")])
    sol0, prev = published(data, solve_dict)
    data["previous"] = prev
    sol, info = run(data)
    assert info["free_people"] == [] and info["local_size"] == 0
    assert sol["sessions"] == sol0["sessions"]
    assert sol["objective"] == sol0["objective"]


def test_unknown_ids_are_refused() -> None:
    data = problem_dict([person("p1")], [one("c1", "p1")])
    with pytest.raises(ValueError, match="nobody"):
        resolve(parse_problem(data), people=["nobody"], options=OPTIONS)


def test_command_line(tmp_path: Path, capsys, solve_dict) -> None:
    data = problem_dict([person("p1"), person("p2", "icu")], [one("c1", "p1"), one("c2", "p2")])
    sol0, prev = published(data, solve_dict)
    data["previous"] = prev
    leave(data, "p1", sessions_of(sol0, "p1")[0]["slot"])
    pf = tmp_path / "problem.json"
    pf.write_text(json.dumps(data))
    out = tmp_path / "solution.json"
    argv = ["resolve", str(pf), "--people", "p1", "-o", str(out), "--workers", "1"]
    assert main(argv) == 0
    assert main(["check", str(pf), str(out)]) == 0
    sol = json.loads(out.read_text())
    assert sol["solver"]["incremental"]["free_people"] == ["p1"]
    assert sessions_of(sol, "p2") == sessions_of(sol0, "p2")
    capsys.readouterr()
    assert main(["resolve", str(pf), "--people", "p1,nobody"]) == 2
    assert "nobody" in capsys.readouterr().err


def test_fairness_counts_the_fixed_people_shortfall(solve_dict) -> None:
    # A random small problem with groups and the fairness term on: the local model prices
    # the worst group with the held people's shortfall as constants, so its plan is the
    # full re-solve's objective here, fairness term included.
    from solver_factories import random_problem

    data = random_problem(4, people=8, days=10, teams=2)
    data["previous"] = []
    data["pinned"] = [p for p in data["pinned"] if p.get("person") != "p0"]
    for i, p in enumerate(data["people"]):
        p["groups"] = [f"g{i % 3}"]
    data["weights"]["fairness"] = 50
    _, prev = published(data, solve_dict)
    data["previous"] = prev
    p0 = data["people"][0]
    p0["available"] = {s: c for s, c in p0["available"].items() if s[:10] > "2026-03-06"}
    p0["avoid"] = [s for s in p0.get("avoid", []) if s in p0["available"]]
    sol, info = run(data, people=["p0"])
    assert "fairness" in sol["objective_terms"] and info["widened"] is None
    _, full = solve_dict(data)
    assert sol["objective"] == full["objective"]

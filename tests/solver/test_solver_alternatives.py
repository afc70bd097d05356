"""Alternatives for one session: every other slot of its window judged as a move, with the
hard rules broken in words and the objective's change, as `check` would recompute it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import make_slots, random_problem, window

from solver import SolveOptions, check, parse_problem, solution_to_dict, solve
from solver.__main__ import main
from solver.alternatives import Mover, SessionNotFound, alternatives_to_dict
from solver.explain import build_solution
from solver.model import Problem
from solver.plan import Plan

MON_AM, MON_PM = "2026-03-02/AM", "2026-03-02/PM"
TUE_AM, TUE_PM = "2026-03-03/AM", "2026-03-03/PM"
WED_AM = "2026-03-04/AM"


def problem_of(**fields) -> Problem:
    data = {
        "format": "sel-time/problem@1",
        "slots": make_slots(5),
        "people": [],
        "commitments": [],
        **fields,
    }
    return parse_problem(data)


def doc(problem: Problem, sessions=(), meetings=()) -> dict:
    """A solution document for a hand-made plan (priced by the solver's own explain)."""
    idx = problem.slot_index
    plan = Plan(
        {(p, idx[s]): c for p, c, s in sessions},
        {(t, idx[s]): tuple(att) for t, s, att in meetings},
    )
    sol = solution_to_dict(build_solution(problem, plan, "feasible", None, 0.0, {}))
    assert check(problem, sol).ok, check(problem, sol).violations
    return sol


def by_slot(result) -> dict:
    return {a.slot: a for a in result.alternatives}


def two_in_ed(**extra) -> Problem:
    return problem_of(
        people=[
            {"id": "p1", "name": "Amara Okafor", "department": "kch-ed",
             "available": {MON_AM: 100, MON_PM: 40, TUE_AM: 0, WED_AM: 10}},
            {"id": "p2", "department": "kch-ed", "available": {WED_AM: 0}},
        ],
        commitments=[
            {"id": "c1", "person": "p1", "windows": [window()]},
            {"id": "c2", "person": "p2", "windows": [window()]},
        ],
        caps=[{"department": "kch-ed", "max_away": 1}],
        **extra,
    )


def test_cap_is_named_as_the_spec_says():
    problem = two_in_ed()
    sol = doc(problem, [("p1", "c1", MON_AM), ("p2", "c2", WED_AM)])
    wed = by_slot(Mover(problem, sol).for_person("p1", MON_AM))[WED_AM]
    assert not wed.allowed and wed.objective_delta is None
    assert wed.reasons == ("kch-ed already has 1 of 1 people away on Wed 4 Mar AM",)


def test_unavailable_slot_is_refused():
    problem = two_in_ed()
    sol = doc(problem, [("p1", "c1", MON_AM)])
    fri = by_slot(Mover(problem, sol).for_person("p1", MON_AM))["2026-03-06/PM"]
    assert fri.reasons == (
        "Amara Okafor is not available on Fri 6 Mar PM "
        "(on leave, not working or a fixed commitment)",
    )


def test_delta_is_the_objective_change_and_allowed_come_first_cheapest_first():
    problem = two_in_ed(previous=[{"person": "p1", "slot": MON_AM}])
    sol = doc(problem, [("p1", "c1", MON_AM)])
    result = Mover(problem, sol).for_person("p1", MON_AM, commitment="c1")
    assert result.session == {"person": "p1", "commitment": "c1", "slot": MON_AM}
    allowed = [(a.slot, a.objective_delta) for a in result.alternatives if a.allowed]
    # cost 100 -> 0 / 40 / 10, and the published MON_AM entry dropped: churn 50.
    assert allowed == [(TUE_AM, -50.0), (WED_AM, -40.0), (MON_PM, -10.0)]
    assert [a.allowed for a in result.alternatives] == [True] * 3 + [False] * 6
    assert len(result.alternatives) == 9  # every other slot of the week's window


def test_one_activity_per_slot_and_daily_limit_are_both_named():
    problem = problem_of(
        people=[
            {"id": "p1", "available": {MON_AM: 0, TUE_AM: 0, TUE_PM: 0}, "max_per_day": 1},
            {"id": "p2", "available": {TUE_AM: 0}},
        ],
        commitments=[{"id": "c1", "person": "p1", "windows": [window()]}],
        teams=[{"id": "t1", "name": "Renal MDT", "members": ["p1", "p2"], "quorum": 2,
                "windows": [window()]}],
    )
    sol = doc(problem, [("p1", "c1", MON_AM)], [("t1", TUE_AM, ["p1", "p2"])])
    alts = by_slot(Mover(problem, sol).for_person("p1", MON_AM))
    assert alts[TUE_AM].reasons == (
        "p1 would have 2 protected activities on Tue 3 Mar AM: team Renal MDT and a c1 session",
        "p1 would have 2 protected activities on Tue 3 Mar, more than their limit of 1 a day",
    )
    assert alts[TUE_PM].reasons == (
        "p1 would have 2 protected activities on Tue 3 Mar, more than their limit of 1 a day",
    )


def test_a_pinned_session_cannot_move():
    problem = two_in_ed(pinned=[{"person": "p1", "slot": MON_AM}])
    sol = doc(problem, [("p1", "c1", MON_AM)])
    alts = Mover(problem, sol).for_person("p1", MON_AM).alternatives
    assert not any(a.allowed for a in alts)
    assert all("Amara Okafor's session on Mon 2 Mar AM is pinned by a manager" in a.reasons
               for a in alts)


def test_team_move_keeps_quorum_tops_up_and_prices_absence():
    problem = problem_of(
        people=[
            {"id": "a", "available": {MON_AM: 10, TUE_AM: 10}},
            {"id": "b", "available": {MON_AM: 10}},
            {"id": "c", "available": {TUE_AM: 30, WED_AM: 0}},
        ],
        teams=[{"id": "t1", "members": ["a", "b", "c"], "quorum": 2, "windows": [window()],
                "slots": [MON_AM, TUE_AM, WED_AM]}],
    )
    sol = doc(problem, meetings=[("t1", MON_AM, ["a", "b"])])
    alts = by_slot(Mover(problem, sol).for_team("t1", MON_AM))
    # TUE_AM: a stays, b is away, c tops up the quorum: cost 20 -> 40, no one absent.
    assert alts[TUE_AM].allowed and alts[TUE_AM].attendees == ("a", "c")
    assert alts[TUE_AM].objective_delta == 20.0
    assert alts[WED_AM].reasons == (
        "Team t1 would have 1 members attending on Wed 4 Mar AM, below its quorum of 2",
    )
    assert alts[MON_PM].reasons[0] == "Team t1 may not meet on Mon 2 Mar PM (not one of its slots)"


def test_session_not_in_the_solution():
    problem = two_in_ed()
    mover = Mover(problem, doc(problem, [("p1", "c1", MON_AM)]))
    with pytest.raises(SessionNotFound):
        mover.for_person("p1", TUE_AM)
    with pytest.raises(SessionNotFound):
        mover.for_person("p1", MON_AM, commitment="c2")
    with pytest.raises(SessionNotFound):
        mover.for_team("t9", MON_AM)


def test_cli_alternatives(tmp_path: Path, capsys):
    problem = two_in_ed()
    sol = doc(problem, [("p1", "c1", MON_AM), ("p2", "c2", WED_AM)])
    pf, sf = tmp_path / "p.json", tmp_path / "s.json"
    data = {
        "format": "sel-time/problem@1", "slots": make_slots(5),
        "people": [{"id": "p1", "name": "Amara Okafor", "department": "kch-ed",
                    "available": {MON_AM: 100, MON_PM: 40, TUE_AM: 0, WED_AM: 10}},
                   {"id": "p2", "department": "kch-ed", "available": {WED_AM: 0}}],
        "commitments": [{"id": "c1", "person": "p1", "windows": [window()]},
                        {"id": "c2", "person": "p2", "windows": [window()]}],
        "caps": [{"department": "kch-ed", "max_away": 1}],
    }
    pf.write_text(json.dumps(data))
    sf.write_text(json.dumps(sol))
    assert main(["alternatives", str(pf), str(sf), "--person", "p1", "--slot", MON_AM]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "sel-time/alternatives@1"
    assert out["session"] == {"person": "p1", "commitment": "c1", "slot": MON_AM}
    assert out["alternatives"][0] == {
        "slot": TUE_AM, "allowed": True, "objective_delta": -100.0, "reasons": []
    }
    assert main(["alternatives", str(pf), str(sf), "--person", "p1", "--slot", TUE_AM]) == 1
    assert "no session for p1 in 2026-03-03/AM" in capsys.readouterr().err
    assert main(["alternatives", str(pf), str(sf), "--team", "t1", "--slot", TUE_AM]) == 1
    sf.write_text("{not json")
    assert main(["alternatives", str(pf), str(sf), "--person", "p1", "--slot", MON_AM]) == 2
    assert "invalid JSON" in capsys.readouterr().err
    sf.write_text(json.dumps(sol))
    data["caps"][0]["max_away"] = -1
    pf.write_text(json.dumps(data))
    assert main(["alternatives", str(pf), str(sf), "--person", "p1", "--slot", MON_AM]) == 2
    assert "caps[0].max_away: negative value -1" in capsys.readouterr().err


# ---- property: allowed moves pass check, deltas are the recomputed difference ---------


def _moved(problem: Problem, sol: dict, alt, person=None, team=None, slot=None) -> dict:
    idx = problem.slot_index
    sessions = {(s["person"], idx[s["slot"]]): s["commitment"] for s in sol["sessions"]}
    meetings = {(t["team"], idx[t["slot"]]): tuple(t["attendees"]) for t in sol["team_sessions"]}
    if person is not None:
        c = sessions.pop((person, idx[slot]))
        sessions[(person, idx[alt.slot])] = c
    else:
        meetings.pop((team, idx[slot]))
        meetings[(team, idx[alt.slot])] = alt.attendees
    moved = build_solution(problem, Plan(sessions, meetings), "feasible", None, 0.0, {})
    return solution_to_dict(moved)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fairness=st.sampled_from([0, 30]))
def test_property_allowed_moves_pass_check_and_deltas_add_up(seed, fairness):
    data = random_problem(seed)
    if fairness:
        for i, p in enumerate(data["people"]):
            p["groups"] = ["nurse" if i % 2 else "doctor"]
        data["weights"]["fairness"] = fairness
    problem = parse_problem(data)
    sol = solution_to_dict(solve(problem, SolveOptions(time_limit=5, workers=1, seed=0)))
    if sol["status"] not in ("optimal", "feasible"):
        return
    base = check(problem, sol)
    assert base.ok, base.violations
    mover = Mover(problem, sol)
    asks = [(dict(person=s["person"], slot=s["slot"])) for s in sol["sessions"]]
    asks += [(dict(team=t["team"], slot=t["slot"])) for t in sol["team_sessions"]]
    for ask in asks:
        result = (
            mover.for_person(ask["person"], ask["slot"])
            if "person" in ask
            else mover.for_team(ask["team"], ask["slot"])
        )
        assert json.dumps(alternatives_to_dict(result))
        for alt in result.alternatives:
            if not alt.allowed:
                assert alt.reasons and alt.objective_delta is None
                continue
            after = check(problem, _moved(problem, sol, alt, **ask))
            assert after.ok, (ask, alt, after.violations)
            assert after.objective - base.objective == pytest.approx(alt.objective_delta, abs=0.011)

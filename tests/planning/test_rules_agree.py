"""Each hard rule is written once (`solver.rules`) and every part that judges a plan agrees
on it: for each rule, one tiny hand-made problem and an entry that would break it, judged
by (a) the CP-SAT model (the entry pinned: infeasible), (b) `check` (on the plan holding the
entry), (c) the conflict explainer (the pins named) and (d) the app's hand-edit check (the
entry added or moved by hand) — the same verdict from all four, and the allowed variant
passes all four. Then, on the small world, every slot the session page offers is a move
the app accepts."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

import solver
from sel_time.core.audit import Actor
from sel_time.core.errors import ValidationError
from sel_time.core.extensions import db
from sel_time.models import Plan, PlanAttendee, PlanSession, PlanStatus
from sel_time.plans import planning
from sel_time.plans.hand_edits import TITLES, move_options
from solver.conflicts import check_pins
from solver.explain import build_solution
from solver.model import Problem
from solver.plan import Plan as SolverPlan
from solver.rules import Focus, Roster, breaches
from tests.planning.conftest import Small

MON_AM, MON_PM, TUE_AM, TUE_PM = "2026-03-02/AM", "2026-03-02/PM", "2026-03-03/AM", "2026-03-03/PM"
SLOTS = [MON_AM, MON_PM, TUE_AM, TUE_PM]
WEEK = {"from": "2026-03-02", "to": "2026-03-08", "sessions": 1}

# An entry of a plan: an individual session (person, commitment, slot) or a team meeting
# ("team", team, slot) that Amara (p1) attends; the ids are the app's keys (p<person id>,
# a<assignment id>, t<team id>).
Entry = tuple[str, str, str]


def problem_dict(**changes: Any) -> dict[str, Any]:
    """Two people of one department, three commitments, a team that meets on Tuesday PM."""
    people = [
        {"id": "p1", "name": "Amara Okafor", "department": "ed",
         "available": {s: 100.0 for s in SLOTS}},
        {"id": "p2", "name": "Ben Lee", "department": "ed", "available": {s: 80.0 for s in SLOTS}},
    ]
    for i, extra in changes.pop("people", {}).items():
        people[i] = {**people[i], **extra}
    return {
        "format": "sel-time/problem@1",
        "timezone": "Europe/London",
        "slots": [{"id": s, "start": s[:10] + ("T09:00" if s.endswith("AM") else "T13:30"),
                   "end": s[:10] + ("T13:00" if s.endswith("AM") else "T17:30")} for s in SLOTS],
        "people": people,
        "commitments": [
            {"id": "a1", "person": "p1", "name": "Clinical lead", "windows": [WEEK]},
            {"id": "a2", "person": "p1", "name": "Governance lead", "windows": [WEEK]},
            {"id": "a3", "person": "p2", "name": "Deputy lead", "windows": [WEEK]},
        ],
        "teams": [{"id": "t1", "name": "Renal MDT", "members": ["p1", "p2"], "quorum": 1,
                   "windows": [{**WEEK, "sessions": 0}], "slots": [TUE_PM]}],
        **changes,
    }


@dataclass(frozen=True)
class Case:
    rule: int
    problem: dict[str, Any]
    plan: tuple[Entry, ...]  # the plan before the edit
    refused: Entry  # the entry added by hand (or by a pin) that breaks the rule
    allowed: Entry  # one that does not
    explained: str  # what the conflict explainer says
    said: str  # what a rota manager reads from the hand-edit check (and the rules)


CASES = [
    Case(1, problem_dict(), (("team", "t1", TUE_PM),), ("p1", "a1", TUE_PM), ("p1", "a1", TUE_AM),
         "pinned to more than one activity", "Amara Okafor would have 2 protected activities on "
         "Tue 3 Mar PM: team Renal MDT and a Clinical lead session"),
    Case(2, problem_dict(people={0: {"available": {MON_AM: 100.0, TUE_AM: 100.0}}}), (),
         ("p1", "a1", MON_PM), ("p1", "a1", TUE_AM), "not available then",
         "Amara Okafor is not available on Mon 2 Mar PM (on leave, not working or a fixed "
         "commitment)"),
    Case(3, problem_dict(), (), ("team", "t1", MON_AM), ("team", "t1", TUE_PM),
         "not one of the slots team Renal MDT may meet in",
         "Team Renal MDT may not meet on Mon 2 Mar AM (not one of its slots)"),
    Case(4, problem_dict(caps=[{"department": "ed", "max_away": 1}]), (("p2", "a3", MON_AM),),
         ("p1", "a1", MON_AM), ("p1", "a1", MON_PM), "exceed the ed cap of 1 away",
         "ed already has 1 of 1 people away on Mon 2 Mar AM"),
    Case(5, problem_dict(people={0: {"max_per_day": 1}}), (("p1", "a1", MON_AM),),
         ("p1", "a2", MON_PM), ("p1", "a2", TUE_AM), "their limit of 1 a day",
         "Amara Okafor would have 2 protected activities on Mon 2 Mar, more than their limit "
         "of 1 a day"),
]


def pin_of(entry: Entry) -> dict[str, str]:
    if entry[0] == "team":
        return {"team": entry[1], "person": "p1", "slot": entry[2]}  # Amara attends
    return {"person": entry[0], "commitment": entry[1], "slot": entry[2]}


def solution_of(problem: Problem, entries: tuple[Entry, ...]) -> dict[str, Any]:
    """The plan of `entries` as a solution document, priced by the solver's explain."""
    idx, plan, more = problem.slot_index, SolverPlan(), []
    for who, what, slot in entries:
        if who == "team":
            plan.meetings[(what, idx[slot])] = ("p1",)
        elif slot not in problem.person[who].available:
            more.append((who, what, slot))  # not priced by explain: the person is away (rule 2)
        else:
            plan.sessions[(who, idx[slot])] = what
    doc = solver.solution_to_dict(build_solution(problem, plan, "feasible", None, 0.0, {}))
    doc["sessions"] += [{"person": p, "commitment": c, "slot": s, "cost": 0.0} for p, c, s in more]
    return doc


def in_memory_plan(problem: dict[str, Any], entries: tuple[Entry, ...]) -> Plan:
    """A draft (never saved) holding `entries`, as the app keeps a plan."""
    plan = Plan(problem=problem, status=PlanStatus.DRAFT, edits=0)
    for who, what, slot in entries:
        if who == "team":
            session = PlanSession(team_id=int(what[1:]), slot=slot, pinned=False, cost_pence=0)
            session.attendees.append(PlanAttendee(person_id=1, attending=True, cost_pence=0))
        else:
            session = PlanSession(person_id=int(who[1:]), assignment_id=int(what[1:]), slot=slot,
                                  pinned=False, cost_pence=0)
        plan.sessions.append(session)
    return plan


def model_verdict(problem: dict[str, Any], entries: tuple[Entry, ...]) -> list[str]:
    """(a) The full solve with every entry pinned: its conflicts (none when feasible)."""
    parsed = solver.parse_problem({**problem, "pinned": [pin_of(e) for e in entries]})
    sol = solver.solution_to_dict(solver.solve(parsed, solver.SolveOptions(
        time_limit=10.0, workers=1, seed=0)))
    assert sol["status"] in ("optimal", "feasible", "infeasible"), sol["status"]
    assert (sol["status"] == "infeasible") == bool(sol["conflicts"])
    return list(sol["conflicts"])


def check_verdict(problem: dict[str, Any], entries: tuple[Entry, ...]) -> set[int]:
    """(b) `check` on the plan holding the entries: the numbers of the rules it names."""
    parsed = solver.parse_problem(problem)
    violations = solver.check(parsed, solution_of(parsed, entries)).violations
    return {int(n) for v in violations for n in re.findall(r"\(rule (\d)\)", v)}


def explainer_verdict(problem: dict[str, Any], entries: tuple[Entry, ...]) -> list[str]:
    """(c) The conflict explainer on the entries as pins."""
    parsed = solver.parse_problem({**problem, "pinned": [pin_of(e) for e in entries]})
    return check_pins(parsed).conflicts


def app_verdict(case: Case, entry: Entry) -> list[str]:
    """(d) The app's hand-edit check: the entry added by hand to the plan (for a team, the
    app offers no hand edit that could break a team rule: nothing to refuse, none offered)."""
    plan = in_memory_plan(case.problem, case.plan)
    who, what, slot = entry
    if who == "team":
        meeting = in_memory_plan(case.problem, (("team", what, TUE_PM),)).sessions[0]
        assert move_options(plan, meeting) == []
        return []
    try:
        planning.check_individual(plan, int(who[1:]), int(what[1:]), slot)
    except ValidationError as exc:
        assert exc.detail == TITLES[case.rule]
        return [e.message for e in exc.errors]
    return []


@pytest.mark.parametrize("case", CASES, ids=[f"rule {c.rule}" for c in CASES])
def test_each_rule_gets_one_verdict_from_model_check_explainer_and_hand_edit(
        app: Flask, case: Case) -> None:
    broken = (*case.plan, case.refused)
    conflicts = model_verdict(case.problem, broken)
    assert any(case.explained in c for c in conflicts), conflicts
    assert check_verdict(case.problem, broken) == {case.rule}
    assert any(case.explained in c for c in explainer_verdict(case.problem, broken))
    said = app_verdict(case, case.refused)
    if case.refused[0] != "team":
        assert said == [case.said]
    # The rules themselves say it in the same words (in the same part of the solver).
    reasons = _reasons(case.problem, case.plan, case.refused)
    assert case.said in reasons, reasons

    fine = (*case.plan, case.allowed)
    assert model_verdict(case.problem, fine) == []
    assert check_verdict(case.problem, fine) == set()
    assert explainer_verdict(case.problem, fine) == []
    assert app_verdict(case, case.allowed) == []


def _reasons(problem: dict[str, Any], before: tuple[Entry, ...], entry: Entry) -> list[str]:
    """What `solver.rules` says of the plan with `entry` just added."""
    parsed = solver.parse_problem(problem)
    idx = parsed.slot_index
    roster = Roster.of(parsed, {(p, idx[s]): c for p, c, s in before if p != "team"},
                       {(t, idx[s]): ("p1",) for k, t, s in before if k == "team"})
    if entry[0] == "team":
        roster.add_meeting(entry[1], idx[entry[2]], ("p1",))
    else:
        roster.add_session(entry[0], entry[1], idx[entry[2]])
    arrived = {(entry[0] if entry[0] != "team" else "p1", idx[entry[2]])}
    return [b.reason for b in breaches(roster, Focus(arrived=arrived))]


def test_rule_6_a_pin_holds_in_the_model_check_explainer_and_hand_edit(app: Flask) -> None:
    """Rule 6 is broken by taking a pinned entry away: the model and the explainer keep it,
    `check` names a plan without it, and a hand move of a session the manager did not pin
    (the pin is the problem's) is refused; one the manager pinned takes its pin along."""
    pinned = problem_dict(pinned=[pin_of(("p1", "a1", TUE_AM))])
    parsed = solver.parse_problem(pinned)
    sol = solver.solution_to_dict(solver.solve(parsed, solver.SolveOptions(
        time_limit=10.0, workers=1, seed=0)))
    assert {"person": "p1", "commitment": "a1", "slot": TUE_AM}.items() <= next(
        s for s in sol["sessions"] if s["slot"] == TUE_AM and s["person"] == "p1").items()
    explained = check_pins(parsed)
    assert explained.ok and explained.plan is not None
    assert explained.plan.sessions == {("p1", parsed.slot_index[TUE_AM]): "a1"}
    parsed_plain = solver.parse_problem(pinned)
    moved = solver.check(parsed_plain, solution_of(parsed_plain, (("p1", "a1", MON_AM),)))
    assert f"pinned[0] (p1 in {TUE_AM}) is not in the plan (rule 6)" in moved.violations
    assert check_verdict(pinned, (("p1", "a1", MON_AM),)) == {6}
    assert check_verdict(pinned, (("p1", "a1", TUE_AM),)) == set()

    plan = in_memory_plan(pinned, (("p1", "a1", TUE_AM),))
    session = plan.sessions[0]
    with pytest.raises(ValidationError) as refused:
        planning.check_individual(plan, 1, 1, MON_AM, ignore=session)
    assert refused.value.detail == TITLES[6]
    assert [e.message for e in refused.value.errors] == [
        "Amara Okafor's session on Tue 3 Mar AM is pinned by a manager"]
    options = move_options(plan, session)
    assert options and not any(o.allowed for o in options)
    session.pinned = True  # the manager's own pin moves with the session
    planning.check_individual(plan, 1, 1, MON_AM, ignore=session)
    assert all(o.allowed for o in move_options(plan, session))


def _offered(html: str) -> list[str]:
    select = re.search(r'<select[^>]*id="slot".*?</select>', html, re.S)
    assert select is not None
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(0)) if v]


def test_the_move_list_offers_only_moves_the_app_accepts(
        app: Flask, small: Small, solve_plan: Callable[..., Plan]) -> None:
    from tests.planning.test_plan_page import _rota_manager

    plan = solve_plan()
    client = _rota_manager(app)
    actor = Actor("cli")
    individual = [s.id for s in plan.sessions if s.person_id is not None][:4]
    assert individual
    tried = {True: 0, False: 0}
    for sid in individual:
        page = client.get(f"/manage/plans/{plan.id}/sessions/{sid}")
        assert page.status_code == 200
        offered = _offered(page.get_data(as_text=True))
        plan = db.session.get(Plan, plan.id)  # type: ignore[assignment]
        session = next(s for s in plan.sessions if s.id == sid)
        options = move_options(plan, session)
        assert offered == [o.slot for o in options if o.allowed]
        assert offered, "each session has somewhere to go in the small world"
        deltas = [o.delta for o in options if o.allowed]
        assert deltas == sorted(deltas)  # cheapest first
        tried[True] += len(offered)
        tried[False] += len(options) - len(offered)
        for slot in offered:
            moved = planning.move_session(plan.id, sid, slot, actor)
            assert moved.slot == slot
            db.session.rollback()
        for option in (o for o in options if not o.allowed):
            with pytest.raises(ValidationError) as refused:
                planning.move_session(plan.id, sid, option.slot, actor)
            assert [e.message for e in refused.value.errors] == list(option.reasons)
            db.session.rollback()
    assert tried[True] and tried[False], tried  # both kinds were tried


def test_a_move_of_a_solved_problem_is_judged_once_per_request(app: Flask) -> None:
    """The app's check builds the roster once and judges the edit by applying and undoing
    it: the plan it was given is unchanged afterwards."""
    case = CASES[3]
    plan = in_memory_plan(case.problem, case.plan)
    before = [(s.person_id, s.slot) for s in plan.sessions]
    options = move_options(plan, plan.sessions[0])
    assert [(s.person_id, s.slot) for s in plan.sessions] == before
    assert {o.slot for o in options} == set(SLOTS) - {MON_AM}

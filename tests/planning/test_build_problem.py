"""From the database to the solver's problem: what a rota manager has entered (patterns,
leave, rates, cover limits, teams, the published roster) is what the solver is asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import solver
from sel_time.core.audit import CLI_ACTOR
from sel_time.core.errors import ValidationError
from sel_time.core.extensions import db
from sel_time.models import PlanShortfall
from sel_time.plans.publishing import publish
from sel_time.plans.scheduling import Scope, assignment_key, build_problem, person_key, team_key
from tests.planning.conftest import BANK_HOLIDAY, START, WEEKS, Small

WEEK1 = ["2027-04-26", "2027-04-27", "2027-04-28", "2027-04-29", "2027-04-30"]
WEEK2 = ["2027-05-04", "2027-05-05", "2027-05-06", "2027-05-07"]  # Monday is a bank holiday


def people_of(problem: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in problem["people"]}


def test_slots_are_working_half_days_without_bank_holidays(small: Small) -> None:
    problem = build_problem(START, WEEKS, Scope.parse("system")).problem
    ids = [s["id"] for s in problem["slots"]]
    assert ids == [f"{d}/{h}" for d in WEEK1 + WEEK2 for h in ("AM", "PM")]
    assert f"{BANK_HOLIDAY}/AM" not in ids
    first = problem["slots"][0]
    assert (first["start"], first["end"]) == ("2027-04-26T09:00", "2027-04-26T13:00")
    assert problem["timezone"] == "Europe/London"


def test_available_slots_follow_pattern_and_leave(small: Small, make: Callable[..., Any]) -> None:
    # Ben is away from Tuesday afternoon to Wednesday morning of week 1 (half-day grain).
    make(
        "absences",
        person_id=small.ben,
        kind="study",
        start_date="2027-04-27",
        start_half="PM",
        end_date="2027-04-28",
        end_half="AM",
    )
    people = people_of(build_problem(START, WEEKS, Scope.parse("system")).problem)
    ben = people[person_key(small.ben)]["available"]
    assert "2027-04-27/AM" in ben and "2027-04-28/PM" in ben
    assert "2027-04-27/PM" not in ben and "2027-04-28/AM" not in ben
    assert not any(s.startswith(("2027-04-30", "2027-05-07")) for s in ben)  # works Mon-Thu
    cara = people[person_key(small.cara)]["available"]
    assert sorted({s[:10] for s in cara}) == WEEK1  # on leave all of week 2
    assert len(people[person_key(small.ada)]["available"]) == 18


def test_cost_is_the_rate_in_force_that_day_times_four_hours(small: Small) -> None:
    people = people_of(build_problem(START, WEEKS, Scope.parse("system")).problem)
    ada = people[person_key(small.ada)]["available"]
    assert ada["2027-04-26/AM"] == 400.00  # £100/h before 1 May
    assert ada["2027-04-30/PM"] == 400.00
    assert ada["2027-05-04/AM"] == 480.00  # £120/h from 1 May
    assert ada["2027-04-28/PM"] == ada["2027-05-05/PM"] == 0  # non-clinical: no backfill
    ben = people[person_key(small.ben)]["available"]
    assert set(ben.values()) == {200.00}  # his own rate of £50/h wins over the card
    cara = people[person_key(small.cara)]["available"]
    assert set(cara.values()) == {320.00}  # band 8c at £80/h


def test_caps_commitments_and_teams(small: Small) -> None:
    problem = build_problem(START, WEEKS, Scope.parse("system")).problem
    assert problem["caps"] == [{"department": "kch-ed", "max_away": 1}]
    people = people_of(problem)
    assert people[person_key(small.ada)]["department"] == "kch-ed"
    assert "department" not in people[person_key(small.cara)]
    commitments = {c["id"]: c for c in problem["commitments"]}
    ada = commitments[assignment_key(small.ada_assignment)]
    assert ada["person"] == person_key(small.ada)
    assert ada["windows"] == [
        {"from": "2027-04-26", "to": "2027-05-02", "sessions": 1, "max": 1},
        {"from": "2027-05-03", "to": "2027-05-09", "sessions": 1, "max": 1},
    ]
    [team] = problem["teams"]
    assert team["id"] == team_key(small.team)
    assert sorted(team["members"]) == sorted(
        person_key(p) for p in (small.ada, small.ben, small.cara)
    )
    assert team["quorum"] == 2
    assert [w["sessions"] for w in team["windows"]] == [1, 1]
    assert team["slots"] == ["2027-04-29/PM", "2027-05-06/PM"]  # Thursday afternoons only
    assert problem["pinned"] == [] and problem["previous"] == []


def test_avoid_preferences_and_personal_limits(small: Small, make: Callable[..., Any]) -> None:
    make("preferences", person_id=small.ada, day="Mon", half="AM")
    from sel_time.models import Person

    db.session.get(Person, small.ben).max_per_week = 1
    db.session.commit()
    people = people_of(build_problem(START, WEEKS, Scope.parse("system")).problem)
    assert people[person_key(small.ada)]["avoid"] == ["2027-04-26/AM"]  # 3 May is a bank holiday
    assert people[person_key(small.ben)]["max_per_week"] == 1


def test_scope_limits_what_is_planned(small: Small) -> None:
    team_only = build_problem(START, WEEKS, Scope.parse("team:kch-lt")).problem
    assert team_only["commitments"] == [] and len(team_only["teams"]) == 1
    org = build_problem(START, WEEKS, Scope.parse("organisation:kch")).problem
    assert len(org["commitments"]) == 3
    with pytest.raises(ValidationError):
        build_problem(START.replace(day=27), WEEKS, Scope.parse("system"))  # not a Monday


def test_previous_is_the_published_roster(small: Small, solve_plan: Callable[..., Any]) -> None:
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    problem = build_problem(START, WEEKS, Scope.parse("system")).problem
    expected = sorted(
        [("person", person_key(s.person_id), s.slot) for s in plan.sessions if s.person_id]
        + [("team", team_key(s.team_id), s.slot) for s in plan.sessions if s.team_id]
    )
    got = sorted(
        (("person", e["person"], e["slot"]) if "person" in e else ("team", e["team"], e["slot"]))
        for e in problem["previous"]
    )
    assert got == expected
    for e in problem["previous"]:
        if "person" in e:
            assert e["commitment"].startswith("a")


def test_the_problem_is_valid_for_the_solver(small: Small, make: Callable[..., Any]) -> None:
    make("preferences", person_id=small.cara, day="Fri", half="PM")
    problem = build_problem(START, WEEKS, Scope.parse("system")).problem
    parsed = solver.parse_problem(problem)
    assert len(parsed.slots) == 18 and len(parsed.people) == 3


def test_a_leader_on_leave_for_a_whole_window_gets_a_shortfall_with_reason(
    small: Small, solve_plan: Callable[..., Any]
) -> None:
    plan = solve_plan()
    mine = [s for s in plan.shortfalls if s.assignment_id == small.cara_assignment]
    assert len(mine) == 1
    [sf] = mine
    assert isinstance(sf, PlanShortfall)
    assert (sf.window_from.isoformat(), sf.window_to.isoformat()) == ("2027-05-03", "2027-05-09")
    assert (sf.required, sf.scheduled, sf.reason) == (1, 0, "unavailable")
    assert "Cara Mensah" in sf.explanation and "leave" in sf.explanation
    # Her first week, when she is at work, is met.
    assert any(
        s.assignment_id == small.cara_assignment and s.slot.startswith("2027-04")
        for s in plan.sessions
    )

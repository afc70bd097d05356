"""Parsing and validation: every fault named by its JSON path, all faults at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from solver_factories import window

from solver.io import load_problem, parse_problem, parse_solution, solution_to_dict
from solver.model import Weights
from solver.reader import ProblemError
from solver.solve import SolveOptions, solve

SPEC_EXAMPLE: dict[str, Any] = {
    "format": "sel-time/problem@1",
    "timezone": "Europe/London",
    "slots": [
        {"id": "2026-03-02/AM", "start": "2026-03-02T09:00", "end": "2026-03-02T13:00"},
        {"id": "2026-03-02/PM", "start": "2026-03-02T13:30", "end": "2026-03-02T17:30"},
        {"id": "2026-03-03/AM", "start": "2026-03-03T09:00", "end": "2026-03-03T13:00"},
        {"id": "2026-03-04/PM", "start": "2026-03-04T13:30", "end": "2026-03-04T17:30"},
        {"id": "2026-03-11/PM", "start": "2026-03-11T13:30", "end": "2026-03-11T17:30"},
    ],
    "people": [
        {
            "id": "p1",
            "department": "kch-ed",
            "available": {
                "2026-03-02/AM": 212.40,
                "2026-03-02/PM": 0,
                "2026-03-03/AM": 100,
                "2026-03-04/PM": 80,
            },
            "avoid": ["2026-03-02/PM"],
            "max_per_day": 1,
            "max_per_week": 3,
        },
        {"id": "p2", "available": {"2026-03-04/PM": 0}},
        {"id": "p3", "available": {"2026-03-04/PM": 0, "2026-03-11/PM": 0}},
    ],
    "commitments": [
        {
            "id": "c1",
            "person": "p1",
            "windows": [{"from": "2026-03-02", "to": "2026-03-08", "sessions": 2, "max": 3}],
        }
    ],
    "teams": [
        {
            "id": "t1",
            "members": ["p1", "p2", "p3"],
            "quorum": 2,
            "windows": [{"from": "2026-03-01", "to": "2026-03-31", "sessions": 1}],
            "slots": ["2026-03-04/PM", "2026-03-11/PM"],
        }
    ],
    "caps": [{"department": "kch-ed", "max_away": 1}],
    "pinned": [
        {"person": "p1", "commitment": "c1", "slot": "2026-03-02/AM"},
        {"team": "t1", "slot": "2026-03-04/PM"},
    ],
    "previous": [{"person": "p1", "commitment": "c1", "slot": "2026-03-03/AM"}],
    "weights": {"shortfall": 5000, "absence": 200, "churn": 50, "avoid": 25},
}


def errors_of(data: Any) -> list[str]:
    with pytest.raises(ProblemError) as exc:
        parse_problem(data)
    return exc.value.errors


def test_spec_example_parses_and_solves():
    problem = parse_problem(SPEC_EXAMPLE)
    assert [p.id for p in problem.people] == ["p1", "p2", "p3"]
    assert problem.weights == Weights()
    assert problem.teams[0].slots == frozenset({"2026-03-04/PM", "2026-03-11/PM"})
    sol = solve(problem, SolveOptions(time_limit=5, workers=1))
    assert sol.status == "optimal"
    d = solution_to_dict(sol)
    assert d["format"] == "sel-time/solution@1"
    assert {"team": "t1", "slot": "2026-03-04/PM"}.items() <= d["team_sessions"][0].items()


def test_optional_fields_and_defaults(make_problem):
    data = make_problem()
    del (
        data["weights"],
        data["timezone"],
        data["teams"],
        data["caps"],
        data["pinned"],
        data["previous"],
    )
    problem = parse_problem(data)
    assert problem.timezone == "Europe/London" and problem.weights.shortfall == 5000
    assert problem.people[0].label == "Amara Okafor"


def mutate(path: str, value: Any) -> Callable[[dict], None]:
    """Set a value by a dotted path with [i] indexes (value DELETE removes it)."""

    def apply(data: dict) -> None:
        parts = path.replace("]", "").replace("[", ".").split(".")
        target: Any = data
        for p in parts[:-1]:
            target = target[int(p)] if p.isdigit() else target[p]
        last = parts[-1]
        key: Any = int(last) if last.isdigit() else last
        if value is DELETE:
            del target[key]
        else:
            target[key] = value

    return apply


DELETE = object()

CASES = [
    (
        "format",
        mutate("format", "sel-time/problem@2"),
        'format: unsupported format "sel-time/problem@2"',
    ),
    ("format missing", mutate("format", DELETE), "format: missing"),
    ("timezone", mutate("timezone", "Mars/Olympus"), 'timezone: unknown time zone "Mars/Olympus"'),
    ("slot type", mutate("slots[1].start", 5), "slots[1].start: expected a local date-time"),
    (
        "slot end",
        mutate("slots[1].end", "2026-03-02T13:00"),
        "slots[1].end: ends at or before its start",
    ),
    (
        "slot offset",
        mutate("slots[0].start", "2026-03-02T09:00+01:00"),
        "slots[0].start: must be a local time",
    ),
    (
        "slot dup",
        mutate("slots[1].id", "2026-03-02/AM"),
        'slots[1].id: duplicate id "2026-03-02/AM" (first at slots[0])',
    ),
    (
        "slot overlap",
        mutate("slots[1].start", "2026-03-02T12:00"),
        'slots[1].start: overlaps slots[0] ("2026-03-02/AM")',
    ),
    (
        "slot order",
        mutate("slots[2].start", "2026-03-01T09:00"),
        "slots[2].start: slots not in time order",
    ),
    (
        "unknown slot",
        mutate("people[0].available.2026-13-01/AM", 5),
        'people[0].available: unknown slot "2026-13-01/AM"',
    ),
    (
        "negative cost",
        mutate("people[0].available.2026-03-02/AM", -1),
        'people[0].available: negative cost -1 for slot "2026-03-02/AM"',
    ),
    (
        "cost type",
        mutate("people[0].available.2026-03-02/AM", "cheap"),
        'people[0].available: cost for slot "2026-03-02/AM" is a string',
    ),
    (
        "available type",
        mutate("people[0].available", []),
        "people[0].available: expected an object, got a list",
    ),
    ("dup person", mutate("people[1].id", "p1"), 'people[1].id: duplicate id "p1"'),
    ("avoid slot", mutate("people[0].avoid", ["nope"]), 'people[0].avoid: unknown slot "nope"'),
    (
        "negative limit",
        mutate("people[0].max_per_day", -1),
        "people[0].max_per_day: negative value -1",
    ),
    (
        "bool limit",
        mutate("people[0].max_per_week", True),
        "people[0].max_per_week: expected an integer, got a boolean",
    ),
    ("people type", mutate("people", {}), "people: expected a list, got an object"),
    (
        "commitment person",
        mutate("commitments[0].person", "zz"),
        'commitments[0].person: unknown person "zz"',
    ),
    (
        "dup commitment",
        lambda d: d["commitments"].append(dict(d["commitments"][0])),
        'commitments[1].id: duplicate id "c1"',
    ),
    (
        "window order",
        mutate("commitments[0].windows[0].from", "2026-03-09"),
        "commitments[0].windows[0]: from 2026-03-09 is after to 2026-03-08",
    ),
    (
        "window outside",
        mutate("commitments[0].windows[0]", window("2027-01-04", "2027-01-10")),
        "commitments[0].windows[0]: 2027-01-04 to 2027-01-10 is outside the horizon "
        "2026-03-02 to 2026-03-11",
    ),
    (
        "window date",
        mutate("commitments[0].windows[0].to", "2026-02-30"),
        'commitments[0].windows[0].to: not a date YYYY-MM-DD: "2026-02-30"',
    ),
    (
        "window overlap",
        lambda d: d["commitments"][0]["windows"].append(window("2026-03-08", "2026-03-11")),
        "commitments[0].windows[1]: overlaps windows[0]",
    ),
    (
        "negative sessions",
        mutate("commitments[0].windows[0].sessions", -2),
        "commitments[0].windows[0].sessions: negative value -2",
    ),
    (
        "max below sessions",
        mutate("commitments[0].windows[0].max", 1),
        "commitments[0].windows[0].max: max 1 is below sessions 2",
    ),
    (
        "quorum above size",
        mutate("teams[0].quorum", 4),
        "teams[0].quorum: quorum 4 is above the team size 3",
    ),
    ("quorum below 1", mutate("teams[0].quorum", 0), "teams[0].quorum: quorum 0 is below 1"),
    (
        "team member",
        mutate("teams[0].members[2]", "zz"),
        'teams[0].members[2]: unknown person "zz"',
    ),
    (
        "dup member",
        mutate("teams[0].members[2]", "p1"),
        'teams[0].members[2]: duplicate member "p1"',
    ),
    (
        "team slot",
        mutate("teams[0].slots[0]", "2026-03-05/AM"),
        'teams[0].slots: unknown slot "2026-03-05/AM"',
    ),
    ("cap negative", mutate("caps[0].max_away", -1), "caps[0].max_away: negative value -1"),
    ("cap slot", mutate("caps[0].slots", ["x"]), 'caps[0].slots: unknown slot "x"'),
    ("pin person", mutate("pinned[0].person", "zz"), 'pinned[0].person: unknown person "zz"'),
    (
        "pin slot",
        mutate("pinned[0].slot", "2026-13-01/AM"),
        'pinned[0].slot: unknown slot "2026-13-01/AM"',
    ),
    ("pin team", mutate("pinned[1].team", "t9"), 'pinned[1].team: unknown team "t9"'),
    (
        "pin commitment",
        mutate("pinned[0].commitment", "c9"),
        'pinned[0].commitment: unknown commitment "c9"',
    ),
    (
        "pin other's commitment",
        mutate("pinned[0].person", "p2"),
        'pinned[0].commitment: commitment "c1" belongs to "p1", not "p2"',
    ),
    (
        "pin empty",
        mutate("pinned[0]", {"slot": "2026-03-02/AM"}),
        "pinned[0]: needs a person or a team",
    ),
    ("previous slot", mutate("previous[0].slot", "x"), 'previous[0].slot: unknown slot "x"'),
    ("negative weight", mutate("weights.churn", -5), "weights.churn: negative weight -5"),
    (
        "weight type",
        mutate("weights.avoid", "lots"),
        "weights.avoid: expected a number, got a string",
    ),
]


@pytest.mark.parametrize("mutation,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validation_error_names_its_path(mutation, expected):
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    mutation(data)
    errors = errors_of(data)
    assert any(e.startswith(expected) for e in errors), errors


def test_cap_naming_a_department_nobody_has_is_vacuous():
    """A cap on a department that no person has is accepted and binds nobody."""
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["caps"].append({"department": "gst-ed", "max_away": 0})
    problem = parse_problem(data)
    assert [c.department for c in problem.caps] == ["kch-ed", "gst-ed"]
    with_cap = solution_to_dict(solve(problem, SolveOptions(time_limit=5, workers=1)))
    data["caps"].pop()
    without = solution_to_dict(solve(parse_problem(data), SolveOptions(time_limit=5, workers=1)))
    assert with_cap["objective"] == without["objective"]
    assert with_cap["sessions"] == without["sessions"]


def test_groups_and_fairness_weight_parse():
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["people"][0]["groups"] = ["profession:nurse", "org:KCH"]
    data["weights"]["fairness"] = 12.5
    problem = parse_problem(data)
    assert problem.people[0].groups == ("profession:nurse", "org:KCH")
    assert problem.people[1].groups == ()
    assert problem.weights.fairness == 12.5
    assert problem.group_members == {"org:KCH": ("p1",), "profession:nurse": ("p1",)}
    assert parse_problem(SPEC_EXAMPLE).weights.fairness == 0  # off by default


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nurse", "people[0].groups: expected a list, got a string"),
        (["nurse", 3], "people[0].groups[1]: expected a non-empty string, got an integer"),
        (["nurse", ""], "people[0].groups[1]: expected a non-empty string, got a string"),
        (["nurse", "nurse"], 'people[0].groups[1]: duplicate group "nurse"'),
    ],
)
def test_groups_validation_names_its_path(value, expected):
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["people"][0]["groups"] = value
    assert expected in errors_of(data)


def test_fairness_weight_validation():
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["weights"]["fairness"] = -1
    assert "weights.fairness: negative weight -1" in errors_of(data)


def test_all_faults_are_collected_and_not_cascaded():
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["format"] = "sel-time/problem@0"
    data["people"][0]["available"]["2026-13-01/AM"] = 1
    data["slots"][1]["start"] = "2026-03-02T12:00"  # overlaps: the slot is still known by id
    data["teams"][0]["quorum"] = 9
    errors = errors_of(data)
    assert len(errors) == 4, errors
    assert not any('unknown slot "2026-03-02/PM"' in e for e in errors)


def test_not_an_object():
    assert errors_of([]) == ["$: expected an object, got a list"]


def test_pin_in_unavailable_slot_parses():
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["pinned"][0]["slot"] = "2026-03-11/PM"
    assert parse_problem(data).pinned[0].slot == "2026-03-11/PM"


def test_load_problem_invalid_json(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{ nope")
    with pytest.raises(ProblemError) as exc:
        load_problem(path)
    (line,) = exc.value.errors
    assert line.startswith(f"{path}: invalid JSON at line 1")
    with pytest.raises(ProblemError, match="cannot read file"):
        load_problem(tmp_path / "missing.json")


def test_solution_round_trip():
    problem = parse_problem(SPEC_EXAMPLE)
    d = solution_to_dict(solve(problem, SolveOptions(time_limit=5, workers=1)))
    sol = parse_solution(json.loads(json.dumps(d)))
    assert solution_to_dict(sol)["sessions"] == d["sessions"]
    assert sol.objective == d["objective"]
    with pytest.raises(ProblemError, match="status: unknown status"):
        parse_solution({**d, "status": "great"})


def test_money_is_rounded_to_pence():
    data = json.loads(json.dumps(SPEC_EXAMPLE))
    data["people"][0]["available"]["2026-03-03/AM"] = 100.005
    d = solution_to_dict(solve(parse_problem(data), SolveOptions(time_limit=5, workers=1)))
    for v in d["objective_terms"].values():
        assert round(v, 2) == v

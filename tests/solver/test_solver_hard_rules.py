"""`solver.rules`: one test per hard rule, each broken on a tiny hand-made plan and named in
both voices (the checker's line and a rota manager's sentence)."""

from __future__ import annotations

from solver_factories import make_slots, window

from solver.io import parse_problem
from solver.model import Problem
from solver.rules import RULES, Focus, Roster, breaches

MON_AM, MON_PM, TUE_AM = "2026-03-02/AM", "2026-03-02/PM", "2026-03-03/AM"


def problem_of(**fields) -> Problem:
    return parse_problem(
        {"format": "sel-time/problem@1", "slots": make_slots(5), "people": [], **fields}
    )


def roster(problem: Problem, sessions=(), meetings=()) -> Roster:
    idx = problem.slot_index
    return Roster.of(
        problem,
        {(p, idx[s]): c for p, c, s in sessions},
        {(t, idx[s]): tuple(a) for t, s, a in meetings},
    )


def only(problem: Problem, r: Roster, rule: int) -> list[tuple[str, str]]:
    found = [(b.text, b.reason) for b in breaches(r) if b.rule == rule]
    assert all(b.rule == rule for b in breaches(r)), breaches(r)
    return found


PEOPLE = [
    {"id": "p1", "name": "Amara Okafor", "department": "ed", "available": {MON_AM: 0, MON_PM: 0}},
    {"id": "p2", "department": "ed", "available": {MON_AM: 0}},
]
COMMITMENTS = [
    {"id": "c1", "person": "p1", "name": "Clinical lead", "windows": [window(sessions=2)]},
    {"id": "c2", "person": "p2", "windows": [window()]},
]


def test_rules_cover_the_spec_in_order():
    names = [r.__name__ for r in RULES]
    assert names == [
        "one_activity_per_slot", "availability", "team_meetings", "caps", "limits", "pins"
    ]
    assert all(r.__doc__ and r.__doc__.startswith(f"Rule {i + 1}") for i, r in enumerate(RULES))


def test_rule_1_one_activity_per_slot():
    pr = problem_of(
        people=PEOPLE, commitments=COMMITMENTS,
        teams=[{"id": "t1", "members": ["p1", "p2"], "quorum": 1, "windows": [window()]}],
    )
    r = roster(pr, [("p1", "c1", MON_AM)], [("t1", MON_AM, ["p1"])])
    assert only(pr, r, 1) == [(
        "p1 has 2 protected activities in 2026-03-02/AM: session for c1, team t1 (rule 1)",
        "Amara Okafor would have 2 protected activities on Mon 2 Mar AM: "
        "a Clinical lead session and team t1",
    )]


def test_rule_2_availability():
    pr = problem_of(people=PEOPLE, commitments=COMMITMENTS)
    r = roster(pr, [("p2", "c2", MON_PM)])
    r.where[("session", "p2", pr.slot_index[MON_PM])] = "sessions[0]"
    assert only(pr, r, 2) == [(
        "sessions[0]: p2 is not available in 2026-03-02/PM (rule 2)",
        "p2 is not available on Mon 2 Mar PM (on leave, not working or a fixed commitment)",
    )]


def test_rule_3_team_meetings():
    pr = problem_of(
        people=[*PEOPLE, {"id": "p3", "available": {MON_AM: 0}}], commitments=[],
        teams=[{"id": "t1", "name": "Renal MDT", "members": ["p1", "p2"], "quorum": 2,
                "windows": [window()], "slots": [MON_PM]}],
    )
    r = roster(pr, meetings=[("t1", MON_AM, ["p1", "p3"])])
    assert [reason for _, reason in only(pr, r, 3)] == [
        "Team Renal MDT may not meet on Mon 2 Mar AM (not one of its slots)",
        "p3 is not a member of team Renal MDT",
    ]


def test_rule_4_caps():
    pr = problem_of(
        people=PEOPLE, commitments=COMMITMENTS, caps=[{"department": "ed", "max_away": 1}]
    )
    r = roster(pr, [("p1", "c1", MON_AM), ("p2", "c2", MON_AM)])
    assert only(pr, r, 4) == [(
        "2 of ed away in 2026-03-02/AM, above its cap of 1 (rule 4)",
        "ed would have 2 people away on Mon 2 Mar AM, above its cap of 1",
    )]
    # Judging a move: the sentence says who was there before.
    focus = Focus(cells={("p2", 0)}, arrived={("p2", 0)})
    assert [b.reason for b in breaches(r, focus)] == [
        "ed already has 1 of 1 people away on Mon 2 Mar AM"
    ]


def test_rule_5_limits():
    people = [{**PEOPLE[0], "max_per_day": 1}]
    pr = problem_of(
        people=people,
        commitments=[{"id": "c1", "person": "p1", "windows": [window(sessions=1, max=1)]}],
    )
    r = roster(pr, [("p1", "c1", MON_AM), ("p1", "c1", MON_PM)])
    assert [reason for _, reason in only(pr, r, 5)] == [
        "Amara Okafor would have 2 protected activities on Mon 2 Mar, "
        "more than their limit of 1 a day",
        "Amara Okafor would have 2 c1 sessions from Mon 2 Mar to Sun 8 Mar, "
        "more than its maximum of 1",
    ]


def test_rule_6_pins():
    pr = problem_of(
        people=PEOPLE, commitments=COMMITMENTS,
        pinned=[{"person": "p1", "commitment": "c1", "slot": MON_PM}],
    )
    r = roster(pr, [("p1", "c1", MON_AM)])
    assert only(pr, r, 6) == [(
        "pinned[0] (p1 in 2026-03-02/PM) is not in the plan (rule 6)",
        "Amara Okafor's session on Mon 2 Mar PM is pinned by a manager",
    )]


def test_a_roster_undoes_a_move_exactly():
    pr = problem_of(people=PEOPLE, commitments=COMMITMENTS)
    r = roster(pr, [("p1", "c1", MON_AM), ("p2", "c2", MON_AM)])
    before = (dict(r.sessions), dict(r.away), dict(r.per_day), dict(r.window))
    r.add_session("p1", "c1", 0)  # stacked on the one already there in MON_AM (slot 0)
    r.remove_session("p1", 0)
    r.remove_session("p1", 0)
    r.add_session("p1", "c1", 0)
    after = (dict(r.sessions), dict(r.away), dict(r.per_day), dict(r.window))
    assert before == after

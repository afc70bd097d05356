"""The re-solve benchmark's counting: what lost its slot and what moved."""
from __future__ import annotations

from bench.resolve_bench import CHURN, lost_entries, movement
from config import Config


def test_the_benchmark_prices_churn_as_sel_time_does() -> None:
    assert CHURN == Config.CHURN_WEIGHT


def test_lost_and_moved_are_counted_entry_by_entry() -> None:
    problem = {
        "people": [{"id": "p1", "available": {"d1/AM": 1}},
                   {"id": "p2", "available": {"d1/AM": 1, "d1/PM": 1}},
                   {"id": "p3", "available": {"d1/PM": 1}}],
        "teams": [{"id": "t1", "members": ["p1", "p2", "p3"], "quorum": 2}],
    }
    previous = [{"person": "p1", "commitment": "c1", "slot": "d1/PM"},  # p1 no longer works PM
                {"person": "p2", "commitment": "c2", "slot": "d1/AM"},
                {"person": "p3", "commitment": "c3", "slot": "d1/PM"},
                {"team": "t1", "slot": "d1/PM"}]  # p2 and p3 still there: quorum holds
    assert lost_entries(problem, previous) == [previous[0]]
    solution = {"sessions": [{"person": "p1", "commitment": "c1", "slot": "d1/AM"},
                             {"person": "p2", "commitment": "c9", "slot": "d1/AM"}],
                "team_sessions": [{"team": "t1", "slot": "d1/AM", "attendees": ["p1", "p2"]}]}
    moves = movement(previous, solution)
    assert (moves.dropped, moves.changed, moves.team_dropped, moves.moved) == (2, 1, 1, 4)

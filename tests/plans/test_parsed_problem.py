"""A hand edit reads its plan's problem parsed once, not once per request; a write, a re-solve
or a change of pins makes it read the problem again."""
from __future__ import annotations

from collections.abc import Callable

import solver
from sel_time.core.audit import CLI_ACTOR, record
from sel_time.core.extensions import db
from sel_time.models import Plan
from sel_time.plans.problem import parsed_problem
from tests.plans.conftest import Small


def test_the_parsed_problem_is_kept_until_something_is_written(
    small: Small, solve_plan: Callable[..., Plan]
) -> None:
    plan = solve_plan()
    first = parsed_problem(plan)
    fresh = solver.parse_problem(plan.problem)  # the plan's own problem
    assert (first.slots, first.people, first.commitments) == (
        fresh.slots, fresh.people, fresh.commitments)
    assert parsed_problem(plan) is first  # the second request parses nothing
    record(CLI_ACTOR, "update", "plan", plan.id, None, {"edits": 1})  # any audited write
    db.session.flush()
    again = parsed_problem(plan)
    assert again is not first and again.people == first.people


def test_a_change_of_pins_is_read_again(small: Small, solve_plan: Callable[..., Plan]) -> None:
    plan = solve_plan()
    first = parsed_problem(plan)
    assert plan.problem is not None
    person = first.people[0]
    slot, person_id = next(iter(person.available)), person.id
    plan.problem = {**plan.problem, "pinned": [{"person": person_id, "slot": slot}]}
    pinned = parsed_problem(plan)
    assert pinned is not first
    assert [(p.person, p.slot) for p in pinned.pinned] == [(person_id, slot)]

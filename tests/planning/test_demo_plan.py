"""The demo, planned: 12 weeks in which every commitment that availability allows is met,
each shortfall says why in words, and the solver's checker accepts what export-plan writes,
fresh and after hand edits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.errors import ValidationError
from sel_time.core.extensions import db
from sel_time.demo import DEFAULT_START, load_demo
from sel_time.models import Plan, PlanStatus
from sel_time.plans.planning import (
    add_session,
    move_session,
    remove_session,
    request_plan,
    run_plan,
)


@pytest.mark.slow
def test_the_demo_plans_12_weeks_meeting_every_commitment_availability_allows(
    app: Any, export_and_check: Callable[[str], tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    app.config["SOLVER_TIME_LIMIT"] = 40
    load_demo(db.session, start=DEFAULT_START)
    db.session.commit()
    plan = request_plan(DEFAULT_START, 12, "system", 40, CLI_ACTOR)
    db.session.commit()
    plan = run_plan(plan.id)
    assert plan.status == PlanStatus.DRAFT, (plan.error, plan.conflicts)
    assert plan.solver_status in ("optimal", "feasible")
    assert len([s for s in plan.sessions if s.person_id]) > 500
    assert any(s.team_id for s in plan.sessions)
    for sf in plan.shortfalls:
        assert sf.reason == "unavailable", (sf.reason, sf.explanation)
        assert sf.explanation and sf.explanation != sf.reason
        assert sf.scheduled < sf.required
    assert plan.problem["slots"][0]["id"] == f"{DEFAULT_START}/AM"
    assert not any(
        s["id"].startswith(("2026-12-25", "2026-12-28", "2027-01-01"))
        for s in plan.problem["slots"]
    )
    _, fresh = export_and_check(str(plan.id))
    assert fresh["totals"]["shortfall_sessions"] == sum(
        sf.required - sf.scheduled for sf in plan.shortfalls
    )

    # Edited by hand: one session moved, one removed and added back in another slot.
    problem = plan.problem
    windows = {c["id"]: c["windows"] for c in problem["commitments"]}
    slots = [s["id"] for s in problem["slots"]]

    def candidates(session: Any) -> list[str]:
        day = session.slot[:10]
        [w] = [w for w in windows[f"a{session.assignment_id}"] if w["from"] <= day <= w["to"]]
        return [s for s in slots if w["from"] <= s[:10] <= w["to"] and s != session.slot]

    edits = 0
    individual = sorted((s for s in plan.sessions if s.person_id), key=lambda s: s.id)
    for session in individual:
        for slot in candidates(session):
            try:
                move_session(plan.id, session.id, slot, CLI_ACTOR)
            except ValidationError:
                continue
            edits += 1
            break
        if edits:
            break
    assert edits == 1
    for session in individual[::-1]:
        if session.pinned:
            continue
        assignment, old = session.assignment_id, session.slot
        remove_session(plan.id, session.id, CLI_ACTOR)
        added = None
        for slot in candidates(session):
            try:
                added = add_session(plan.id, assignment, slot, CLI_ACTOR)
            except ValidationError:
                continue
            break
        if added is not None:
            assert added.slot != old
            break
        add_session(plan.id, assignment, old, CLI_ACTOR)  # put it back where it was
    else:
        pytest.fail("no session could be added back elsewhere")
    db.session.commit()
    assert db.session.get(Plan, plan.id).edits >= 3
    _, edited = export_and_check(str(plan.id))
    assert edited["status"] == "feasible"
    assert len(edited["sessions"]) == len(fresh["sessions"])  # one moved, one re-added elsewhere
    assert len(edited["team_sessions"]) == len(fresh["team_sessions"])

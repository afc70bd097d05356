"""What every page shows when it has data, added to a live demo server's database: a published
plan, a draft plan, a finished what-if and a past session of the leader's to record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa


def fill_pages(server: dict[str, Any], weeks: int = 1, time_limit: float = 3.0) -> None:
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.extensions import db
    from sel_time.core.transaction import boundary
    from sel_time.finance.schemas import WhatIfRequest
    from sel_time.finance.whatif import request_whatif, run_whatif_run
    from sel_time.plans import planning, publishing

    app = server["app"]
    with app.app_context():
        start = server["start"]
        for publish in (True, False):
            with boundary(quiet=False):
                plan = planning.request_plan(start, weeks, "system", time_limit, CLI_ACTOR)
            planning.run_plan(plan.id)
            if publish:
                with boundary(quiet=False):
                    publishing.publish(plan.id, CLI_ACTOR)
        with boundary(quiet=False):
            run = request_whatif(
                WhatIfRequest.model_validate({"start": start.isoformat(), "weeks": 1,
                                              "time_limit": 5, "rate_change_percent": 3}),
                CLI_ACTOR)
        run_whatif_run(run.id)
        db.session.remove()
    add_past_session(server)


def add_past_session(server: dict[str, Any]) -> int:
    """An unrecorded published session of the demo leader's, two days ago: its attendance id."""
    from sel_time.core.clock import now_utc
    from sel_time.core.extensions import db
    from sel_time.core.transaction import boundary
    from sel_time.models import Attendance, ProtectedSession, RosterStatus, User, UserRole

    with server["app"].app_context():
        with boundary(quiet=False):
            leader = db.session.scalar(sa.select(User).where(User.role == UserRole.LEADER))
            assert leader is not None and leader.person is not None
            assignment = leader.person.assignments[0]
            at = (now_utc() - timedelta(days=2)).replace(hour=9, minute=0, second=0,
                                                         microsecond=0)
            past = ProtectedSession(
                uid="pages-past-session@sel-time", person_id=leader.person_id,
                assignment_id=assignment.id, slot=f"{at.date().isoformat()}/AM", start_at=at,
                end_at=at + timedelta(hours=4), status=RosterStatus.CONFIRMED, sequence=0,
                published_at=now_utc(), last_modified=now_utc())
            past.attendances.append(Attendance(person_id=leader.person_id, cost_pence=16400))
            db.session.add(past)
        att_id = int(past.attendances[0].id)
        db.session.remove()
    return att_id

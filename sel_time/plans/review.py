"""Before and after publishing: what publishing a draft would change (nothing is written), a
draft discarded, and which published plans are live (still hold sessions to come)."""

from __future__ import annotations

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError, NotFound
from ..core.extensions import db
from ..core.transaction import sandbox
from ..models import Plan, PlanStatus, ProtectedSession, RosterStatus
from .publishing import PublishReport, publish


def preview(plan_id: int, actor: Actor) -> PublishReport:
    """What publishing the plan now would add, move, change and remove: the publish itself, in
    a savepoint that is rolled back, so the figures are the publish's own and nothing stays."""
    with sandbox():
        return publish(plan_id, actor)


def discard(plan_id: int, actor: Actor) -> Plan:
    """Delete a draft (its sessions and shortfalls go with it); flushes. Only a draft: a
    published plan is history, a solving one is the solver's until it ends."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.FAILED, PlanStatus.INFEASIBLE):
        raise Conflict(
            f"Plan {plan.id} is {plan.status.value}; only a draft can be discarded",
            [FieldError("plan", f"Plan {plan.id} is {plan.status.value}, not a draft")],
        )
    record(actor, "delete", "plan", plan.id,
           {"scope": plan.scope, "start": plan.start_date.isoformat(), "weeks": plan.weeks,
            "status": plan.status.value}, None)
    db.session.delete(plan)
    db.session.flush()
    return plan


def live_counts() -> dict[int, int]:
    """Published plan → its sessions still to come. A published plan with none left has been
    replaced (or has ended); the one with sessions to come is the live roster for them."""
    rows = db.session.execute(
        sa.select(ProtectedSession.plan_id, sa.func.count(ProtectedSession.id))
        .where(
            ProtectedSession.status == RosterStatus.CONFIRMED,
            ProtectedSession.plan_id.is_not(None),
            ProtectedSession.end_at > now_utc(),
        )
        .group_by(ProtectedSession.plan_id)
    ).all()
    return {int(pid): int(n) for pid, n in rows if pid is not None}

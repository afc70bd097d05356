"""Plans on the queue: a plan or re-solve asked for in a request is solved by a worker
(``plans.solve``, first in the queue: a rota manager is waiting), can be cancelled while queued
or running, and a run whose worker was lost is queued once more, then failed with the reason.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

import solver

from ..core.audit import SCHEDULER_ACTOR, Actor, record
from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError, NotFound
from ..core.extensions import db
from ..core.queue import URGENT, revoke, task
from ..core.queue.cancel import watch_cancel
from ..core.queue.faults import pause_for_tests
from ..core.queue.recovery import MAX_ATTEMPTS, lost_before, sweeper
from ..core.transaction import discard, run_task
from ..models import Plan, PlanStatus
from ..operations.context import request_id_bound
from .editing import pins_of
from .planning import run_plan

log = logging.getLogger(__name__)


@task("plans.solve", priority=URGENT)
def solve(plan_id: int, attempt: int, pins: list[dict[str, str]] | None = None) -> None:
    """Solve a queued plan, unless it was cancelled or a later attempt has replaced this one."""
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.attempt != attempt or plan.status != PlanStatus.QUEUED:
        log.info("plan %s attempt %s: nothing to do (%s)", plan_id, attempt,
                 plan.status.value if plan else "gone")
        discard()
        return
    log.info("solving plan %s (attempt %s)", plan_id, attempt)
    paused: list[bool] = []

    def solving(_message: str, _fraction: float) -> None:
        if not paused:  # the crash tests kill a worker here, mid-solve
            paused.append(True)
            pause_for_tests("plan-solve")

    with request_id_bound(plan.request_id), watch_cancel(Plan, plan_id) as stop:
        run_task(f"plan-{plan_id}",
                 lambda: run_plan(plan_id, progress=solving, pins=pins, stop=stop))


def queue_solve(plan: Plan, pins: list[dict[str, str]] | None = None) -> Plan:
    """Have a worker solve ``plan`` (queued, flushed) once this transaction commits."""
    plan.attempt = (plan.attempt or 0) + 1
    plan.cancel_requested = False
    plan.task_id = solve.after_commit(plan.id, plan.attempt, pins)
    db.session.flush()
    return plan


def solve_here(plan: Plan) -> Plan:
    """Have this process, not a worker, solve ``plan`` (queued, flushed): ``sel-time plan
    --here`` then calls :data:`solve` with the plan's attempt, as a worker would. Flushes."""
    plan.attempt = (plan.attempt or 0) + 1
    plan.cancel_requested = False
    plan.task_id = None
    db.session.flush()
    return plan


def cancel(plan_id: int, actor: Actor) -> Plan:
    """Cancel a queued or running solve (409 otherwise). Queued: at once (a re-solve goes back
    to its draft as it was). Running: its worker stops the solver within a second and records
    it cancelled. Audited. Flushes."""
    plan = db.session.scalar(sa.select(Plan).where(Plan.id == plan_id).with_for_update())
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    if plan.status not in (PlanStatus.QUEUED, PlanStatus.RUNNING):
        raise Conflict(
            f"Plan {plan_id} is {plan.status.value}: its solve has ended, so there is nothing "
            "to cancel (only a queued or running solve can be cancelled)",
            [FieldError("plan", plan.status.value)])
    record(actor, "cancel", "plan", plan.id, {"status": plan.status.value}, None)
    if plan.status == PlanStatus.QUEUED:
        revoke(plan.task_id)
        resolving = bool(plan.sessions) and plan.solution is not None
        plan.status = PlanStatus.DRAFT if resolving else PlanStatus.CANCELLED
        plan.active_scope = None
        plan.finished_at = now_utc()
        plan.progress_message = "Cancelled"
        plan.error = "Cancelled" + ("; the draft is unchanged" if resolving else "")
    else:
        plan.cancel_requested = True
        plan.progress_message = "Cancelling"
    db.session.flush()
    return plan


@sweeper
def recover_lost_plans() -> int:
    """Plans still running well past their time limit lost their worker: queue them again
    once (from the start, pins kept), then fail them saying why. A nightly refresh's plans are
    its parts' to recover (``sel_time.nightly.tasks``): the part is queued again, not the plan."""
    count = 0
    for plan in db.session.scalars(
        sa.select(Plan).where(Plan.status == PlanStatus.RUNNING,
                              Plan.requested_by != SCHEDULER_ACTOR.label).with_for_update()
    ):
        if plan.started_at is None or plan.started_at > lost_before(plan.time_limit):
            continue
        count += 1
        resolving = bool(plan.sessions) and plan.solution is not None
        if plan.attempt < MAX_ATTEMPTS:
            log.warning("plan %s lost its worker; solving it again (attempt %s)", plan.id,
                        plan.attempt + 1)
            plan.status = PlanStatus.QUEUED
            plan.progress, plan.progress_message = 0.0, "Its worker stopped; queued again"
            queue_solve(plan, pins_of(plan) if resolving else None)
            continue
        log.warning("plan %s lost its worker twice; failing it", plan.id)
        plan.status = PlanStatus.DRAFT if resolving else PlanStatus.FAILED
        plan.active_scope = None
        plan.finished_at = now_utc()
        plan.progress_message = "Failed"
        plan.error = ("The worker solving this plan stopped (killed or its machine lost) twice"
                      + ("; the draft is unchanged" if resolving else "; please plan again"))
    db.session.flush()
    return count


__all__ = ["cancel", "queue_solve", "recover_lost_plans", "solve", "solve_here", "solver"]

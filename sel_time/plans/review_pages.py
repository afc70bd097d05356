"""The rota manager's last look before publishing (a summary of what changes, then a
confirmation), and discarding a draft (also confirmed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

import solver

from ..core.audit import Actor
from ..core.errors import SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..core.transaction import discard as roll_back
from ..models import Plan, PlanStatus
from ..web import MANAGERS, bp, roles_required
from . import review


def _plan(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


@bp.get("/manage/plans/<int:plan_id>/publish")
@roles_required(*MANAGERS)
def plan_publish_confirm(plan_id: int) -> Any:
    """What publishing would change, in words, and the button that does it."""
    plan = _plan(plan_id)
    report, refused = None, None
    if plan.status == PlanStatus.DRAFT:
        try:
            report = review.preview(plan_id, Actor.for_user(current_user))
        except SelTimeError as exc:
            refused = [exc.detail, *(e.message for e in exc.errors)]
        except solver.ProblemError as exc:  # a stored problem the checker cannot read
            refused = [f"Plan {plan_id}'s problem cannot be checked: {exc}"]
        plan = _plan(plan_id)
    live = review.live_counts()
    replaced = [
        p
        for p in db.session.scalars(
            sa.select(Plan).where(Plan.status == PlanStatus.PUBLISHED, Plan.scope == plan.scope)
        )
        if live.get(p.id)
    ]
    html = render_template("manage/confirm_publish.html", title=f"Publish plan {plan.id}?",
                           plan=plan, report=report, refused=refused, replaced=replaced, live=live)
    roll_back()  # a preview keeps nothing
    return html


@bp.route("/manage/plans/<int:plan_id>/discard", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plan_discard(plan_id: int) -> Any:
    plan = _plan(plan_id)
    if request.method == "GET":
        return render_template("manage/confirm_discard.html", title=f"Discard plan {plan.id}?",
                               plan=plan)
    try:
        with boundary():  # a refused discard rolls back; the plan page says why
            review.discard(plan_id, Actor.for_user(current_user))
    except SelTimeError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("web.plan_page", plan_id=plan_id))
    flash(f"Plan {plan_id} discarded: nothing was published from it", "success")
    response: BaseResponse = redirect(url_for("web.plans"))
    return response

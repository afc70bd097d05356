"""The night's page action: a manager cancels a running night from the work queue page
(``/manage/queue``, :mod:`sel_time.operations.queue_page`)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from ..core.audit import Actor
from ..core.errors import SelTimeError
from ..core.transaction import boundary
from ..web import MANAGERS, bp, roles_required
from .refresh import cancel_night


@bp.post("/manage/queue/nights/<int:run_id>/cancel")
@roles_required(*MANAGERS)
def night_cancel(run_id: int) -> BaseResponse:
    """Cancel a running night, as ``POST /api/v1/jobs/<id>/cancel`` does."""
    try:
        with boundary():
            cancel_night(run_id, Actor.for_user(current_user))
        flash("The night is cancelled: its solves stop within a few seconds and nothing of it "
              "is published (last night's roster stays live)", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.queue_page"))

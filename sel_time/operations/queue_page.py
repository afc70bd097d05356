"""``/manage/queue``: the work queue, for admins and rota managers."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from ..web import MANAGERS, bp, roles_required
from .work_queue import work_queue


@bp.get("/manage/queue")
@roles_required(*MANAGERS)
def queue_page() -> Any:
    """Tasks waiting, running jobs, the nightly runs and the live workers."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return render_template("manage/queue.html", title="Work queue", queue=work_queue(app))


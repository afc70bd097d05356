"""``/api/v1/jobs``: the record of every nightly refresh, its progress (parts done of parts),
and its cancel."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import Response, jsonify

from ..api import bp
from ..api.openapi import EXTRA_PATHS
from ..api.openapi import PROBLEMS as _ERR
from ..api.openapi import json_response as _json
from ..api.openapi import problem_response as _problem
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.extensions import db
from ..core.transaction import transactional
from ..models import JobRun, NightPart, UserRole
from .refresh import cancel_night
from .scheduler import job_dict


def _with_parts(runs: list[JobRun]) -> list[dict[str, object]]:
    parts: dict[int, list[NightPart]] = defaultdict(list)
    for part in db.session.scalars(
        sa.select(NightPart).where(NightPart.run_id.in_([r.id for r in runs]))
        .order_by(NightPart.wave, NightPart.id)
    ):
        parts[part.run_id].append(part)
    return [job_dict(r, parts[r.id]) for r in runs]


@bp.get("/jobs")
@transactional
def list_jobs() -> Response:
    require_user((UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE))
    runs = list(db.session.scalars(
        sa.select(JobRun).order_by(JobRun.run_date.desc(), JobRun.id.desc()).limit(100)
    ))
    return jsonify({"items": _with_parts(runs)})


@bp.post("/jobs/<int:run_id>/cancel")
@transactional
def cancel_job(run_id: int) -> tuple[Response, int]:
    """Cancel a running night: 202 with the run (``cancelled``; its running solves stop within
    a second or two, and nothing of the night is published)."""
    user = require_user((UserRole.ADMIN, UserRole.ROTA_MANAGER))
    run = cancel_night(run_id, Actor.for_user(user))
    return jsonify(_with_parts([run])[0]), 202


_RUN = {"type": "object", "required": ["id", "job", "status", "parts_total", "parts_done"]}

EXTRA_PATHS["/api/v1/jobs"] = {
    "get": {
        "tags": ["jobs"],
        "summary": "Nightly refresh runs, newest first, with their parts",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array", "items": _RUN}},
                }
            ),
            "401": _problem("Not signed in"),
            "403": _problem("Role not allowed"),
        },
    }
}
EXTRA_PATHS["/api/v1/jobs/{run_id}/cancel"] = {
    "post": {
        "tags": ["jobs"],
        "summary": "Cancel a running nightly refresh (nothing of it is published)",
        "parameters": [{"name": "run_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {**_ERR, "202": _json(_RUN, "Cancelled")},
    }
}

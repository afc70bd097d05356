"""``/api/v1/jobs``: the record of every nightly refresh."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, jsonify

from ..api import bp
from ..api.openapi import EXTRA_PATHS
from ..api.openapi import json_response as _json
from ..api.openapi import problem_response as _problem
from ..core.auth import require_user
from ..core.extensions import db
from ..core.transaction import transactional
from ..models import JobRun, UserRole
from .scheduler import job_dict


@bp.get("/jobs")
@transactional
def list_jobs() -> Response:
    require_user((UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE))
    runs = db.session.scalars(
        sa.select(JobRun).order_by(JobRun.run_date.desc(), JobRun.id.desc()).limit(100)
    )
    return jsonify({"items": [job_dict(r) for r in runs]})


EXTRA_PATHS["/api/v1/jobs"] = {
    "get": {
        "tags": ["jobs"],
        "summary": "Nightly refresh runs, newest first",
        "responses": {
            "200": _json(
                {
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"type": "object", "required": ["id", "job", "status"]},
                        }
                    },
                }
            ),
            "401": _problem("Not signed in"),
            "403": _problem("Role not allowed"),
        },
    }
}

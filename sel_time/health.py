"""``GET /health``: is the database reachable, and at which schema revision."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from .core.extensions import db
from .core.transaction import end_session, rollback_quietly
from .core.version import __version__

bp = Blueprint("health", __name__)


def health_report() -> tuple[dict[str, Any], int]:
    report: dict[str, Any] = {"version": __version__, "database": "ok", "schema_revision": None}
    try:
        try:
            report["schema_revision"] = db.session.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar()
        except sa.exc.ProgrammingError:  # PostgreSQL: no alembic_version table
            rollback_quietly()
        except sa.exc.OperationalError as exc:  # SQLite: no such table, or no database at all
            rollback_quietly()
            if "no such table" not in str(exc):
                raise
        report["nightly_refresh"] = _refresh_summary()
        try:
            report["queue"] = queue_summary()
        except sa.exc.DBAPIError:  # the runs' tables are not there yet (before migrating)
            rollback_quietly()
            report["queue"] = None
    except sa.exc.DBAPIError:
        rollback_quietly()
        report.pop("nightly_refresh", None)
        report["database"] = "unreachable"
        return {**report, "status": "error"}, 503
    finally:
        end_session()  # read-only: nothing to keep, and no transaction left open for the teardown
    report["status"] = "ok"
    return report, 200


def queue_summary() -> dict[str, Any]:
    """Tasks waiting, solves running, and the workers seen lately (each notes itself every
    15 s in the queue's store): what an operator needs to see that work is being done."""
    from flask import current_app

    from .core.queue.worker import live_workers, queue_depth
    from .models import Plan, PlanStatus, WhatIfRun, WhatIfStatus

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        workers = [w for w in live_workers(app) if w["live"]]
    except Exception:  # the queue's store is away: say so, the database still answers
        workers = []
    return {
        "depth": queue_depth(app),
        "running": {
            "plans": db.session.scalar(sa.select(sa.func.count(Plan.id)).where(
                Plan.status == PlanStatus.RUNNING)) or 0,
            "whatifs": db.session.scalar(sa.select(sa.func.count(WhatIfRun.id)).where(
                WhatIfRun.status == WhatIfStatus.RUNNING)) or 0,
        },
        "workers": [{"name": w["name"], "seconds_ago": w["seconds_ago"],
                     "concurrency": w["concurrency"]} for w in workers],
    }


def _refresh_summary() -> dict[str, Any]:
    """The last successful nightly refresh and how long ago it finished."""
    from .core.clock import now_utc
    from .nightly.scheduler import last_success

    try:
        run = last_success()
    except sa.exc.ProgrammingError:  # PostgreSQL, not migrated yet
        rollback_quietly()
        return {"last_success": None, "age_hours": None}
    except sa.exc.OperationalError as exc:
        if "no such table" not in str(exc):  # SQLite, not migrated yet; anything else: unreachable
            raise
        rollback_quietly()
        return {"last_success": None, "age_hours": None}
    if run is None or run.finished_at is None:
        return {"last_success": None, "age_hours": None}
    return {"last_success": run.finished_at.isoformat(), "run_date": run.run_date.isoformat(),
            "age_hours": round((now_utc() - run.finished_at).total_seconds() / 3600, 1)}


@bp.get("/health")
def health() -> Any:
    body, status = health_report()
    response = jsonify(body)
    response.status_code = status
    if status == 503:  # the database is away: say when to ask again, as the API's 503s do
        response.headers["Retry-After"] = "5"
    return response

"""``GET /health``: is the database reachable, and at which schema revision."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from . import __version__
from .extensions import db

bp = Blueprint("health", __name__)


def health_report() -> tuple[dict[str, Any], int]:
    report: dict[str, Any] = {"version": __version__, "database": "ok", "schema_revision": None}
    try:
        report["schema_revision"] = db.session.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar()
    except sa.exc.ProgrammingError:  # PostgreSQL: no alembic_version table
        db.session.rollback()
        report["schema_revision"] = None
    except sa.exc.OperationalError as exc:  # SQLite: no such table, or no database at all
        db.session.rollback()
        if "no such table" not in str(exc):
            report["database"] = "unreachable"
            return {**report, "status": "error"}, 503
    except sa.exc.DBAPIError:
        db.session.rollback()
        report["database"] = "unreachable"
        return {**report, "status": "error"}, 503
    finally:
        db.session.remove()
    report["nightly_refresh"] = _refresh_summary()
    report["status"] = "ok"
    return report, 200


def _refresh_summary() -> dict[str, Any]:
    """The last successful nightly refresh and how long ago it finished."""
    from .clock import now_utc
    from .jobs import last_success

    try:
        run = last_success()
    except sa.exc.DBAPIError:
        db.session.rollback()
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

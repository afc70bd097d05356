"""``GET /metrics``: Prometheus text, behind a bearer token (``SEL_TIME_METRICS_TOKEN``)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from ..core.extensions import db
from ..core.transaction import end_session
from .metrics import DatabaseCollector, exposition

bp = Blueprint("operations", __name__)


def _refused(status: int, detail: str) -> Response:
    response = Response(detail + "\n", status=status, mimetype="text/plain")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@bp.get("/metrics")
def metrics() -> Response:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if not token:
        return _refused(404, "Metrics are off: set SEL_TIME_METRICS_TOKEN to serve them")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _refused(401, "Send 'Authorization: Bearer <SEL_TIME_METRICS_TOKEN>'")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refused(403, "That metrics token is not right")
    try:
        body = exposition(DatabaseCollector(db.session))
    finally:
        end_session()  # read-only: no transaction left open
    response = Response(body, status=200)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response

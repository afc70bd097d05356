"""Operations: Prometheus metrics at ``/metrics``, JSON logs with a request id in every line,
and the hooks that feed them (see ``docs/operations.md``)."""

from __future__ import annotations

from flask import Flask, request_started

from .context import current_request_id, request_id_bound
from .metrics import add_queue_depth_source, observe_job, record_email, record_import_rows
from .request_layer import ROUTE_KEY, Instrumented

__all__ = [
    "add_queue_depth_source",
    "current_request_id",
    "init_operations",
    "instrument",
    "observe_job",
    "record_email",
    "record_import_rows",
    "request_id_bound",
]


def _note_route(sender: Flask, **_extra: object) -> None:
    from flask import request

    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else "unmatched"


def init_operations(app: Flask) -> None:
    """Logging format and filters, the ``/metrics`` route, the database hooks. Call after the
    app's logging is set up."""
    from . import events, logs
    from .routes import bp

    log_format = str(app.config.get("LOG_FORMAT") or "plain").strip().lower()
    logs.configure(log_format, app.logger)
    app.register_blueprint(bp)
    request_started.connect(_note_route, app)
    events.listen()


def instrument(app: Flask) -> None:
    """Wrap the whole WSGI stack (call last): request ids, latency and status by route."""
    json_logs = str(app.config.get("LOG_FORMAT") or "plain").strip().lower() == "json"
    app.wsgi_app = Instrumented(app.wsgi_app, access_lines=json_logs)  # type: ignore[method-assign]



"""Every error the API can return, as ``application/problem+json`` (RFC 9457)."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from ..errors import SelTimeError
from ..extensions import rollback_quietly

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem_response(body: dict[str, object], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health" or request.is_json


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SelTimeError)
    def _sel_time_error(exc: SelTimeError) -> Response | tuple[str, int]:
        rollback_quietly()
        if _wants_json():
            return problem_response(exc.as_problem(), exc.status)
        from flask import render_template

        return render_template("error.html", error=exc), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        rollback_quietly()
        if not _wants_json():
            return exc.get_response()
        body = {"type": "about:blank", "title": exc.name, "status": exc.code or 500,
                "detail": exc.description or exc.name}
        response = problem_response(body, exc.code or 500)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        rollback_quietly()
        from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

        from ..errors import race_conflict

        conflict_in_words = race_conflict(exc) if isinstance(exc, IntegrityError) else None
        if conflict_in_words is not None:  # a race a service's check could not see, in words
            log.warning("database refused %s %s: %s", request.method, request.path,
                        conflict_in_words)
            return _sel_time_error(conflict_in_words)
        if isinstance(exc, (IntegrityError, DataError)):
            # A rule the services should have checked first; still the caller's fault, never a 500.
            log.warning("database refused %s %s: %s", request.method, request.path, type(exc.orig).__name__)
            conflict = isinstance(exc, IntegrityError)
            body = {"type": "about:blank", "title": "Conflict" if conflict else "Unprocessable content",
                    "status": 409 if conflict else 422,
                    "detail": "The change clashes with stored records" if conflict
                    else "A value does not fit what the database can store"}
            return problem_response(body, 409 if conflict else 422)
        if isinstance(exc, (OperationalError, InterfaceError)):
            log.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                        type(exc).__name__, str(getattr(exc, "orig", exc)).splitlines()[0][:200])
            if _wants_json():
                body = {"type": "about:blank", "title": "Service unavailable", "status": 503,
                        "detail": "The database cannot be reached; try again shortly"}
                response = problem_response(body, 503)
            else:  # a person in a browser: a page, without anything that needs the database
                from flask import current_app

                page = current_app.jinja_env.get_template("unavailable.html").render()
                response = Response(page, status=503, mimetype="text/html")
            response.headers["Retry-After"] = "5"
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        body = {"type": "about:blank", "title": "Internal error", "status": 500,
                "detail": "Something went wrong on our side; it has been logged"}
        return problem_response(body, 500)

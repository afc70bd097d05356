"""Every error the API can return, as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ..core.errors import Conflict, FieldError, SelTimeError, race_conflict
from ..core.transaction import rollback_quietly

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem_response(body: Mapping[str, object], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health" or request.is_json


SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT = 5, 517


def _sqlite_code(exc: Exception) -> int | None:
    return getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)


def _lost_sqlite_race(exc: Exception) -> bool:
    """SQLite keeps one writer at a time (WAL): a request that read, then tries to write after
    another request wrote and committed, is refused at once rather than write on a stale
    picture. That is a race lost, not a database that cannot be reached: a 409, not a 503.
    (One that tries while the other is still writing gets SQLITE_BUSY: a 503 that says so.)"""
    return _sqlite_code(exc) == SQLITE_BUSY_SNAPSHOT


# Pages for a person in a browser: the heading and a plain sentence (NHS service manual wording).
PAGES = {
    403: (
        "You cannot see this page",
        "Your account does not give you access to this page. If you think it should, ask "
        "your rota manager.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted the web address, "
        "check you copied the entire address.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. If you were saving a change, it was not saved.",
    ),
}


def error_page(status: int) -> tuple[str, int]:
    """The styled page for ``status``: the NHS header, a plain sentence and a way back."""
    from flask import current_app, render_template

    title, sentence = PAGES[status]
    error = SelTimeError(sentence, status=status, title=title)
    try:
        return render_template("error.html", error=error), status
    except Exception:  # the layout asks for the signed-in user; without the database, none
        page = current_app.jinja_env.get_template("error.html")
        return page.render(error=error, current_user=None, nav=[]), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SelTimeError)
    def _sel_time_error(exc: SelTimeError) -> Response | tuple[str, int]:
        rollback_quietly()
        retry = getattr(exc, "retry_after", None)  # a cap reached (TooBusy)
        if _wants_json():
            response = problem_response(exc.as_problem(), exc.status)
            if retry is not None:
                response.headers["Retry-After"] = str(retry)
            return response
        from flask import render_template

        return render_template("error.html", error=exc), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> BaseResponse | tuple[str, int]:
        rollback_quietly()
        if not _wants_json():
            return error_page(exc.code) if exc.code in PAGES else exc.get_response()
        body = {
            "type": "about:blank",
            "title": exc.name,
            "status": exc.code or 500,
            "detail": exc.description or exc.name,
        }
        response = problem_response(body, exc.code or 500)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        rollback_quietly()
        from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

        conflict_in_words = race_conflict(exc) if isinstance(exc, IntegrityError) else None
        if conflict_in_words is not None:  # a race a service's check could not see, in words
            log.warning(
                "database refused %s %s: %s", request.method, request.path, conflict_in_words
            )
            return _sel_time_error(conflict_in_words)
        if isinstance(exc, (IntegrityError, DataError)):
            # A rule the services should have checked first; still the caller's fault, never a 500.
            log.warning(
                "database refused %s %s: %s", request.method, request.path, type(exc.orig).__name__
            )
            conflict = isinstance(exc, IntegrityError)
            body = {
                "type": "about:blank",
                "title": "Conflict" if conflict else "Unprocessable content",
                "status": 409 if conflict else 422,
                "detail": "The change clashes with stored records"
                if conflict
                else "A value does not fit what the database can store",
            }
            return problem_response(body, 409 if conflict else 422)
        if isinstance(exc, OperationalError) and _lost_sqlite_race(exc):
            return _sel_time_error(
                Conflict(
                    "Another change to the same records was saved at the same moment; nothing was "
                    "saved: look again and retry",
                    [FieldError("body", "changed meanwhile")],
                )
            )
        if isinstance(exc, (OperationalError, InterfaceError)):
            log.warning(
                "database unavailable on %s %s: %s: %s",
                request.method,
                request.path,
                type(exc).__name__,
                str(getattr(exc, "orig", exc)).splitlines()[0][:200],
            )
            if _wants_json():
                busy = _sqlite_code(exc) == SQLITE_BUSY
                body = {
                    "type": "about:blank",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": "The database is busy saving another change; nothing was "
                    "saved: try again shortly"
                    if busy
                    else "The database cannot be reached; try again shortly",
                }
                response = problem_response(body, 503)
            else:  # a person in a browser: a page, without anything that needs the database
                from flask import current_app

                page = current_app.jinja_env.get_template("unavailable.html").render()
                response = Response(page, status=503, mimetype="text/html")
            response.headers["Retry-After"] = "5"
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return error_page(500)
        body = {
            "type": "about:blank",
            "title": "Internal error",
            "status": 500,
            "detail": "Something went wrong on our side; it has been logged",
        }
        return problem_response(body, 500)

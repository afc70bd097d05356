"""sel-time: rostered protected time for clinical and care professional leaders."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .core.extensions import db, migrate
from .core.transaction import end_session
from .core.version import __version__  # noqa: F401  (sel_time.__version__)


def create_app(
    config_class: type | None = None, *, instance_path: str | None = None, **overrides: Any
) -> Flask:
    """Build the app. ``config_class`` defaults to the settings named by ``SEL_TIME_ENV``:
    production unless it says ``development``. Production refuses to start without a strong
    ``SECRET_KEY`` (:mod:`sel_time.core.startup`)."""
    from .core.startup import (
        announce,
        check_secret_key,
        trusted_proxies,
    )
    from .core.startup import config_class as configured

    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(config_class or configured())
    app.config.update(overrides)
    check_secret_key(app)
    from .sso.settings import check_single_sign_on

    check_single_sign_on(app)
    _check_survey_threshold(app)
    proxies = trusted_proxies(app.config.get("TRUSTED_PROXIES", 0))
    os.makedirs(app.instance_path, exist_ok=True)

    _configure_logging(app)
    announce(app)
    db.init_app(app)
    app.teardown_appcontext(end_session)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))

    from . import models  # noqa: F401  (register the tables)
    from .core.queue import init_queue

    init_queue(app)  # after the models; registers every feature's tasks on the app's queue
    _import_routes()
    from .api import bp as api_bp
    from .api.errors import register_error_handlers
    from .cli import cli
    from .feeds.routes import RedactFeedTokens
    from .feeds.routes import bp as feeds_bp
    from .health import bp as health_bp
    from .mail import models as mail_models  # noqa: F401  (the outbox table)
    from .progress import models as progress_models  # noqa: F401  (surveys, ideas, programmes)
    from .requests import models as request_models  # noqa: F401  (change requests)
    from .sso import init_sso
    from .web import csrf, init_web

    app.register_blueprint(api_bp)
    app.register_blueprint(feeds_bp)
    init_web(app)
    from .progress.pages import bp as progress_bp  # surveys, ideas, programmes, board report

    app.register_blueprint(progress_bp)
    init_sso(app)  # single sign-on; a half-made configuration stops the start here
    csrf.exempt(api_bp)  # bearer tokens; browser sessions may only read the API
    csrf.exempt(feeds_bp)  # read-only feeds; the one-click page carries its own signed token
    # A logger's filter does not see records its children pass up, so every sel_time.* logger
    # (sel_time.api.errors logs the request path of an unhandled error) gets one, as do the
    # root logger's handlers, which every propagated record reaches.
    redact = RedactFeedTokens()
    names = {"werkzeug", "gunicorn.access", "gunicorn.error", "flask.app", "sel_time"}
    names |= {n for n in logging.root.manager.loggerDict if n.startswith("sel_time.")}
    for logger in [logging.getLogger(n) for n in sorted(names)] + [logging.root]:
        if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
            logger.addFilter(redact)
    for handler in logging.root.handlers:
        if not any(isinstance(f, RedactFeedTokens) for f in handler.filters):
            handler.addFilter(redact)
    from .operations import init_operations, instrument

    init_operations(app)  # JSON logs, request ids, /metrics (after the redaction above)
    app.register_blueprint(health_bp)
    register_error_handlers(app)
    app.url_value_preprocessor(_ids_in_range)
    app.cli.add_command(cli)
    from .core.queue.commands import worker_command

    app.cli.add_command(worker_command)  # `sel-time worker` (and `flask worker`)
    from .feeds.fastpath import FeedFastPath
    from .feeds.misses import start_feed_miss_limiter

    app.wsgi_app = FeedFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    start_feed_miss_limiter(app)
    if proxies:
        # Outermost, so that every layer (the feed fast path too) sees the client's address
        # and scheme as the trusted proxies report them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    instrument(app)  # outermost: request id, latency and status of every request
    return app


def _import_routes() -> None:
    """Each feature's routes register on the shared blueprints when imported: API routes on
    ``sel_time.api.bp`` (in this order, the OpenAPI document's), pages on ``sel_time.web.bp``.
    The app is the one place that knows every feature; no shared package imports one."""
    from .accounts import api as account_routes  # noqa: F401
    from .accounts import pages as account_pages  # noqa: F401
    from .accounts import token_pages  # noqa: F401  (the account page's API tokens)
    from .api import openapi  # noqa: F401
    from .dashboard import pages as dashboard_pages  # noqa: F401
    from .delivery import api as delivery_routes  # noqa: F401
    from .delivery import pages as delivery_pages  # noqa: F401
    from .directory import api as directory_routes  # noqa: F401
    from .directory import lists as directory_lists  # noqa: F401  (assignments, departments, leave)
    from .directory import pages as directory_pages  # noqa: F401
    from .feeds import pages as feed_pages  # noqa: F401
    from .finance import api as finance_routes  # noqa: F401
    from .finance import pages as finance_pages  # noqa: F401
    from .imports import api as import_routes  # noqa: F401
    from .imports import pages as import_pages  # noqa: F401
    from .nightly import api as nightly_routes  # noqa: F401
    from .nightly import pages as nightly_pages  # noqa: F401  (cancel a night)
    from .operations import queue_page  # noqa: F401  (the work queue, for admins)
    from .plans import api as plan_routes  # noqa: F401
    from .plans import pages as plan_pages  # noqa: F401
    from .plans import review_pages  # noqa: F401  (publish confirmed, drafts discarded)
    from .privacy import api as privacy_routes  # noqa: F401
    from .privacy import pages as privacy_pages  # noqa: F401  (your data, notice, erasure)
    from .progress import api as progress_routes  # noqa: F401
    from .requests import api as request_routes  # noqa: F401
    from .requests import pages as request_pages  # noqa: F401  (change requests)
    from .web import accessibility  # noqa: F401  (the accessibility statement)


def _check_survey_threshold(app: Flask) -> None:
    """Refuse to start with a survey suppression threshold under 5 (never a request's 500)."""
    from .core.startup import ConfigurationError
    from .progress.suppression import MIN_K

    value = app.config.get("SURVEY_MIN_GROUP", 11)
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_K:
        raise ConfigurationError(
            f"SEL_TIME_SURVEY_MIN_GROUP is {value!r}: survey results need a whole number of at "
            f"least {MIN_K} respondents per published cell (11 as the NHS Staff Survey)")


MAX_ID = 2**31 - 1


def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An ``<int:...>`` in any route above 2**31 - 1 names no record (ids are 32-bit on
    PostgreSQL): 404 before the view runs, rather than a 500 when SQLite cannot bind it."""
    from .core.errors import NotFound

    for name, value in (values or {}).items():
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound(f"No record with {name} {value}")


def _configure_logging(app: Flask) -> None:
    if not app.logger.handlers or app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )

"""sel-time: rostered protected time for clinical and care professional leaders."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .core.extensions import db, migrate
from .core.transaction import end_session

__version__ = "0.1.0"


def create_app(config_class: type | None = None, *, instance_path: str | None = None,
               **overrides: Any) -> Flask:
    """Build the app. ``config_class`` defaults to the settings named by ``SEL_TIME_ENV``:
    production unless it says ``development``. Production refuses to start without a strong
    ``SECRET_KEY`` (:mod:`sel_time.core.startup`)."""
    from .core.startup import announce, check_secret_key, start_feed_miss_limiter, trusted_proxies
    from .core.startup import config_class as configured

    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(config_class or configured())
    app.config.update(overrides)
    check_secret_key(app)
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
    _import_api_routes()
    from .api import bp as api_bp
    from .api.errors import register_error_handlers
    from .cli import cli
    from .feeds.routes import RedactFeedTokens
    from .feeds.routes import bp as feeds_bp
    from .health import bp as health_bp
    from .mail import models as mail_models  # noqa: F401  (the outbox table)
    from .web import init_web

    app.register_blueprint(api_bp)
    app.register_blueprint(feeds_bp)
    init_web(app)
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
    app.register_blueprint(health_bp)
    register_error_handlers(app)
    app.url_value_preprocessor(_ids_in_range)
    app.cli.add_command(cli)
    from .core.queue.commands import worker_command

    app.cli.add_command(worker_command)  # `sel-time worker` (and `flask worker`)
    from .feeds.fastpath import FeedFastPath

    app.wsgi_app = FeedFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    start_feed_miss_limiter(app)
    if proxies:
        # Outermost, so that every layer (the feed fast path too) sees the client's address
        # and scheme as the trusted proxies report them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def _import_api_routes() -> None:
    """Each feature's API routes register on ``sel_time.api.bp`` when imported, in this order
    (the OpenAPI document's). The app is the one place that knows every feature."""
    from .accounts import api as account_routes  # noqa: F401
    from .api import openapi  # noqa: F401
    from .directory import api as directory_routes  # noqa: F401
    from .finance import api as finance_routes  # noqa: F401
    from .imports import api as import_routes  # noqa: F401
    from .nightly import api as nightly_routes  # noqa: F401
    from .plans import api as plan_routes  # noqa: F401


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

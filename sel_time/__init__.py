"""sel-time: rostered protected time for clinical and care professional leaders."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db, end_session, migrate

__version__ = "0.1.0"


def create_app(config_class: type | None = None, **overrides: Any) -> Flask:
    """Build the app. ``config_class`` defaults to the development config unless
    ``SEL_TIME_ENV=production``, which requires ``SECRET_KEY`` from the environment."""
    from config import Config, DevelopmentConfig

    if config_class is None:
        config_class = Config if os.environ.get("SEL_TIME_ENV") == "production" else DevelopmentConfig
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment in production")
    proxies = _trusted_proxies(app.config.get("TRUSTED_PROXIES", 0))
    os.makedirs(app.instance_path, exist_ok=True)

    _configure_logging(app)
    db.init_app(app)
    app.teardown_appcontext(end_session)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))

    from . import models  # noqa: F401  (register the tables)
    from .api import bp as api_bp
    from .api.errors import register_error_handlers
    from .cli import cli
    from .feeds.routes import RedactFeedTokens
    from .feeds.routes import bp as feeds_bp
    from .health import bp as health_bp

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
    from .feeds.fastpath import FeedFastPath

    app.wsgi_app = FeedFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    _start_feed_miss_limiter(app)
    if proxies:
        # Outermost, so that every layer (the feed fast path too) sees the client's address
        # and scheme as the trusted proxies report them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


MAX_TRUSTED_PROXIES = 10


def _trusted_proxies(value: object) -> int:
    """``SEL_TIME_TRUSTED_PROXIES`` as a number of proxies, or a start-up error in words."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_TRUSTED_PROXIES:
        raise RuntimeError(
            f"SEL_TIME_TRUSTED_PROXIES must be a whole number from 0 to {MAX_TRUSTED_PROXIES}"
            f" (the reverse proxies in front of sel-time whose X-Forwarded-For is believed),"
            f" not {text!r}")
    return int(text)


def _start_feed_miss_limiter(app: Flask) -> None:
    """The feed-miss throttle, made at start-up so that a bad storage URI stops the start."""
    from limits.errors import ConfigurationError

    from .feeds.misses import limiter_for

    try:
        limiter_for(app)
    except ConfigurationError as exc:
        raise RuntimeError(
            "SEL_TIME_RATELIMIT_STORAGE must be a storage the limits library knows, such as"
            f" memory:// or redis://127.0.0.1:6379, not {app.config.get('RATELIMIT_STORAGE_URI')!r}"
            f" ({exc})") from exc


MAX_ID = 2**31 - 1


def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An ``<int:...>`` in any route above 2**31 - 1 names no record (ids are 32-bit on
    PostgreSQL): 404 before the view runs, rather than a 500 when SQLite cannot bind it."""
    from .errors import NotFound

    for name, value in (values or {}).items():
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound(f"No record with {name} {value}")


def _configure_logging(app: Flask) -> None:
    if not app.logger.handlers or app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )

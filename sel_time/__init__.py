"""sel-time: rostered protected time for clinical and care professional leaders."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from .extensions import db, migrate

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
    os.makedirs(app.instance_path, exist_ok=True)

    _configure_logging(app)
    db.init_app(app)
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
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "sel_time"):
        logging.getLogger(name).addFilter(RedactFeedTokens())
    app.register_blueprint(health_bp)
    register_error_handlers(app)
    app.cli.add_command(cli)
    return app


def _configure_logging(app: Flask) -> None:
    if not app.logger.handlers or app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )

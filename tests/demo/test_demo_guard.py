"""``sel-time demo`` gives its users passwords printed in the README: it is refused with
production settings (the default), and runs only with development or testing settings."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from sel_time.core.extensions import db
from sel_time.models import User


@pytest.mark.parametrize("env", ["production", None])
def test_the_demo_is_refused_with_production_settings(
        app: Flask, runner: FlaskCliRunner, env: str | None) -> None:
    if env is None:
        app.config.pop("SEL_TIME_ENV", None)  # unset: production is the default
    else:
        app.config["SEL_TIME_ENV"] = env
    result = runner.invoke(args=["sel-time", "demo"])
    assert result.exit_code == 2
    assert "refused with production settings" in result.stderr and "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0

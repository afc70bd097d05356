"""Every schema change is an Alembic revision: upgrade → downgrade → upgrade works, and the
migrated schema matches the models exactly (on SQLite, and on PostgreSQL in the CI run)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db

PG = os.environ.get("DATABASE_URL", "")


def _database_urls(tmp_path: Any) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'migrations.sqlite'}"]
    if PG.startswith("postgres"):
        base = TestingConfig.SQLALCHEMY_DATABASE_URI
        sep = "&" if "?" in base else "?"
        urls.append(f"{base}{sep}options=-csearch_path%3Dmigtest")
    return urls


def _schema_diff(app: Any) -> list[Any]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diff = compare_metadata(ctx, db.metadata)
    return diff


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_upgrade_matches_models(tmp_path: Any, backend: str) -> None:
    urls = [u for u in _database_urls(tmp_path) if u.startswith(backend)]
    if not urls:
        if os.environ.get("CI") and backend == "postgresql" and PG:
            pytest.fail("DATABASE_URL names PostgreSQL but no URL was built")
        pytest.skip(f"{backend} run: set DATABASE_URL (the CI's PostgreSQL run does)")
    url = urls[0]
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS migtest CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA migtest"))
        upgrade()
        assert _schema_diff(app) == []
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert _schema_diff(app) == []
        revision = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert revision is not None
        db.session.remove()
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS migtest CASCADE"))
        db.engine.dispose()

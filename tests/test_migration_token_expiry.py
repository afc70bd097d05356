"""The migration that gives API tokens an expiry: a token issued before it expires 90 days
after it was created (an old one stops working at once), and downgrading drops the column."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db, migrate

REVISION = "c4e7a2b9d1f3"


def test_existing_tokens_expire_90_days_after_creation(tmp_path: Any) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.sqlite'}")
    with app.app_context():
        script = ScriptDirectory.from_config(migrate.get_config())
        before = script.get_revision(REVISION).down_revision
        upgrade(revision=before)
        created = {1: datetime(2026, 1, 10, 9, 30, tzinfo=UTC),
                   2: datetime(2026, 11, 30, tzinfo=UTC)}
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO app_user (id, email, name, role, active, created_at, updated_at) "
                "VALUES (1, 'a@example.nhs.uk', 'A', 'admin', 1, :t, :t)"), {"t": created[1]})
            for ident, at in created.items():
                conn.execute(sa.text(
                    "INSERT INTO api_token (id, user_id, name, token_hash, prefix, created_at) "
                    "VALUES (:i, 1, 'old', :h, 'st_x', :t)"),
                    {"i": ident, "h": f"{ident:064d}", "t": at})
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, expires_at FROM api_token")).all())
        for ident, at in created.items():
            got = rows[ident]
            if not isinstance(got, datetime):  # SQLite hands back text
                got = datetime.fromisoformat(got)
            assert got.replace(tzinfo=UTC) == at + timedelta(days=90)
        downgrade(revision=before)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("api_token")}
        assert "expires_at" not in columns and "created_at" in columns
        db.session.remove()
        db.engine.dispose()

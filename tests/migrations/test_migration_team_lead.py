"""The migration that gives a team its lead keeps every team's members and sessions, up and
down, on SQLite (whose batch migrations rebuild the table: with foreign keys enforced that
would empty every table that cascades from it) and on PostgreSQL in the CI run."""
from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db, migrate

REVISION = "d5a8c3f1e7b2"
PG = os.environ.get("DATABASE_URL", "")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

ROWS = [
    "INSERT INTO organisation (id, code, name, kind, borough, auto_publish, created_at, "
    "updated_at) VALUES (1, 'kch', 'KCH', 'acute_trust', 'Southwark', true, :t, :t)",
    "INSERT INTO person (id, email, name, profession, staff_group, organisation_id, fte, "
    "active, link_generation, created_at, updated_at) VALUES "
    "(1, 'a@nhs.net', 'A', 'nurse', 'afc_band_8c', 1, 1, true, 0, :t, :t), "
    "(2, 'b@nhs.net', 'B', 'nurse', 'afc_band_8c', 1, 1, true, 0, :t, :t)",
    "INSERT INTO team (id, code, name, kind, sessions_amount, sessions_per, quorum, created_at, "
    "updated_at) VALUES (1, 'lt', 'LT', 'leadership_team', 1, 'week', 2, :t, :t)",
    "INSERT INTO team_member (team_id, person_id) VALUES (1, 1), (1, 2)",
    "INSERT INTO protected_session (id, uid, team_id, slot, start_at, end_at, status, sequence, "
    "published_at, last_modified) VALUES (1, 'u1@sel-time', 1, '2027-04-29/PM', :t, :t, "
    "'confirmed', 0, :t, :t)",
    "INSERT INTO attendance (id, session_id, person_id, cost_pence) VALUES (1, 1, 1, 0), "
    "(2, 1, 2, 0)",
]


def _counts() -> tuple[int, ...]:
    with db.engine.connect() as conn:
        return tuple(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                     for t in ("team_member", "protected_session", "attendance"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_lead_column_comes_and_goes_keeping_members_and_sessions(
        tmp_path: Any, backend: str) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    elif PG.startswith("postgres"):
        base = TestingConfig.SQLALCHEMY_DATABASE_URI
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3Dleadtest"
    else:
        pytest.skip("postgresql run: set DATABASE_URL (the CI's PostgreSQL run does)")
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS leadtest CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA leadtest"))
        before = ScriptDirectory.from_config(migrate.get_config()).get_revision(
            REVISION).down_revision
        assert isinstance(before, str)
        upgrade(revision=before)
        with db.engine.begin() as conn:
            for sql in ROWS:
                conn.execute(sa.text(sql), {"t": NOW})
        assert _counts() == (2, 1, 2)

        upgrade(revision=REVISION)
        assert _counts() == (2, 1, 2)
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE team SET lead_person_id = 2"))
            # The lead is a person: erasing them leaves the team without one.
            conn.execute(sa.text("DELETE FROM attendance WHERE person_id = 2"))
            conn.execute(sa.text("DELETE FROM team_member WHERE person_id = 2"))
            conn.execute(sa.text("DELETE FROM person WHERE id = 2"))
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT lead_person_id FROM team")).scalar_one() is None
        assert _counts() == (1, 1, 1)

        downgrade(revision=before)
        assert _counts() == (1, 1, 1)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("team")}
        assert "lead_person_id" not in columns and "quorum" in columns
        # Foreign keys are enforced again once the migration is over.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO team_member (team_id, person_id) VALUES (1, 99)"))
        db.session.remove()
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS leadtest CASCADE"))
        db.engine.dispose()

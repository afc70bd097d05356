"""The migration lets the database hold the programme lead role (its CHECK constraint takes
the new value), and its downgrade turns programme leads back into leaders."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db

MIGRATION = next((Path(__file__).resolve().parents[2] / "migrations" / "versions")
                 .glob("6f9851b23399_*.py"))
BEFORE = re.search(r"^down_revision = '(\w+)'", MIGRATION.read_text(), re.M).group(1)  # type: ignore[union-attr]
INSERT = sa.text("INSERT INTO app_user (email, name, role, active, created_at, updated_at) "
                 "VALUES (:e, 'P', :r, true, '2026-12-07', '2026-12-07')")


def test_the_role_constraint_takes_programme_lead_and_gives_it_back(tmp_path: Any) -> None:
    app = create_app(TestingConfig,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roles.sqlite'}")
    with app.app_context():
        upgrade(revision=BEFORE)  # before this feature
        try:
            with db.engine.begin() as conn:
                conn.execute(INSERT, {"e": "early@example.nhs.uk", "r": "programme_lead"})
            raise AssertionError("the old constraint took an unknown role")
        except sa.exc.IntegrityError:
            pass
        upgrade(revision="6f9851b23399")
        with db.engine.begin() as conn:
            conn.execute(INSERT, {"e": "pl@example.nhs.uk", "r": "programme_lead"})
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            role = conn.execute(sa.text("SELECT role FROM app_user")).scalar_one()
        assert role == "leader"
        db.engine.dispose()

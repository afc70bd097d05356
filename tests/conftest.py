"""Shared fixtures: an app per test on a fresh database (SQLite by default, PostgreSQL when
``DATABASE_URL`` is set), clients, CLI runner, and factories that return callables."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from config import TestingConfig
from sel_time import create_app
from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.directory import records
from sel_time.models import User, UserRole

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def _reset_postgres() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[None]:
    if POSTGRES:
        app = create_app(TestingConfig)
        with app.app_context():
            db.session.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
            db.create_all()
            db.session.remove()
            db.engine.dispose()
    yield


@pytest.fixture()
def app_config() -> dict[str, Any]:
    """Settings given to ``create_app`` by the ``app`` fixture; a test package overrides this
    fixture to start its app with them (an SMTP relay, for example)."""
    return {}


@pytest.fixture()
def app(tmp_path: Any, _postgres_schema: None, app_config: dict[str, Any]) -> Iterator[Flask]:
    overrides: dict[str, Any] = dict(app_config)
    if not POSTGRES:
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'test.sqlite'}")
    app = create_app(TestingConfig, **overrides)
    with app.app_context():
        if POSTGRES:
            _reset_postgres()
        else:
            # Test databases need no durability: skip SQLite's fsync on every commit.
            sa.event.listen(db.engine, "connect",
                            lambda conn, _record: conn.execute("PRAGMA synchronous=OFF"))
            db.engine.dispose()
            db.create_all()
        yield app
        db.session.remove()
        if POSTGRES:
            _reset_postgres()
        db.engine.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def _create(entity: str, **data: Any) -> Any:
    obj = records.create(records.ENTITIES[entity], data, CLI_ACTOR)
    db.session.commit()
    return obj


@pytest.fixture()
def make(app: Flask) -> Callable[..., Any]:
    """``make("people", name=...)``: create a record through the service with sensible defaults."""
    counter = {"n": 0}

    def _make(entity: str, **data: Any) -> Any:
        counter["n"] += 1
        n = counter["n"]
        if entity == "organisations":
            data = {"code": f"org-{n}", "name": f"Organisation {n}", "kind": "acute_trust",
                    "borough": "Lambeth", **data}
        elif entity == "departments":
            if "organisation_id" not in data:
                data["organisation_id"] = _make("organisations").id
            data = {"code": f"dept-{n}", "name": f"Department {n}", "max_away": 1, **data}
        elif entity == "people":
            if "organisation_id" not in data:
                data["organisation_id"] = _make("organisations").id
            data = {"email": f"person{n}@nhs.net", "name": f"Person {n}", "profession": "nurse",
                    "band": "7", **data}
        elif entity == "roles":
            if "host_organisation_id" not in data:
                data["host_organisation_id"] = _make("organisations").id
            data = {"code": f"role-{n}", "title": f"Role {n}", "level": "place",
                    "commitment_amount": 1, "commitment_unit": "session", "commitment_per": "week",
                    **data}
        elif entity == "teams":
            data = {"code": f"team-{n}", "name": f"Team {n}", "kind": "leadership_team",
                    "sessions_per": "month", "quorum": 1, **data}
        return _create(entity, **data)

    return _make


@pytest.fixture()
def login_as(app: Flask) -> Callable[..., dict[str, str]]:
    """``login_as("finance")`` returns Authorization headers of a new user with that role."""
    from sel_time.core.auth import create_api_token

    def _login(role: str, person_id: int | None = None) -> dict[str, str]:
        n = db.session.scalar(sa.select(sa.func.count(User.id))) or 0
        user = User(email=f"{role}{n}@example.nhs.uk", name=f"{role} {n}", role=UserRole(role),
                    person_id=person_id)
        db.session.add(user)
        db.session.flush()
        _, token = create_api_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _login

"""The database connection dies at the worst moments (as when PostgreSQL is restarted and ends
every connection): after a view has built its response but before the request's transaction is
rolled back, or while an error is being turned into a 503. The answer is never a 500, and the
next request works. Simulated on SQLite by making the driver's ROLLBACK (and queries) fail the
way psycopg's do after ``pg_ctl stop -m fast``; the real restart is
``tests/core/test_postgres_restart.py``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from config import TestingConfig
from sel_time import create_app
from sel_time.core.auth import create_api_token
from sel_time.core.extensions import db
from sel_time.models import User, UserRole


@dataclass
class Outage:
    """Switches for the driver: ROLLBACK fails; queries fail (BEGIN still works)."""

    rollback: bool = False
    queries: bool = False
    rollbacks_refused: int = 0
    log: list[str] = field(default_factory=list)


@pytest.fixture()
def lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, Outage, str]]:
    # An app of its own, with no app context held open across requests, so that each request
    # ends its own context and runs the teardowns, as under gunicorn.
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lost.sqlite'}")
    with app.app_context():
        db.create_all()
        manager = User(email="rota@lost.example", name="Rota", role=UserRole.ROTA_MANAGER)
        db.session.add(manager)
        db.session.flush()
        _, token = create_api_token(manager, "lost")
        db.session.commit()
        dialect = db.engine.dialect
    outage = Outage()
    real_rollback, real_execute = dialect.do_rollback, dialect.do_execute

    def do_rollback(dbapi_connection: Any) -> None:
        if outage.rollback:
            outage.rollbacks_refused += 1
            raise sqlite3.OperationalError("terminating connection due to administrator command")
        real_rollback(dbapi_connection)

    def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if outage.queries and statement.strip().upper() != "BEGIN":
            raise sqlite3.OperationalError("terminating connection due to administrator command")
        real_execute(cursor, statement, parameters, context)

    monkeypatch.setattr(dialect, "do_rollback", do_rollback)
    monkeypatch.setattr(dialect, "do_execute", do_execute)
    yield app, outage, token
    with app.app_context():
        db.engine.dispose()


def test_connection_lost_after_the_response_is_built_keeps_the_response(
    lost: tuple[Flask, Outage, str], caplog: pytest.LogCaptureFixture
) -> None:
    app, outage, token = lost
    auth = {"Authorization": f"Bearer {token}"}

    @app.get("/test/reader")
    def reader() -> dict[str, int]:  # any view that reads and answers, leaving its transaction open
        return {"users": db.session.query(User).count()}

    @app.after_request
    def _database_goes_away(response: Any) -> Any:  # the view has answered; the transaction is open
        outage.rollback = True
        return response

    client = app.test_client()
    r = client.get("/test/reader")
    assert r.status_code == 200 and r.get_json() == {"users": 1}, r.get_data(as_text=True)
    assert outage.rollbacks_refused >= 1  # the teardown's ROLLBACK did fail
    assert "database connection lost while ending a transaction" in caplog.text

    # a write that committed keeps its 201 (its transaction is over; nothing to roll back)
    r = client.post(
        "/api/v1/organisations",
        headers=auth,
        json={
            "code": "rj2",
            "name": "Lewisham and Greenwich NHS Trust",
            "kind": "acute_trust",
            "borough": "Lewisham",
        },
    )
    assert r.status_code == 201, r.get_data(as_text=True)

    outage.rollback = False
    app.after_request_funcs[None].remove(_database_goes_away)
    r = client.get(
        "/api/v1/organisations", headers=auth
    )  # the next request gets a fresh connection
    assert r.status_code == 200
    assert [o["name"] for o in r.get_json()["items"]] == ["Lewisham and Greenwich NHS Trust"]


@pytest.mark.parametrize("path", ["/api/v1/organisations", "/health"])
def test_connection_lost_mid_request_is_a_503_even_when_the_rollback_fails(
    lost: tuple[Flask, Outage, str], path: str
) -> None:
    app, outage, token = lost
    client = app.test_client()
    outage.queries = outage.rollback = True
    r = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.headers["Retry-After"]
    assert "Traceback" not in r.get_data(as_text=True)
    if path.startswith("/api/"):
        assert r.mimetype == "application/problem+json" and r.get_json()["status"] == 503
    else:
        assert r.get_json()["database"] == "unreachable"

    outage.queries = outage.rollback = False
    assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_signed_in_page_when_the_database_is_lost_is_a_503_page_not_json(
    lost: tuple[Flask, Outage, str],
) -> None:
    from werkzeug.security import generate_password_hash

    app, outage, _ = lost
    with app.app_context():
        user = db.session.query(User).one()
        user.password_hash = generate_password_hash("a long enough password")
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    r = client.post(
        "/login", data={"email": "rota@lost.example", "password": "a long enough password"}
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert client.get("/").status_code in (200, 302)

    outage.queries = outage.rollback = True  # loading the signed-in user now fails
    r = client.get("/")
    assert r.status_code == 503 and r.mimetype == "text/html" and r.headers["Retry-After"]
    page = r.get_data(as_text=True)
    assert "<h1>Sorry, sel-time is not available just now</h1>" in page
    assert "saved only if you saw a confirmation" in page

    outage.queries = outage.rollback = False
    assert client.get("/").status_code in (200, 302)

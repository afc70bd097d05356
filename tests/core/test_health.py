"""``GET /health``: database reachability and schema revision; a clear 503 when the database
cannot be reached, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _head() -> str:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head
    return head


def test_health_reports_database_and_revision(client: Any) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["database"] == "ok" and body["status"] == "ok"
    assert body["version"]
    has_alembic = sa.inspect(db.engine).has_table("alembic_version")
    if not has_alembic:  # a create_all database has no revision
        assert body["schema_revision"] is None
    assert "schema_revision" in body


def test_health_needs_no_token(client: Any) -> None:
    assert client.get("/health", headers={"Authorization": "Bearer nonsense"}).status_code == 200


def test_health_after_migrating_reports_the_head_revision(tmp_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    )
    with app.app_context():
        upgrade()
        db.session.remove()
        r = app.test_client().get("/health")
        assert r.status_code == 200
        assert r.get_json()["schema_revision"] == _head()
        assert r.get_json()["database"] == "ok"
        db.engine.dispose()


UNREACHABLE = [
    pytest.param(
        "sqlite:////nonexistent-dir/deeper/sel_time.sqlite", id="sqlite-missing-directory"
    ),
    pytest.param(
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3",
        id="postgres-closed-port",
    ),
]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_unreachable_database_is_503(url: str, caplog: Any) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        client = app.test_client()
        r = client.get("/health")
        assert r.status_code == 503
        body = r.get_json()
        assert body["database"] == "unreachable" and body["status"] == "error"
        assert body["schema_revision"] is None
        assert "Traceback" not in r.get_data(as_text=True)
        # the API says the same, as a problem document
        r = client.get("/api/v1/organisations", headers={"Authorization": "Bearer st_x"})
        assert r.status_code == 503
        assert r.mimetype == "application/problem+json"
        assert r.get_json()["status"] == 503
        assert "Traceback" not in r.get_data(as_text=True)
        db.engine.dispose()


def test_health_shows_the_queue_running_solves_and_live_workers(client: Any, app: Any) -> None:
    import json
    from datetime import date

    from sel_time.core.clock import now_utc
    from sel_time.core.queue import queue
    from sel_time.core.queue.worker import SEEN_PREFIX
    from sel_time.models import Plan, PlanStatus

    queue.huey(app).storage.put_data(SEEN_PREFIX + "box:1", json.dumps(
        {"name": "box:1", "concurrency": 2, "seen": now_utc().isoformat()}).encode())
    db.session.add(Plan(scope="system", start_date=date(2027, 1, 4), weeks=1,
                        status=PlanStatus.RUNNING, requested_by="cli", created_at=now_utc()))
    db.session.commit()
    body = client.get("/health").get_json()
    assert body["queue"]["running"] == {"plans": 1, "whatifs": 0}
    assert body["queue"]["depth"] == 0
    [worker] = body["queue"]["workers"]
    assert worker["name"] == "box:1" and worker["concurrency"] == 2

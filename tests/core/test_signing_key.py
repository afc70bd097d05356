"""Nobody forges a session: production is the default, it refuses to start without a strong
``SECRET_KEY``, development never signs with a key anyone else knows, and production cookies
are Secure."""
from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from support.processes import process_env
from werkzeug.security import generate_password_hash

from sel_time import create_app
from sel_time.core.extensions import db
from sel_time.core.startup import ConfigurationError, key_strength_bits
from sel_time.models import User, UserRole

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_KEY = "dev-only-not-secret"  # the development key config.py shipped until round 2
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = process_env(DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite'}", **extra)
    env.pop("SECRET_KEY")
    env.update(extra)
    return env


def _import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import wsgi; print('STARTED')"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("key", [None, "", "short", PUBLIC_KEY, "a" * 64, "ab" * 40, "changeme"])
def test_the_production_entry_point_refuses_a_missing_or_weak_key(tmp_path: Path,
                                                                  key: str | None) -> None:
    extra = {} if key is None else {"SECRET_KEY": key}
    done = _import_wsgi(_env(tmp_path, **extra))
    assert done.returncode != 0 and "STARTED" not in done.stdout
    assert "sel-time cannot start: SECRET_KEY" in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("key", [secrets.token_hex(32), secrets.token_urlsafe(32)])
def test_the_production_entry_point_starts_with_a_strong_key(tmp_path: Path, key: str) -> None:
    done = _import_wsgi(_env(tmp_path, SECRET_KEY=key))
    assert done.returncode == 0 and "STARTED" in done.stdout, done.stderr[-2000:]


def test_gunicorn_stops_with_the_reason_rather_than_serving(tmp_path: Path) -> None:
    done = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "-b", "127.0.0.1:0", "wsgi:app"],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0
    assert "sel-time cannot start: SECRET_KEY is not set" in done.stderr, done.stderr[-2000:]


def test_every_command_refuses_without_a_key_and_names_it(tmp_path: Path) -> None:
    sel_time = str(Path(sys.executable).with_name("sel-time"))
    done = subprocess.run([sel_time, "plan"], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "Error: sel-time cannot start: SECRET_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEL_TIME_ENV", "prod")
    with pytest.raises(ConfigurationError, match="SEL_TIME_ENV is 'prod'"):
        create_app()


def _forged_cookie(app: Flask, key: str, user_id: int) -> str:
    """A session cookie for ``user_id``, made with Flask's own serializer and ``key``."""
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True, "_id": "x"})


def _app_with_admin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str,
                    key: str | None) -> Flask:
    monkeypatch.setenv("SEL_TIME_ENV", env)
    app = create_app(instance_path=str(tmp_path / "instance"), WTF_CSRF_ENABLED=False,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'forge.sqlite'}",
                     SECRET_KEY=key or "")
    with app.app_context():
        db.create_all()
        db.session.add(User(email="admin@example.nhs.uk", name="Admin", role=UserRole.ADMIN,
                            password_hash=generate_password_hash("correct horse battery")))
        db.session.commit()
    return app


@pytest.mark.parametrize("env,key", [("development", None),
                                     ("production", secrets.token_hex(32))])
def test_a_cookie_forged_with_the_once_public_key_opens_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, key: str | None) -> None:
    app = _app_with_admin(monkeypatch, tmp_path, env, key)
    assert app.config["SECRET_KEY"] != PUBLIC_KEY
    assert key_strength_bits(app.config["SECRET_KEY"]) >= 256
    client = app.test_client()
    cookie = _forged_cookie(app, PUBLIC_KEY, 1)
    client.set_cookie("session", cookie, domain="localhost")
    manage = client.get("/manage", base_url="https://localhost")
    assert manage.status_code in (302, 401)
    assert "/login" in manage.headers.get("Location", "/login")
    api = client.get("/api/v1/users", base_url="https://localhost")
    assert api.status_code == 401
    # the same forgery with the app's real key would open it: the refusal is the key's doing
    client.set_cookie("session", _forged_cookie(app, app.config["SECRET_KEY"], 1),
                      domain="localhost")
    assert client.get("/manage", base_url="https://localhost").status_code == 200


def test_development_keeps_its_own_random_key(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    first = _app_with_admin(monkeypatch, tmp_path, "development", None)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    (tmp_path / "forge.sqlite").unlink()
    again = _app_with_admin(monkeypatch, tmp_path, "development", None)
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"]  # a restart keeps sessions
    assert first.config["SESSION_COOKIE_SECURE"] is False  # http://127.0.0.1 for make demo


def test_production_cookies_are_secure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = _app_with_admin(monkeypatch, tmp_path, "production", secrets.token_hex(32))
    client = app.test_client()
    r = client.post("/login", base_url="https://localhost",
                    data={"email": "admin@example.nhs.uk", "password": "correct horse battery"})
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_production_settings_hold_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    fresh: Any = importlib.reload(config)
    try:
        assert fresh.ProductionConfig.SECRET_KEY == ""
        assert fresh.DevelopmentConfig.SECRET_KEY == ""
    finally:
        importlib.reload(config)

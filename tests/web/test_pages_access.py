"""Each role is refused the others' pages and actions; a form without its CSRF token is
rejected; sign-in is throttled; security headers are present."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from sel_time.extensions import db
from sel_time.models import LoginFailure, User, UserRole

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "page-test-password"
PAGES = {  # page → roles allowed
    "/manage": {"admin", "rota_manager"},
    "/manage/people": {"admin", "rota_manager"},
    "/manage/people/new": {"admin", "rota_manager"},
    "/manage/import": {"admin", "rota_manager"},
    "/manage/plans": {"admin", "rota_manager"},
    "/finance": {"admin", "rota_manager", "finance"},
    "/finance/whatif": {"admin", "rota_manager", "finance"},
    "/me": {"leader"},
    "/me/subscribe": {"leader"},
}
ACTIONS = {  # form posts → roles allowed
    "/manage/people/new": {"admin", "rota_manager"},
    "/manage/plans": {"admin", "rota_manager"},
    "/me/leave": {"leader"},
    "/me/subscribe": {"leader"},
    "/finance/whatif": {"admin", "rota_manager", "finance"},
}


@pytest.fixture()
def users(app: Any, make: Any) -> dict[str, User]:
    person = make("people")
    out = {}
    for role in UserRole:
        user = User(email=f"{role.value}@pages.test", name=role.value, role=role,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
                    person_id=person.id if role == UserRole.LEADER else None)
        db.session.add(user)
        out[role.value] = user
    db.session.commit()
    return out


def _client(app: Any, email: str | None, csrf: bool = False) -> Any:
    app.config["WTF_CSRF_ENABLED"] = csrf
    c = app.test_client()
    if email:
        app.config["WTF_CSRF_ENABLED"] = False
        r = c.post("/login", data={"email": email, "password": PASSWORD})
        assert r.status_code == 302, r.data
        app.config["WTF_CSRF_ENABLED"] = csrf
    return c


@pytest.mark.parametrize("path", sorted(PAGES))
@pytest.mark.parametrize("role", ["admin", "rota_manager", "finance", "leader", None])
def test_pages_allowed_or_refused(app: Any, users: dict[str, User], path: str, role: str | None) -> None:
    c = _client(app, users[role].email if role else None)
    r = c.get(path)
    if role is None:
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    elif role in PAGES[path]:
        assert r.status_code == 200, (path, role)
    else:
        assert r.status_code == 403, (path, role)


@pytest.mark.parametrize("path", sorted(ACTIONS))
@pytest.mark.parametrize("role", ["admin", "rota_manager", "finance", "leader"])
def test_actions_refused_to_other_roles(app: Any, users: dict[str, User], path: str, role: str) -> None:
    c = _client(app, users[role].email)
    r = c.post(path, data={"start": "not-a-date"})
    if role in ACTIONS[path]:
        assert r.status_code != 403
    else:
        assert r.status_code == 403


def test_form_without_csrf_token_is_rejected(app: Any, users: dict[str, User]) -> None:
    c = _client(app, users["rota_manager"].email, csrf=True)
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    r = c.post("/manage/people/new", data={"name": "No Token", "email": "no.token@nhs.net"})
    assert r.status_code == 400
    assert b"CSRF" in r.data
    c2 = _client(app, None, csrf=True)
    assert c2.post("/login", data={"email": users["admin"].email, "password": PASSWORD}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_sign_in_is_throttled_after_repeated_failures(app: Any, users: dict[str, User]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    for _ in range(5):
        assert c.post("/login", data={"email": users["finance"].email, "password": "wrong"}).status_code == 400
    r = c.post("/login", data={"email": users["finance"].email, "password": PASSWORD})
    assert r.status_code == 429  # even the right password is refused while throttled
    assert "Too many failed attempts" in r.get_data(as_text=True)
    # the same address is refused for another account too; another address is not
    assert c.post("/login", data={"email": users["admin"].email, "password": PASSWORD}).status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.post("/login", data={"email": users["admin"].email, "password": PASSWORD}).status_code == 302
    # nothing that identifies the person or the address is kept, only digests
    stored = " ".join(db.session.scalars(sa.select(LoginFailure.key_hash)))
    assert users["finance"].email not in stored and "127.0.0.1" not in stored


def test_throttle_window_is_fifteen_minutes_and_old_failures_are_deleted(app: Any, users: dict[str, User]) -> None:
    from sel_time.clock import now_utc
    from sel_time.services import login_throttle

    key = f"email:{users['finance'].email}"
    start = now_utc()
    for n in range(5):
        login_throttle.record_failure(key, now=start + timedelta(minutes=n))
    assert login_throttle.blocked(key, now=start + timedelta(minutes=14))
    # at 15 min + 1 s the first failure has aged out: four in the window, not blocked
    assert not login_throttle.blocked(key, now=start + timedelta(minutes=15, seconds=1))
    login_throttle.record_failure("ip:10.9.9.9", now=start + timedelta(minutes=30))  # prunes the old ones
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 1
    login_throttle.clear("ip:10.9.9.9")
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 0


def test_failures_in_another_process_count(app: Any, users: dict[str, User]) -> None:
    """Another web process (as a second gunicorn worker would be) fails five sign-ins for an
    account; this process then refuses it, though it has seen no failure itself."""
    email = users["finance"].email
    db.session.remove()
    script = textwrap.dedent(f"""
        from config import TestingConfig
        from sel_time import create_app
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI={app.config["SQLALCHEMY_DATABASE_URI"]!r},
                         WTF_CSRF_ENABLED=False)
        c = app.test_client()
        codes = [c.post("/login", data={{"email": {email!r}, "password": "wrong"}}).status_code
                 for _ in range(5)]
        assert codes == [400] * 5, codes
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    app.config["WTF_CSRF_ENABLED"] = False
    r = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 429


def test_security_headers_and_cookie_flags(app: Any, users: dict[str, User]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    r = c.post("/login", data={"email": users["admin"].email, "password": PASSWORD})
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = c.get("/manage")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    https = c.get("/manage", base_url="https://localhost")
    assert "max-age" in https.headers["Strict-Transport-Security"]


def test_browser_session_cannot_write_through_the_api(app: Any, users: dict[str, User]) -> None:
    c = _client(app, users["admin"].email)
    assert c.get("/api/v1/organisations").status_code == 200  # reading with the session is fine
    r = c.post("/api/v1/organisations", json={"code": "x", "name": "X", "kind": "icb", "borough": "Lambeth"})
    assert r.status_code == 401  # writes need a bearer token, so no CSRF through the API

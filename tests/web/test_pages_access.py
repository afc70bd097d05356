"""Each role is refused the others' pages and actions; a form without its CSRF token is
rejected; sign-in is throttled; security headers are present."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from sel_time.extensions import db
from sel_time.models import User, UserRole

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
    from sel_time.web.account import throttle

    throttle.clear(f"email:{users['finance'].email}", "ip:127.0.0.1")
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    for _ in range(5):
        assert c.post("/login", data={"email": users["finance"].email, "password": "wrong"}).status_code == 400
    r = c.post("/login", data={"email": users["finance"].email, "password": PASSWORD})
    assert r.status_code == 429  # even the right password is refused while throttled
    throttle.clear(f"email:{users['finance'].email}", "ip:127.0.0.1")


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

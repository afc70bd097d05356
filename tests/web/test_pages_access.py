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

from sel_time.core.extensions import db
from sel_time.models import LoginFailure, User, UserRole

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "page-test-password"
PAGES = {  # page → roles allowed
    "/manage": {"admin", "rota_manager"},
    "/manage/people": {"admin", "rota_manager"},
    "/manage/people/new": {"admin", "rota_manager"},
    "/manage/import": {"admin", "rota_manager"},
    "/manage/plans": {"admin", "rota_manager"},
    "/manage/queue": {"admin", "rota_manager"},
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
        user = User(
            email=f"{role.value}@pages.test",
            name=role.value,
            role=role,
            password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            person_id=person.id if role == UserRole.LEADER else None,
        )
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
def test_pages_allowed_or_refused(
    app: Any, users: dict[str, User], path: str, role: str | None
) -> None:
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
def test_actions_refused_to_other_roles(
    app: Any, users: dict[str, User], path: str, role: str
) -> None:
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
    assert (
        c2.post("/login", data={"email": users["admin"].email, "password": PASSWORD}).status_code
        == 400
    )
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def _sign_in(app: Any, email: str, password: str, addr: str) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client().post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": addr}
    )


def test_failures_from_one_address_lock_nobody_else_out(
    app: Any, users: dict[str, User], monkeypatch: Any
) -> None:
    """Finding 2: five wrong passwords for admin from address A refuse admin from A only; the
    right password for admin from address B, and another user from A, still sign in."""
    from sel_time.accounts import login_throttle
    from sel_time.models import AuditEvent

    held: list[float] = []
    monkeypatch.setattr(login_throttle, "pause", held.append, raising=False)
    admin, a, b = users["admin"].email, "192.0.2.10", "198.51.100.20"
    for _ in range(5):
        assert _sign_in(app, admin, "wrong-guess", a).status_code == 400
    r = _sign_in(app, admin, PASSWORD, a)
    assert r.status_code == 429  # the guesser's own pair waits, the right password too
    assert _sign_in(app, admin, PASSWORD, b).status_code == 302  # admin elsewhere: in
    assert "try again in 30 seconds" in r.get_data(as_text=True)
    assert r.headers["Retry-After"] == "30"
    assert _sign_in(app, users["finance"].email, PASSWORD, a).status_code == 302  # others at A: in
    assert _sign_in(app, admin, PASSWORD, a).status_code == 429  # ... and the guesser still waits
    # admin's own sign-in from B was held a moment (bounded), not refused; finance's was not
    assert held == [0.0] * 5 + [0.1, 0.0]
    # the audit trail has each failure and the throttle, without password, email or address
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("sign_in_%")).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["sign_in_failed"] * 5 + ["sign_in_throttled"]
    assert {e.entity_id for e in events} == {str(users["admin"].id)}
    assert events[-1].new["scope"] == "account_address" and events[-1].new["seconds"] == 30
    kept = " ".join(str(e.new) for e in events)
    kept += " ".join(db.session.scalars(sa.select(LoginFailure.key_hash)))
    for secret in ("wrong-guess", admin, a):
        assert secret not in kept


def test_pair_wait_grows_with_its_failures_and_ends(app: Any, users: dict[str, User]) -> None:
    from sel_time.accounts import login_throttle
    from sel_time.core.clock import now_utc

    keys = login_throttle.Keys.of(users["finance"].email, "192.0.2.11")
    start = now_utc()
    for n in range(4):
        assert login_throttle.record_failure(keys, now=start + timedelta(seconds=n)) is None
    started = login_throttle.record_failure(keys, now=start + timedelta(seconds=4))
    assert started == login_throttle.Refusal("account_address", 30)
    assert login_throttle.refusal(keys, now=start + timedelta(seconds=33)) is not None
    assert login_throttle.refusal(keys, now=start + timedelta(seconds=35)) is None
    started = login_throttle.record_failure(keys, now=start + timedelta(seconds=40))
    assert started is not None and started.seconds == 60  # doubled by the pair's own failure
    for _ in range(40):  # however many (racing requests), the wait stops at the window
        started = login_throttle.record_failure(keys, now=start + timedelta(seconds=41))
    assert started is not None and started.seconds == 15 * 60
    # another address for the same account, or the same address for another account: no wait
    assert (
        login_throttle.refusal(
            login_throttle.Keys.of(users["finance"].email, "192.0.2.12"),
            now=start + timedelta(seconds=42),
        )
        is None
    )
    assert (
        login_throttle.refusal(
            login_throttle.Keys.of(users["admin"].email, "192.0.2.11"),
            now=start + timedelta(seconds=42),
        )
        is None
    )


def test_one_address_spraying_many_accounts_meets_a_higher_ceiling(
    app: Any, users: dict[str, User]
) -> None:
    from sel_time.accounts import login_throttle
    from sel_time.core.clock import now_utc

    start = now_utc()
    for n in range(login_throttle.ADDRESS_LIMIT - 1):
        keys = login_throttle.Keys.of(f"u{n}@x.test", "192.0.2.13")
        login_throttle.record_failure(keys, now=start)
    fresh = login_throttle.Keys.of("someone@x.test", "192.0.2.13")
    assert login_throttle.refusal(fresh, now=start) is None
    login_throttle.record_failure(login_throttle.Keys.of("last@x.test", "192.0.2.13"), now=start)
    refused = login_throttle.refusal(fresh, now=start + timedelta(minutes=1))
    assert refused is not None and refused.scope == "address" and refused.seconds == 14 * 60
    assert "network address" in refused.message
    elsewhere = login_throttle.Keys.of("someone@x.test", "192.0.2.14")
    assert login_throttle.refusal(elsewhere, now=start) is None


def test_account_delay_is_bounded_and_never_refuses(
    app: Any, users: dict[str, User], monkeypatch: Any
) -> None:
    """Guesses spread over many addresses slow the account's attempts (at most MAX_DELAY each)
    but never refuse its owner."""
    from sel_time.accounts import login_throttle

    held: list[float] = []
    monkeypatch.setattr(login_throttle, "pause", held.append)
    admin = users["admin"].email
    for n in range(12):
        assert _sign_in(app, admin, "wrong", f"203.0.113.{n}").status_code == 400
    assert held[:6] == [0.0] * 5 + [0.1]
    assert max(held) == login_throttle.MAX_DELAY
    assert _sign_in(app, admin, PASSWORD, "198.51.100.99").status_code == 302
    assert held[-1] == login_throttle.MAX_DELAY


def test_throttle_window_is_fifteen_minutes_and_old_failures_are_deleted(
    app: Any, users: dict[str, User]
) -> None:
    from sel_time.accounts import login_throttle
    from sel_time.core.clock import now_utc

    keys = login_throttle.Keys.of(users["finance"].email, "192.0.2.15")
    start = now_utc()
    for n in range(5):
        login_throttle.record_failure(keys, now=start + timedelta(minutes=n))
    # a row each for the pair, the address and the account
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 15
    assert login_throttle.account_delay(keys, now=start + timedelta(minutes=14)) > 0
    # at 15 min + 1 s the first failure has aged out: four in the window, no delay
    assert login_throttle.account_delay(keys, now=start + timedelta(minutes=15, seconds=1)) == 0
    other = login_throttle.Keys.of("x@x.test", "10.9.9.9")
    login_throttle.record_failure(other, now=start + timedelta(minutes=30))  # prunes the old ones
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 3
    login_throttle.clear(other)  # a success forgets its own pair only
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id))) == 2


@pytest.mark.slow
def test_failures_in_another_process_count(app: Any, users: dict[str, User]) -> None:
    """Another web process (as a second gunicorn worker would be) fails five sign-ins for an
    account from one address; this process then refuses that account from that address,
    though it has seen no failure itself (the count is in the database, shared by all)."""
    email = users["finance"].email
    db.session.remove()
    script = textwrap.dedent(f"""
        from config import TestingConfig
        from sel_time import create_app
        app = create_app(TestingConfig,
                         SQLALCHEMY_DATABASE_URI={app.config["SQLALCHEMY_DATABASE_URI"]!r},
                         WTF_CSRF_ENABLED=False)
        c = app.test_client()
        codes = [c.post("/login", data={{"email": {email!r}, "password": "wrong"}},
                        environ_base={{"REMOTE_ADDR": "192.0.2.16"}}).status_code
                 for _ in range(5)]
        assert codes == [400] * 5, codes
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _sign_in(app, email, PASSWORD, "192.0.2.16").status_code == 429
    assert _sign_in(app, email, PASSWORD, "192.0.2.17").status_code == 302


@pytest.mark.slow
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
    r = c.post(
        "/api/v1/organisations",
        json={"code": "x", "name": "X", "kind": "icb", "borough": "Lambeth"},
    )
    assert r.status_code == 401  # writes need a bearer token, so no CSRF through the API

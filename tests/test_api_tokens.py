"""API tokens expire (90 days by default, shorter if asked), record when they were last used
(to the hour, at most one write an hour), and their holders can list and revoke their own:
through the API, on the account page and with the CLI. Every creation and revocation is audited.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import ApiToken, AuditEvent, User, UserRole

T0 = datetime(2027, 3, 1, 10, 5, tzinfo=UTC)


def _user(role: str = "leader", email: str | None = None) -> User:
    n = db.session.scalar(sa.select(sa.func.count(User.id))) or 0
    user = User(email=email or f"{role}{n}@example.nhs.uk", name=f"{role} {n}", role=UserRole(role))
    db.session.add(user)
    db.session.commit()
    return user


def _token(user: User, days: int | None = None, name: str = "script") -> tuple[ApiToken, str]:
    from sel_time.core.auth import issue_api_token

    row, secret = issue_api_token(user, name, days, CLI_ACTOR)
    db.session.commit()
    return row, secret


def _cli_token(runner: FlaskCliRunner, user: User) -> str:
    """A token made as an operator would: ``sel-time token create``."""
    result = runner.invoke(args=["sel-time", "token", "create", "--user", user.email])
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip())


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _signed_in(app: Flask, user: User) -> FlaskClient:
    """A browser signed in as ``user`` (the session Flask-Login reads), CSRF checks off."""
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return c


@pytest.fixture(autouse=True)
def production_token_life(app: Flask) -> None:
    """The production default (the testing settings allow ten years, for time-travelling tests)."""
    app.config["API_TOKEN_DAYS"] = 90


@pytest.fixture()
def frozen() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


# -- expiry ---------------------------------------------------------------------------------------

def test_a_token_works_for_90_days_then_is_refused_with_a_sentence(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, frozen: Any) -> None:
    secret = _cli_token(runner, _user("rota_manager"))
    frozen.shift(timedelta(days=90) - timedelta(minutes=1))
    assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 200
    frozen.shift(timedelta(minutes=1))
    r = client.get("/api/v1/organisations", headers=_bearer(secret))
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert "expired on 2027-05-30" in r.get_json()["detail"]


def test_the_life_of_a_token_is_configurable_and_may_be_shorter(
        app: Flask, client: FlaskClient, frozen: Any) -> None:
    user = _user("rota_manager")
    row, secret = _token(user, days=7)
    assert row.expires_at == T0 + timedelta(days=7)
    app.config["API_TOKEN_DAYS"] = 30
    assert _token(user)[0].expires_at == T0 + timedelta(days=30)
    with pytest.raises(Exception) as exc:
        _token(user, 31)
    assert "days" in str(exc.value) and "1 to 30" in str(exc.value)
    db.session.rollback()
    frozen.shift(timedelta(days=7))
    assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 401


def test_the_cli_shows_the_expiry_and_refuses_a_longer_life(
        runner: FlaskCliRunner, frozen: Any) -> None:
    user = _user("rota_manager")
    create = ["sel-time", "token", "create", "--user", user.email, "--days"]
    result = runner.invoke(args=[*create, "14"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("st_") and "\n" not in result.stdout.strip()
    assert "expires 2027-03-15 10:05 UTC" in result.stderr
    result = runner.invoke(args=[*create, "365"])
    assert result.exit_code == 2 and "days" in result.stderr and "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1
    listing = runner.invoke(args=["sel-time", "token", "list"])
    assert listing.exit_code == 0 and user.email in listing.stdout
    assert "active" in listing.stdout and "expires 2027-03-15" in listing.stdout
    assert "last used never" in listing.stdout


# -- last use -------------------------------------------------------------------------------------

def test_last_used_is_kept_to_the_hour_with_at_most_one_write_an_hour(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner, frozen: Any) -> None:
    secret = _cli_token(runner, _user("rota_manager"))
    token_id = db.session.scalars(sa.select(ApiToken.id)).one()
    writes: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            writes.append(statement)

    def last_used() -> datetime | None:
        db.session.expire_all()
        return db.session.get(ApiToken, token_id).last_used_at  # type: ignore[union-attr]

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 200
        assert last_used() == datetime(2027, 3, 1, 10, 0, tzinfo=UTC) and len(writes) == 1
        for minutes in (10, 20, 24):  # the same hour: read, never written
            frozen.shift(timedelta(minutes=minutes))
            assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 200
        assert len(writes) == 1  # 10:59 now
        frozen.shift(timedelta(minutes=1))
        assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 200
        assert last_used() == datetime(2027, 3, 1, 11, 0, tzinfo=UTC) and len(writes) == 2
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


# -- listing and revoking through the API ---------------------------------------------------------

def test_everyone_lists_their_own_tokens_and_an_administrator_everyones(
        app: Flask, client: FlaskClient) -> None:
    me, other, admin = _user("leader"), _user("finance"), _user("admin")
    (mine, my_secret), (mine_too, _) = _token(me), _token(me, days=5)
    theirs, _ = _token(other)
    _, admin_secret = _token(admin)
    r = client.get("/api/v1/tokens", headers=_bearer(my_secret))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert {t["id"] for t in body["items"]} == {mine.id, mine_too.id} and body["total"] == 2
    assert all(t["status"] == "active" and t["user"] == me.email for t in body["items"])
    text = r.get_data(as_text=True)
    assert my_secret not in text and mine.token_hash not in text
    assert {t["expires_at"][:10] for t in body["items"]} == {
        mine.expires_at.date().isoformat(), mine_too.expires_at.date().isoformat()}
    everyone = client.get("/api/v1/tokens?per_page=2", headers=_bearer(admin_secret)).get_json()
    assert everyone["total"] == 4 and len(everyone["items"]) == 2
    second = client.get("/api/v1/tokens?page=2&per_page=2",
                        headers=_bearer(admin_secret)).get_json()
    seen = {t["id"] for t in everyone["items"] + second["items"]}
    assert len(seen) == 4 and {mine.id, theirs.id} <= seen
    r = client.get("/api/v1/tokens?per_page=0", headers=_bearer(my_secret))
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "per_page"


def test_a_user_revokes_their_own_token_but_not_anothers(app: Flask, client: FlaskClient) -> None:
    me, other = _user("leader"), _user("rota_manager")
    (_mine, my_secret), (spare, spare_secret) = _token(me), _token(me)
    theirs, their_secret = _token(other)
    r = client.delete(f"/api/v1/tokens/{theirs.id}", headers=_bearer(my_secret))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert client.get("/api/v1/organisations", headers=_bearer(their_secret)).status_code == 200
    r = client.delete(f"/api/v1/tokens/{spare.id}", headers=_bearer(my_secret))
    assert r.status_code == 204
    r = client.get("/api/v1/organisations", headers=_bearer(spare_secret))
    assert r.status_code == 401 and "revoked" in r.get_json()["detail"]
    assert client.get("/api/v1/organisations", headers=_bearer(my_secret)).status_code == 200
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "api_token", AuditEvent.action == "revoke")).one()
    assert event.actor == me.email and event.entity_id == str(spare.id)
    # an administrator may revoke anyone's
    _, admin_secret = _token(_user("admin"))
    r = client.delete(f"/api/v1/tokens/{theirs.id}", headers=_bearer(admin_secret))
    assert r.status_code == 204
    assert client.get("/api/v1/organisations", headers=_bearer(their_secret)).status_code == 401


# -- the account page -----------------------------------------------------------------------------

def test_the_account_page_makes_lists_and_revokes_your_own_tokens(
        app: Flask, client: FlaskClient, frozen: Any) -> None:
    me, other = _user("leader"), _user("finance")
    theirs, _ = _token(other, name="their script")
    browser = _signed_in(app, me)
    r = browser.post("/account/tokens", data={"name": "my laptop", "days": "30"})
    assert r.status_code == 200, r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    assert "expires on <strong id=\"new-token-expires\">31 March 2027 at 10:05 UTC" in page
    row = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == me.id)).one()
    secret = page.split('id="token-secret" readonly value="')[1].split('"')[0]
    assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 200
    assert "their script" not in page and "my laptop" in page
    assert db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "api_token", AuditEvent.action == "create",
        AuditEvent.actor == me.email)).one()
    r = browser.post("/account/tokens", data={"name": "too long", "days": "1e999"})
    assert r.status_code == 422
    assert "Enter a whole number of days from 1 to 90" in r.get_data(as_text=True)
    assert browser.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    r = browser.post(f"/account/tokens/{row.id}/revoke")
    assert r.status_code == 302
    assert client.get("/api/v1/organisations", headers=_bearer(secret)).status_code == 401
    db.session.expire_all()
    assert db.session.get(ApiToken, theirs.id).revoked_at is None  # type: ignore[union-attr]

"""``sel-time token create`` and ``token revoke``: a token printed once, stored only as its
SHA-256, usable as a bearer token until revoked; clear errors, never a traceback."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sel_time.core.extensions import db
from sel_time.models import ApiToken, AuditEvent, User, UserRole


@pytest.fixture()
def user(app: Any) -> User:
    person = User(email="rota@example.nhs.uk", name="Rota Manager", role=UserRole.ROTA_MANAGER)
    db.session.add(person)
    db.session.commit()
    return person


def _create(runner: Any, email: str, *extra: str) -> Any:
    return runner.invoke(args=["sel-time", "token", "create", "--user", email, *extra])


def _everything_stored() -> str:
    """Every value in every table, as text."""
    db.session.expire_all()
    rows = []
    for table in db.metadata.sorted_tables:
        rows += [repr(tuple(r)) for r in db.session.execute(sa.select(table))]
    return "\n".join(rows)


def test_created_token_works_as_a_bearer_token(runner: Any, client: Any, user: User) -> None:
    result = _create(runner, user.email)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("st_") and len(token) > 40 and "\n" not in token
    r = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_json()
    # a rota manager's token carries a rota manager's rights, no more
    assert (
        client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    )


def test_email_is_matched_regardless_of_case(runner: Any, user: User) -> None:
    assert _create(runner, user.email.upper()).exit_code == 0


def test_token_is_stored_only_as_its_sha256(runner: Any, user: User, app: Any) -> None:
    token = _create(runner, user.email, "--name", "laptop").stdout.strip()
    row = db.session.scalars(sa.select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.name == "laptop" and row.user_id == user.id and row.revoked_at is None
    assert token not in _everything_stored()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        db.session.remove()
        db.engine.dispose()
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        assert token.encode() not in Path(path).read_bytes()
    # the creation is audited without the secret
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "api_token")).one()
    assert event.action == "create" and token not in repr(event.new)


def test_each_token_is_new(runner: Any, user: User) -> None:
    first, second = (_create(runner, user.email).stdout.strip() for _ in range(2))
    assert first != second
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 2


@pytest.mark.parametrize("by", ["token", "prefix"])
def test_revoked_token_is_refused(runner: Any, client: Any, user: User, by: str) -> None:
    token = _create(runner, user.email).stdout.strip()
    keep = _create(runner, user.email).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/organisations", headers=headers).status_code == 200
    db.session.expire_all()
    prefix = db.session.scalar(
        sa.select(ApiToken.prefix).where(
            ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()
        )
    )
    result = runner.invoke(args=["sel-time", "token", "revoke", token if by == "token" else prefix])
    assert result.exit_code == 0, result.output
    assert token not in result.output
    r = client.get("/api/v1/organisations", headers=headers)
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    # the other token of the same user still works
    assert (
        client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {keep}"}).status_code
        == 200
    )
    # revoking again is harmless
    assert runner.invoke(args=["sel-time", "token", "revoke", token]).exit_code == 0


@pytest.mark.parametrize("email", ["nobody@example.nhs.uk", "", "not an email"])
def test_unknown_user_is_a_clear_error(runner: Any, user: User, email: str) -> None:
    result = _create(runner, email)
    assert result.exit_code == 2
    assert "no user" in result.stderr.lower()
    assert "Traceback" not in result.output
    assert result.stdout.strip() == ""
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_missing_user_option_is_a_usage_error(runner: Any, user: User) -> None:
    result = runner.invoke(args=["sel-time", "token", "create"])
    assert result.exit_code == 2
    assert "--user" in result.output
    assert "Traceback" not in result.output


def test_revoking_an_unknown_token_is_a_clear_error(runner: Any, user: User) -> None:
    result = runner.invoke(args=["sel-time", "token", "revoke", "st_nothing"])
    assert result.exit_code == 2
    assert "no such token" in result.stderr.lower()
    assert "Traceback" not in result.output

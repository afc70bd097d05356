"""Single sign-on without a provider: the start-up checks, passwords switched off but for the
break-glass administrator, the sign-in page, roles from a groups claim, and a provider that
cannot be reached."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from support.processes import process_env
from werkzeug.security import generate_password_hash

from config import ProductionConfig, TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db
from sel_time.core.startup import ConfigurationError
from sel_time.models import AuditEvent, User, UserRole
from sel_time.sso import signin
from sel_time.sso.settings import single_sign_on

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing answers there
SSO = {"SSO_ISSUER": CLOSED, "SSO_CLIENT_ID": "sel-time", "SSO_CLIENT_SECRET": "s" * 32,
       "SSO_ALLOWED_DOMAINS": "nhs.net"}
PASSWORD = "a long password for tests"
PASSWORD_HASH = generate_password_hash(PASSWORD)


@pytest.mark.parametrize("missing", sorted(SSO))
def test_half_configured_single_sign_on_refuses_to_start_naming_the_variable(
        missing: str) -> None:
    given = {k: v for k, v in SSO.items() if k != missing}
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig, SECRET_KEY=secrets.token_hex(32),
                   SQLALCHEMY_DATABASE_URI="sqlite://",
                   **{**given, "SSO_ISSUER": "https://login.microsoftonline.com/t/v2.0"}
                   if missing != "SSO_ISSUER" else given)
    assert str(refused.value).startswith("single sign-on is half configured: "
                                         f"SEL_TIME_{missing} is not set")


def test_the_production_entry_point_refuses_to_start_half_configured(tmp_path: Path) -> None:
    env = process_env(DATABASE_URL=f"sqlite:///{tmp_path / 'w.sqlite'}",
                      SEL_TIME_SSO_ISSUER="https://login.microsoftonline.com/tenant/v2.0",
                      SEL_TIME_SSO_CLIENT_ID="sel-time", SEL_TIME_SSO_ALLOWED_DOMAINS="nhs.net")
    done = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode != 0
    assert ("sel-time cannot start: single sign-on is half configured: "
            "SEL_TIME_SSO_CLIENT_SECRET is not set") in done.stderr


@pytest.mark.parametrize(("settings", "says"), [
    ({**SSO}, "SEL_TIME_SSO_ISSUER must be the provider's https issuer URL"),
    ({**SSO, "SSO_ISSUER": "https://idp.example/v2.0", "SSO_ALLOWED_DOMAINS": "nhs net"},
     "SEL_TIME_SSO_ALLOWED_DOMAINS must list e-mail domains"),
    ({**SSO, "SSO_ISSUER": "https://idp.example/v2.0", "SSO_GROUP_ROLES": "g1=admin"},
     "SEL_TIME_SSO_GROUP_ROLES is set but SEL_TIME_SSO_GROUPS_CLAIM is not"),
    ({**SSO, "SSO_ISSUER": "https://idp.example/v2.0", "SSO_GROUPS_CLAIM": "groups",
      "SSO_GROUP_ROLES": "g1=boss"}, "'g1=boss' is not one"),
    ({"LOCAL_PASSWORDS": "off"}, "SEL_TIME_LOCAL_PASSWORDS is off but single sign-on is not"),
])
def test_wrong_settings_refuse_to_start_in_words(settings: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig, SECRET_KEY=secrets.token_hex(32),
                   SQLALCHEMY_DATABASE_URI="sqlite://", **settings)
    assert says in str(refused.value)


def _app(tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 't.sqlite'}",
                     WTF_CSRF_ENABLED=False, **overrides)
    with app.app_context():
        db.create_all()
        hashed = PASSWORD_HASH
        db.session.add_all([
            User(email="glass@nhs.net", name="Break Glass", role=UserRole.ADMIN,
                 password_hash=hashed),
            User(email="leader@nhs.net", name="A Leader", role=UserRole.LEADER,
                 password_hash=hashed),
        ])
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def passwords_off(tmp_path: Path) -> Iterator[Flask]:
    yield from _app(tmp_path, **SSO, LOCAL_PASSWORDS="off", BREAK_GLASS_ADMIN="glass@nhs.net")


def _sign_in(app: Flask, email: str) -> Any:
    return app.test_client().post("/login", data={"email": email, "password": PASSWORD})


def test_with_passwords_off_only_the_break_glass_administrator_signs_in_with_one(
        passwords_off: Flask) -> None:
    refused = _sign_in(passwords_off, "leader@nhs.net")
    assert refused.status_code == 403
    assert "Passwords are switched off" in refused.get_data(as_text=True)
    assert "nhsuk-error-summary" in refused.get_data(as_text=True)
    assert _sign_in(passwords_off, "glass@nhs.net").status_code == 302
    row = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "sign_in_refused")).one()
    assert row.new == {"method": "password", "reason": "passwords_off"}


def test_the_break_glass_name_lets_in_only_an_administrator(passwords_off: Flask) -> None:
    user = db.session.scalar(sa.select(User).where(User.email == "glass@nhs.net"))
    assert user is not None
    user.role = UserRole.FINANCE
    db.session.commit()
    assert _sign_in(passwords_off, "glass@nhs.net").status_code == 403


def test_a_wrong_password_is_still_just_wrong_when_passwords_are_off(
        passwords_off: Flask) -> None:
    answer = passwords_off.test_client().post(
        "/login", data={"email": "leader@nhs.net", "password": "not it"})
    assert answer.status_code == 400
    assert "The email address or password is not right" in answer.get_data(as_text=True)


def test_the_sign_in_page_offers_the_organisations_account(passwords_off: Flask) -> None:
    page = passwords_off.test_client().get("/login").get_data(as_text=True)
    assert 'class="nhsuk-button"' in page
    assert "Sign in with your organisation's account" in page
    assert '<details class="nhsuk-details">' in page and "Break-glass administrator" in page


def test_without_single_sign_on_the_page_asks_for_a_password_only(tmp_path: Path) -> None:
    for app in _app(tmp_path):
        page = app.test_client().get("/login").get_data(as_text=True)
        assert "organisation" not in page and 'name="password"' in page
        assert app.test_client().get("/login/sso").status_code == 404


def test_a_provider_that_cannot_be_reached_gets_a_page_not_a_500(passwords_off: Flask) -> None:
    answer = passwords_off.test_client().get("/login/sso")
    assert answer.status_code == 503
    assert "cannot be reached" in answer.get_data(as_text=True)


def test_roles_come_from_the_groups_claim_when_mapped(passwords_off: Flask) -> None:
    sso = single_sign_on({**SSO, "SEL_TIME_ENV": "testing", "SSO_GROUPS_CLAIM": "groups",
                          "SSO_GROUP_ROLES": "g-admins=admin,g-leaders=leader"})
    assert sso is not None
    claims = {"email": "Leader@nhs.net", "email_verified": True, "sub": "x",
              "groups": ["g-leaders", "g-admins", "other"]}
    user = signin.user_for(claims, sso)
    assert user.email == "leader@nhs.net" and user.role == UserRole.ADMIN
    change = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert change.old == {"role": "leader"} and change.new["role"] == "admin"
    with pytest.raises(signin.Refused) as refused:
        signin.user_for({**claims, "groups": ["other"]}, sso)
    assert refused.value.reason == "no_mapped_group"


def test_without_a_mapping_the_role_stays_as_sel_time_has_it(passwords_off: Flask) -> None:
    sso = single_sign_on({**SSO, "SEL_TIME_ENV": "testing"})
    assert sso is not None
    user = signin.user_for({"email": "leader@nhs.net", "email_verified": "true",
                            "groups": ["g-admins"]}, sso)
    assert user.role == UserRole.LEADER


def test_signing_out_while_the_provider_is_down_still_signs_out_of_sel_time(
        passwords_off: Flask) -> None:
    client = passwords_off.test_client()
    user = db.session.scalar(sa.select(User).where(User.email == "glass@nhs.net"))
    assert user is not None
    with client.session_transaction() as session:  # as after a single sign-on
        session["_user_id"] = str(user.id)
        session["sso_id_token"] = "an.id.token"
    assert client.get("/manage").status_code == 200  # signed in
    answer = client.post("/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session and "sso_id_token" not in session

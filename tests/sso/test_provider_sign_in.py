"""Single sign-on through a real OpenID Connect provider (oidc-provider on loopback), driven in
Chromium: the journey in and out, and each refusal with a page that says why."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from .conftest import HELP, Provider

pytestmark = pytest.mark.slow  # a real OpenID provider and Chromium

SSO_BUTTON = "text=Sign in with your organisation's account"


def through_provider(page: Any, sso: dict[str, Any], login: str) -> Any:
    """From sel-time's sign-in page to the provider and back as ``login``; the response of
    sel-time's callback (the page is where it led)."""
    page.goto(sso["url"] + "/login")
    page.click(SSO_BUTTON)
    page.wait_for_selector("input[name=login]")
    assert page.url.startswith(sso["provider"].issuer)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the test provider takes any")
    with page.expect_response(lambda r: "/login/sso/callback" in r.url) as answer:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    return answer.value


def audit_rows(sso: dict[str, Any], action: str) -> list[dict[str, Any]]:
    from sel_time.core.extensions import db
    from sel_time.models import AuditEvent

    with sso["app"].app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        found = [{"actor": r.actor, "user_id": r.user_id, **(r.new or {})} for r in rows]
        db.session.remove()
    return found


def signed_in(page: Any, sso: dict[str, Any]) -> bool:
    page.goto(sso["url"] + "/me")
    return urlsplit(page.url).path == "/me"


def test_a_leader_signs_in_with_the_organisations_account_and_out_of_both(
        page: Any, sso: dict[str, Any]) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/auth?" in r.url else None)

    answer = through_provider(page, sso, "leader")

    assert answer.status == 302
    assert urlsplit(page.url).path == "/me"
    assert page.locator("h1").first.inner_text().strip() != ""
    assert "Leader One" in page.locator("header").inner_text()
    # The browser was sent to the provider with state, nonce and a PKCE S256 challenge.
    query = parse_qs(urlsplit(asked[0]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43 and query["state"][0] and query["nonce"][0]
    assert "openid" in query["scope"][0].split()
    signs = audit_rows(sso, "sign_in")
    assert signs[-1]["method"] == "single sign-on"
    assert signs[-1]["issuer"] == sso["provider"].issuer and signs[-1]["subject"] == "leader"

    # Signing out ends the provider's session too (RP-initiated logout).
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("text=Yes, sign me out")
    assert page.url.startswith(sso["provider"].issuer)
    page.click("text=Yes, sign me out")
    page.wait_for_url(sso["url"] + "/login")
    assert "You have signed out of sel-time and of your organisation's account" in (
        page.inner_text("main"))
    assert not signed_in(page, sso)
    page.goto(sso["url"] + "/login")
    page.click(SSO_BUTTON)
    page.wait_for_selector("input[name=login]")  # asked to sign in at the provider again


def refused(page: Any, answer: Any, status: int, title: str) -> str:
    assert answer.status == status
    assert urlsplit(page.url).path == "/login/sso/callback"
    assert page.locator("h1").inner_text() == title
    return str(page.inner_text("main"))


@pytest.mark.parametrize(("misbehaviour", "title", "reason"), [
    ("wrong_issuer", "The sign-in came from the wrong sign-in service", "wrong_issuer"),
    ("wrong_audience", "The sign-in was meant for another application", "wrong_audience"),
    ("expired", "The sign-in has expired", "token_expired"),
    ("wrong_nonce", "The sign-in does not match this browser", "nonce_mismatch"),
])
def test_an_id_token_failing_validation_is_refused_with_a_page_that_says_why(
        page: Any, sso: dict[str, Any], provider: Provider, misbehaviour: str, title: str,
        reason: str) -> None:
    provider.misbehave(misbehaviour)  # the provider's own key signs the changed token

    text = refused(page, through_provider(page, sso, "leader"), 401, title)

    assert "refused" in text or "expired" in text or "replayed" in text
    assert audit_rows(sso, "sign_in_refused")[-1]["reason"] == reason
    assert not signed_in(page, sso)


def test_a_replayed_state_is_refused(page: Any, sso: dict[str, Any], browser: Any) -> None:
    answer = through_provider(page, sso, "leader")
    assert answer.status == 302 and urlsplit(page.url).path == "/me"
    callback = answer.url
    assert parse_qs(urlsplit(callback).query)["state"]

    again = page.goto(callback)  # the same browser, the same answer again
    text = refused(page, again, 400, "This sign-in link has already been used")
    assert "Start again" in text
    # A browser that never started this sign-in gets the same refusal, and is not let in.
    other = browser.new_context()
    stranger = other.new_page()
    refused(stranger, stranger.goto(callback), 400, "This sign-in link has already been used")
    assert not signed_in(stranger, sso)
    other.close()
    reasons = [r["reason"] for r in audit_rows(sso, "sign_in_refused")[-2:]]
    assert reasons == ["state_mismatch", "state_mismatch"]


@pytest.mark.parametrize(("login", "title", "says"), [
    ("outsider", "This e-mail address cannot sign in to sel-time",
     "only addresses ending in nhs.net, slam.nhs.uk can sign in"),
    ("unverified", "Your e-mail address is not verified",
     "did not confirm that unverified@nhs.net is verified"),
    ("stranger", "You do not have a sel-time account",
     "to add you to sel-time with the e-mail address stranger@nhs.net"),
])
def test_an_account_sel_time_cannot_match_is_refused_saying_why_and_whom_to_ask(
        page: Any, sso: dict[str, Any], login: str, title: str, says: str) -> None:
    text = refused(page, through_provider(page, sso, login), 403, title)

    assert says in text
    assert f"Ask {HELP}" in text
    assert not signed_in(page, sso)
    row = audit_rows(sso, "sign_in_refused")[-1]
    assert row["actor"] == "single sign-on" and "email" not in row  # a digest only


def test_sign_ins_started_again_and_again_keep_one_pending_state(sso: dict[str, Any]) -> None:
    client = sso["app"].test_client()
    for _ in range(30):
        started = client.get("/login/sso")
        assert started.status_code == 302
        assert started.headers["Location"].startswith(sso["provider"].issuer)
    with client.session_transaction() as session:
        assert len([k for k in session if k.startswith("_state_")]) == 1
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 2000

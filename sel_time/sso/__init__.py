"""Single sign-on with the organisation's account (OpenID Connect, through Authlib's Flask
client): the authorisation-code flow with PKCE (S256), state and nonce; the ID token's
signature, issuer, audience, expiry and nonce checked; people matched by verified e-mail to
their sel-time user, whose role stays in sel-time (or comes from a mapped groups claim); local
passwords switched off if wanted, except for a break-glass administrator; signing out ends the
provider's session too where it offers RP-initiated logout.

Public: :func:`init_sso` (called by the app factory), :func:`passwords_allowed_for` (the
password form asks it), :func:`sign_out_redirect` (the sign-out asks it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, session, url_for
from werkzeug.wrappers import Response

from ..models import User, UserRole
from .settings import Passwords, SingleSignOn, passwords, single_sign_on

log = logging.getLogger(__name__)
EXTENSION = "sel_time.sso"
CLIENT = "organisation"
ID_TOKEN = "sso_id_token"  # kept in the session for the provider's sign-out (id_token_hint)


class State:
    """What one app knows about single sign-on: its settings and its Authlib client."""

    def __init__(self, sso: SingleSignOn | None, passwords: Passwords) -> None:
        self.sso = sso
        self.passwords = passwords
        self.oauth: OAuth | None = None

    def client(self) -> Any:
        assert self.oauth is not None
        return self.oauth.create_client(CLIENT)


def init_sso(app: Flask) -> None:
    """Read and check the settings (a half-made configuration stops the start), register the
    provider with Authlib, and add the sign-in routes."""
    sso = single_sign_on(app.config)
    state = State(sso, passwords(app.config, sso))
    if sso is not None:
        state.oauth = OAuth(app)
        state.oauth.register(
            CLIENT,
            client_id=sso.client_id,
            client_secret=sso.client_secret,
            server_metadata_url=sso.metadata_url,
            client_kwargs={"scope": sso.scopes, "code_challenge_method": "S256",
                           "default_timeout": 10},
        )
        log.info("Single sign-on through %s", sso.issuer)
        app.after_request(_allow_sign_out_form(sso))
    app.extensions[EXTENSION] = state
    from . import pages

    app.register_blueprint(pages.bp)
    app.context_processor(_sign_in_options)


def _allow_sign_out_form(sso: SingleSignOn) -> Callable[[Response], Response]:
    """The sign-out form on every page posts to sel-time, which redirects to the provider's
    ``end_session_endpoint``; browsers apply the page's CSP ``form-action`` to that redirect,
    so the provider's origin joins 'self' there (the same policy otherwise)."""
    from ..web import SECURITY_HEADERS

    parts = urlsplit(sso.issuer)
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")

    def allow(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return allow


def state() -> State:
    found: State = current_app.extensions[EXTENSION]
    return found


def _sign_in_options() -> dict[str, Any]:
    current = current_app.extensions.get(EXTENSION)
    return {"sso_enabled": bool(current and current.sso),
            "passwords_enabled": bool(current is None or current.passwords.enabled)}


def passwords_allowed_for(user: User) -> bool:
    """Whether a local password may sign ``user`` in: anyone's while passwords are on; when
    they are off, only the break-glass administrator's (named, and an administrator)."""
    current = state().passwords
    return current.enabled or (
        current.allowed_for(user.email.strip().lower()) and user.role == UserRole.ADMIN)


def sign_out_redirect() -> Response | None:
    """After sel-time's own sign-out: the redirect that ends the provider's session too (RP-
    initiated logout), when this session came through single sign-on and the provider offers
    an ``end_session_endpoint``; None otherwise."""
    id_token = session.pop(ID_TOKEN, None)
    current = state()
    if not id_token or current.sso is None:
        return None
    client = current.client()
    try:
        metadata = client.load_server_metadata()
    except Exception:  # the provider is down: sel-time's own sign-out still stands
        log.warning("Could not reach the sign-in service to end its session", exc_info=True)
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return client.logout_redirect(  # type: ignore[no-any-return]
        post_logout_redirect_uri=public_url("sso.signed_out"), id_token_hint=id_token)


def public_url(endpoint: str) -> str:
    """An absolute URL of this service as the provider knows it (``SEL_TIME_PUBLIC_URL``)."""
    base = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return base + url_for(endpoint) if base else url_for(endpoint, _external=True)

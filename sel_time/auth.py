"""Who is calling: bearer tokens for the API (and, later, browser sessions), and roles."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from flask import g, request

from .clock import now_utc
from .errors import Forbidden, NotFound, Unauthorised
from .extensions import db
from .models import ApiToken, User, UserRole

TOKEN_PREFIX = "st_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh bearer token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_api_token(user: User, name: str = "cli") -> tuple[ApiToken, str]:
    """Store the hash of a new token for ``user``; return the row and the token (shown once)."""
    token = new_token()
    row = ApiToken(
        user=user, name=name, token_hash=hash_token(token), prefix=token[:10], created_at=now_utc()
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_api_token(token_or_prefix: str) -> ApiToken:
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token_or_prefix)))
    if row is None:
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == token_or_prefix))
    if row is None:
        raise NotFound("No such token")
    if row.revoked_at is None:
        row.revoked_at = now_utc()
    db.session.flush()
    return row


def user_from_bearer() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    )
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


def current_user() -> User | None:
    """The caller: a bearer token first, then a signed-in browser session.

    Worked out once per request. The cache lives on the request, not on ``g``: an app context
    (and so ``g``) outlives a request whenever one was already pushed, as in tests and jobs."""
    if request.environ.get("sel_time.user_known") is not True or "user" not in g:
        user = user_from_bearer()
        if user is None and request.method in ("GET", "HEAD"):  # browser sessions may only read
            try:
                from flask_login import current_user as session_user

                if session_user and session_user.is_authenticated:
                    user = session_user._get_current_object()  # type: ignore[attr-defined]
            except Exception:  # Flask-Login not set up (pure API app)
                user = None
        g.user = user
        request.environ["sel_time.user_known"] = True
    return g.user


def require_user(roles: Iterable[UserRole] | None = None) -> User:
    """The caller, or 401; 403 when ``roles`` is given and the caller's role is not in it."""
    user = current_user()
    if user is None:
        raise Unauthorised("Send 'Authorization: Bearer <token>' (create one with sel-time token create)")
    if roles is not None and user.role not in set(roles):
        raise Forbidden(f"The {user.role.value.replace('_', ' ')} role cannot do this")
    return user

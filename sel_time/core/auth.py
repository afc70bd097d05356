"""Who is calling: bearer tokens for the API (and, later, browser sessions), and roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, request

from ..models import ApiToken, User, UserRole
from .audit import Actor, record
from .clock import now_utc
from .errors import FieldError, Forbidden, NotFound, Unauthorised, ValidationError
from .extensions import db

TOKEN_PREFIX = "st_"
DEFAULT_TOKEN_DAYS = 90


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh bearer token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_days_allowed() -> int:
    """The longest life of a new API token, in days (``SEL_TIME_TOKEN_DAYS``, default 90)."""
    return int(current_app.config.get("API_TOKEN_DAYS", DEFAULT_TOKEN_DAYS))


def create_api_token(
    user: User, name: str = "cli", days: int | None = None
) -> tuple[ApiToken, str]:
    """Store the hash of a new token for ``user``, valid for ``days`` (at most, and by default,
    the configured API_TOKEN_DAYS); return the row and the token (shown once)."""
    allowed = token_days_allowed()
    if days is None:
        days = allowed
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= allowed:
        raise ValidationError(
            "The token's life is not allowed",
            [FieldError("days", f"a whole number of days from 1 to {allowed}")],
        )
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("The token needs a name", [FieldError("name", "1 to 100 characters")])
    token = new_token()
    now = now_utc()
    row = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(token),
        prefix=token[:10],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def issue_api_token(user: User, name: str, days: int | None, actor: Actor) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and audit it (without the secret)."""
    row, token = create_api_token(user, name, days)
    record(
        actor,
        "create",
        "api_token",
        row.id,
        None,
        {
            "user": user.email,
            "name": row.name,
            "prefix": row.prefix,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    return row, token


def revoke_api_token(token_or_prefix: str) -> ApiToken:
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token_or_prefix))
    )
    if row is None:
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == token_or_prefix))
    if row is None:
        raise NotFound("No such token")
    if row.revoked_at is None:
        row.revoked_at = now_utc()
    db.session.flush()
    return row


def token_status(row: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= (now or now_utc()) else "active"


def visible_tokens(user: User) -> sa.Select[ApiToken]:
    """The tokens ``user`` may see and revoke: their own; an administrator's, everyone's."""
    query = sa.select(ApiToken)
    if user.role != UserRole.ADMIN:
        query = query.where(ApiToken.user_id == user.id)
    return query


def revoke_token_of(user: User, token_id: int, actor: Actor) -> ApiToken:
    """Revoke one token ``user`` may see (404 for any other, so ids reveal nothing). Audited;
    revoking a revoked token changes nothing."""
    row = db.session.scalar(visible_tokens(user).where(ApiToken.id == token_id))
    if row is None:
        raise NotFound(f"No API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now_utc()
        db.session.flush()
        record(
            actor,
            "revoke",
            "api_token",
            row.id,
            None,
            {"user": row.user.email, "prefix": row.prefix},
        )
    return row


def token_dict(row: ApiToken) -> dict[str, object]:
    """A token as the API and the account page show it (never the secret or its hash)."""
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "user_id": row.user_id,
        "user": row.user.email,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "status": token_status(row),
    }


def user_from_bearer() -> User | None:
    """The user of the request's bearer token; None without one. A token that is unknown gives
    None too (the caller answers 401); an expired or revoked one, or one of a deactivated user,
    is refused here with a sentence that says which. Marks the token used, to the hour: at most
    one write per token an hour, so the hot path does not write on every request."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    )
    if row is None:
        return None
    now = now_utc()
    if row.revoked_at is not None:
        raise Unauthorised(f"This API token ({row.prefix}…) was revoked; create a new one")
    if row.expires_at <= now:
        raise Unauthorised(
            f"This API token ({row.prefix}…) expired on "
            f"{row.expires_at:%Y-%m-%d %H:%M} UTC; create a new one"
        )
    if not row.user.active:
        return None
    hour = now.replace(minute=0, second=0, microsecond=0)
    if row.last_used_at is None or row.last_used_at < hour:
        row.last_used_at = hour  # committed with the request, like every other change
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
                    user = session_user._get_current_object()
            except Exception:  # Flask-Login not set up (pure API app)
                user = None
        g.user = user
        request.environ["sel_time.user_known"] = True
    known: User | None = g.user
    return known


def require_user(roles: Iterable[UserRole] | None = None) -> User:
    """The caller, or 401; 403 when ``roles`` is given and the caller's role is not in it."""
    user = current_user()
    if user is None:
        raise Unauthorised(
            "Send 'Authorization: Bearer <token>' (create one with sel-time token create)"
        )
    if roles is not None and user.role not in set(roles):
        raise Forbidden(f"The {user.role.value.replace('_', ' ')} role cannot do this")
    return user

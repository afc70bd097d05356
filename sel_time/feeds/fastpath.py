"""A fast path for the busiest URL: a subscribed calendar polling its feed.

WSGI middleware in front of Flask that answers ``GET``/``HEAD /feeds/<token>.ics`` straight
from the feed cache with one Core query (token, holder and cached body together), without a
Flask request context or ORM session. Anything it cannot answer with certainty — an unknown or
revoked token, a holder no longer allowed (checked on every request against the holder as they
are now: active, role, linked to the person the token was issued for), a stale or missing cache
row, a leader's team or department feed (their membership is re-checked by the full path) — falls
through to the Flask view, which renders, refuses and rate-limits exactly as before. A valid token
is served whatever the miss limiter says of its address: only misses are throttled
(``feeds/misses.py``), and those always fall through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from ..core.clock import now_utc
from ..models import FeedCache, FeedToken, User
from .service import CACHE_MAX_AGE, TOKEN_RE, hash_token, holder_may_read

_FAST = (
    sa.select(
        FeedToken.kind,
        FeedToken.target_id,
        FeedToken.holder_person_id,
        User.active,
        User.role,
        User.person_id,
        FeedCache.body,
        FeedCache.etag,
        FeedCache.stale,
        FeedCache.rendered_at,
    )
    .join(User, User.id == FeedToken.holder_user_id)
    .join(
        FeedCache,
        sa.and_(FeedCache.kind == FeedToken.kind, FeedCache.target_id == FeedToken.target_id),
    )
    .where(FeedToken.token_hash == sa.bindparam("token_hash"), FeedToken.revoked_at.is_(None))
)


class FeedFastPath:
    def __init__(self, app: Any, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._engine: sa.Engine | None = None

    def _engine_for_app(self) -> sa.Engine:
        if self._engine is None:
            from ..core.extensions import db

            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if method in ("GET", "HEAD") and path.startswith("/feeds/") and path.endswith(".ics"):
            answer = self._answer(environ, method, path[len("/feeds/") : -len(".ics")])
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.wsgi_app(environ, start_response)

    def _answer(
        self, environ: dict[str, Any], method: str, token: str
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        if not TOKEN_RE.match(token):
            return None
        try:
            with self._engine_for_app().connect() as conn:
                row = conn.execute(_FAST, {"token_hash": hash_token(token)}).first()
        except sa.exc.DBAPIError:
            return None  # the full path answers 503 in its own way
        if row is None or not row.active or row.stale or row.body is None or not row.etag:
            return None
        if not holder_may_read(
            row.kind, row.target_id, row.active, row.role, row.holder_person_id, row.person_id
        ):
            return None  # refused, or it depends on membership: the full path decides
        if row.rendered_at is None or row.rendered_at <= now_utc() - CACHE_MAX_AGE:
            return None
        from ..web import HSTS, SECURITY_HEADERS
        from .routes import FEED_HEADERS

        merged = {**SECURITY_HEADERS, **FEED_HEADERS}  # as the app's after_request would add them
        if environ.get("wsgi.url_scheme") == "https":
            merged["Strict-Transport-Security"] = HSTS
        # Byte-for-byte the headers of the full path (whose session machinery adds Vary).
        headers = [*merged.items(), ("ETag", row.etag), ("Vary", "Cookie")]
        wanted = {
            p.strip().removeprefix("W/")
            for p in environ.get("HTTP_IF_NONE_MATCH", "").split(",")
            if p.strip()
        }
        if row.etag in wanted:
            return "304 NOT MODIFIED", headers, b""
        headers += [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Length", str(len(row.body))),
        ]
        return "200 OK", headers, (b"" if method == "HEAD" else bytes(row.body))

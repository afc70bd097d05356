"""Feed URLs (``/feeds/<token>.ics``), feed links under ``/api/v1/feeds``, and the one-click
page a calendar event links to for recording whether the time was taken."""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, render_template_string, request

from ..api import bp as api_bp
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS, json_response, problem_response
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import NotFound, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary, transactional
from ..delivery import recording
from ..directory.api import json_body
from ..directory.records import parse
from ..directory.schemas import FeedLinkIn
from ..models import FeedKind, FeedToken, Outcome
from . import service
from .misses import limiter_for

bp = Blueprint("feeds", __name__)

FEED_HEADERS = {
    "Cache-Control": "private, max-age=300",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def _not_found() -> Response:
    return Response(
        "No such feed\n",
        status=404,
        mimetype="text/plain",
        headers={**FEED_HEADERS, "Cache-Control": "no-store"},
    )


def _too_many(retry_after: int) -> Response:
    return Response(
        "Too many requests for unknown feeds; try again later\n",
        status=429,
        mimetype="text/plain",
        headers={**FEED_HEADERS, "Cache-Control": "no-store", "Retry-After": str(retry_after)},
    )


@bp.route("/feeds/<token>.ics", methods=["GET", "HEAD"])
def feed(token: str) -> Response:
    try:
        with boundary():
            kind, target_id = service.resolve_token(token)
            rendered = service.get_feed(kind, target_id)
    except NotFound:
        # Only misses are throttled: a valid token never waits for other requests' misses.
        wait = limiter_for(current_app).miss(request.remote_addr or "unknown")
        return _not_found() if wait is None else _too_many(wait)
    headers = {**FEED_HEADERS, "ETag": rendered.etag}
    if rendered.etag in _if_none_match():
        return Response(status=304, headers=headers)
    response = Response(
        rendered.body, status=200, headers=headers, content_type="text/calendar; charset=utf-8"
    )
    return response


def _if_none_match() -> set[str]:
    raw = request.headers.get("If-None-Match", "")
    return {part.strip().removeprefix("W/") for part in raw.split(",") if part.strip()}


def feed_url(secret: str) -> dict[str, str]:
    """The feed's address, and the one a calendar app opens as a subscription. From an https
    deployment that is ``webcals://`` (subscribe over TLS), never ``webcal://``, which clients
    may fetch over plain http and so send the secret in the clear; ``webcal://`` only where
    the deployment itself is plain http (a development server)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    url = f"{base}/feeds/{secret}.ics"
    scheme, _, rest = url.partition("://")
    webcal = "webcals" if scheme.lower() == "https" else "webcal"
    return {"url": url, "webcal": f"{webcal}://{rest}"}


def _token_dict(row: FeedToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind.value,
        "target_id": row.target_id,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


@api_bp.post("/feeds")
@transactional
def create_feed_link() -> tuple[Response, int]:
    """A new secret feed URL (shown once); any older link of yours to that feed stops working."""
    user = require_user()
    data = parse(FeedLinkIn, json_body())
    row, secret = service.issue_token(
        user, FeedKind(data["kind"]), data["target_id"], Actor.for_user(user)
    )
    return jsonify({**_token_dict(row), **feed_url(secret)}), 201


@api_bp.get("/feeds")
@transactional
def list_feed_links() -> Response:
    user = require_user()
    rows = db.session.scalars(
        sa.select(FeedToken)
        .where(FeedToken.holder_user_id == user.id)
        .order_by(FeedToken.id.desc())
    )
    return jsonify({"items": [_token_dict(r) for r in rows]})


@api_bp.delete("/feeds/<int:ident>")
@transactional
def revoke_feed_link(ident: int) -> tuple[str, int]:
    user = require_user()
    service.revoke_token(user, ident, Actor.for_user(user))
    return "", 204


RECORD_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">\
<meta name="robots" content="noindex">
<title>Record your protected time – sel-time</title>
<style>body{font-family:Arial,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5;color:#212b32}
button{font-size:1.1rem;margin:.3rem 0;padding:.6rem 1rem;border:0;border-radius:4px;\
background:#007f3b;color:#fff;cursor:pointer;display:block;width:100%}
button.lost{background:#425563}label{display:block;margin-top:1rem}\
input{font-size:1rem;padding:.3rem}
.done{background:#e8f1e8;border-left:6px solid #007f3b;padding:1rem}\
.error{border-left:6px solid #d5281b;padding:1rem}</style></head>
<body><h1>Was this protected time taken?</h1>
{% if error %}<div class="error" role="alert">{{ error }}</div>{% endif %}
{% if att %}<p><strong>{{ what }}</strong><br>{{ when }}</p>
{% if att.outcome %}<p class="done">Recorded: {{ att.outcome.value.replace('_', ' ') }}\
{% if att.outcome.value == 'partial' %} ({{ (att.fraction_taken * 100)|round|int }}%)\
{% endif %}. You can change it below.</p>{% endif %}
<form method="post">
<button name="outcome" value="taken">Yes, I took all of it</button>
<label for="fraction">Partly: how much did you get (%)?</label>
<input id="fraction" name="percent" type="number" min="1" max="99" step="1" inputmode="numeric">
<button name="outcome" value="partial">I took part of it</button>
<button class="lost" name="outcome" value="lost_clinical_pressure">\
No, lost to clinical or care pressure</button>
<button class="lost" name="outcome" value="lost_sickness">No, I was off sick</button>
<button class="lost" name="outcome" value="lost_other">No, for another reason</button>
</form>{% endif %}</body></html>"""


# A token page is never stored by a cache or browser history, nor its URL sent on as a referrer.
RECORD_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.route("/record/<token>", methods=["GET", "POST"])
def record_page(token: str) -> Any:
    """The one-click page from a calendar event: signed, expiring, revocable, for one
    attendance only."""
    body, status = _record_page(token)
    return Response(body, status=status, headers=RECORD_HEADERS, mimetype="text/html")


def _record_page(token: str) -> tuple[str, int]:
    try:
        with boundary():
            att = recording.attendance_from_link(token)
    except SelTimeError as exc:
        return render_template_string(RECORD_PAGE, att=None, error=exc.detail), exc.status
    from ..plans.planning import slot_label

    session = att.session
    what = (
        f"Team: {session.team.name}"
        if session.team
        else (session.assignment.role.title if session.assignment else "Protected time")
    )
    error, status = None, 200
    if request.method == "POST":
        outcome = request.form.get("outcome", "")
        percent = request.form.get("percent", "").strip()
        fraction = None
        if outcome == Outcome.PARTIAL.value:
            try:
                fraction = int(percent) / 100
            except ValueError:
                fraction = None
        try:
            # the one-click page has no note field: the note saved with the record is kept
            with boundary():  # a refused record rolls back; the page says why
                recording.record_delivery(
                    att, outcome, fraction, att.note, Actor(f"link:{att.person.email}")
                )
        except SelTimeError as exc:
            details = "; ".join(e.message for e in exc.errors)
            error = f"{exc.detail}: {details}" if details else exc.detail
            status = exc.status
            att = recording.attendance_from_link(token)
    return render_template_string(
        RECORD_PAGE, att=att, what=what, when=slot_label(session.slot), error=error
    ), status


EXTRA_MODELS.append(FeedLinkIn)
_LINK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "target_id", "created_at", "revoked_at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": [k.value for k in FeedKind]},
        "target_id": {"type": "integer"},
        "created_at": {"type": "string"},
        "revoked_at": {"type": ["string", "null"]},
    },
}
_NEW_LINK = {
    **_LINK,
    "required": [*_LINK["required"], "url", "webcal"],
    "properties": {
        **_LINK["properties"],
        "url": {"type": "string"},
        "webcal": {
            "type": "string",
            "description": "webcals:// (over TLS) from an https deployment, else webcal://",
        },
    },
}
EXTRA_PATHS["/api/v1/feeds"] = {
    "get": {
        "tags": ["feeds"],
        "summary": "Your feed links (without their secrets)",
        "responses": {
            "200": json_response(
                {
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array", "items": _LINK}},
                }
            ),
            "401": problem_response("Not signed in"),
        },
    },
    "post": {
        "tags": ["feeds"],
        "summary": "A new secret feed URL (shown once); resets any older link",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FeedLinkIn"}}
            },
        },
        "responses": {
            "201": json_response(_NEW_LINK, "Created"),
            "400": problem_response("Bad request"),
            "401": problem_response("Not signed in"),
            "403": problem_response("Not allowed"),
            "422": problem_response("Invalid fields"),
        },
    },
}
EXTRA_PATHS["/api/v1/feeds/{ident}"] = {
    "delete": {
        "tags": ["feeds"],
        "summary": "Revoke a feed link",
        "parameters": [
            {"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "204": {"description": "Revoked"},
            "401": problem_response("Not signed in"),
            "404": problem_response("Not found"),
        },
    },
}


class RedactFeedTokens(logging.Filter):
    """Feed and one-click tokens are secrets: never let them reach a log line."""

    PATTERN = re.compile(r"/(feeds|record)/[^\s\"'?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            # gunicorn's access log passes one mapping of atoms (%(r)s, %(U)s, %(f)s ...):
            # redact its values in place, keeping its type (it answers "-" for missing atoms).
            for key, value in record.args.items():
                if isinstance(value, str):
                    record.args[key] = self.PATTERN.sub(r"/\1/[redacted]", value)
        elif record.args:
            record.args = tuple(
                self.PATTERN.sub(r"/\1/[redacted]", a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if isinstance(record.msg, str):
            record.msg = self.PATTERN.sub(r"/\1/[redacted]", record.msg)
        return True

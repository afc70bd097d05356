"""``/api/v1/tokens``: list and revoke API tokens (your own; an administrator, everyone's).

Tokens are made by ``sel-time token create`` or on the account page, never through the API:
a bearer token that could mint another could keep itself alive past its expiry for ever."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, jsonify

from ..api import bp
from ..api.openapi import EXTRA_PATHS
from ..api.openapi import json_response as _json
from ..api.openapi import problem_response as _problem
from ..core.audit import Actor
from ..core.auth import require_user, revoke_token_of, token_dict, visible_tokens
from ..core.extensions import db
from ..core.transaction import transactional
from ..directory.api import page_args
from ..models import ApiToken


@bp.get("/tokens")
@transactional
def list_tokens() -> Response:
    """Your tokens, newest first (an administrator sees every user's), paginated."""
    user = require_user()
    page, per_page = page_args()
    query = visible_tokens(user)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return jsonify({"items": [token_dict(r) for r in rows], "page": page, "per_page": per_page,
                    "total": total})


@bp.delete("/tokens/<int:ident>")
@transactional
def revoke_token(ident: int) -> tuple[str, int]:
    """Revoke one of your tokens (an administrator: anyone's); 404 for any other."""
    user = require_user()
    revoke_token_of(user, ident, Actor.for_user(user))
    return "", 204


_STR_OR_NULL = {"type": ["string", "null"]}
_TOKEN = {"type": "object", "required": ["id", "name", "prefix", "user_id", "user", "created_at",
                                         "expires_at", "last_used_at", "revoked_at", "status"],
          "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                         "prefix": {"type": "string"}, "user_id": {"type": "integer"},
                         "user": {"type": "string"}, "created_at": {"type": "string"},
                         "expires_at": {"type": "string"}, "last_used_at": _STR_OR_NULL,
                         "revoked_at": _STR_OR_NULL,
                         "status": {"type": "string", "enum": ["active", "expired", "revoked"]}}}
_INT = {"type": "integer"}
_PAGE = [{"name": "page", "in": "query", "schema": {**_INT, "minimum": 1, "maximum": 100000}},
         {"name": "per_page", "in": "query", "schema": {**_INT, "minimum": 1, "maximum": 500}}]
_ERR = {"400": _problem("Bad request"), "401": _problem("Not signed in, or the token expired"),
        "404": _problem("Not found")}
EXTRA_PATHS["/api/v1/tokens"] = {"get": {
    "tags": ["tokens"], "summary": "Your API tokens, newest first (administrators: everyone's)",
    "parameters": _PAGE, "responses": {"200": _json({
        "type": "object", "required": ["items", "page", "per_page", "total"],
        "properties": {"items": {"type": "array", "items": _TOKEN}, "page": {"type": "integer"},
                       "per_page": {"type": "integer"}, "total": {"type": "integer"}}}), **_ERR}}}
EXTRA_PATHS["/api/v1/tokens/{ident}"] = {"delete": {
    "tags": ["tokens"], "summary": "Revoke one of your API tokens (administrators: anyone's)",
    "parameters": [{"name": "ident", "in": "path", "required": True, "schema": _INT}],
    "responses": {"204": {"description": "Revoked (or already revoked)"}, **_ERR}}}

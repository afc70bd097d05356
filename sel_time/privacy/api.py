"""The API's personal-data routes: ``GET /api/v1/me/data`` (your own data, JSON or XLSX),
``GET /api/v1/people/<id>/data`` and ``POST /api/v1/people/<id>/erasure`` (administrators)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..api import bp
from ..api.inputs import json_body
from ..api.openapi import EXTRA_PATHS, json_response, problem_response
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import FieldError, NotFound, ValidationError
from ..core.transaction import transactional
from ..models import User, UserRole
from .downloads import download
from .erasure import erase_person


def _format() -> str:
    wanted = request.args.get("format", "json")
    if wanted not in ("json", "xlsx"):
        raise ValidationError("Unknown format", [FieldError("format", "json or xlsx")])
    return wanted


@bp.get("/me/data")
@transactional
def my_data() -> Response:
    """Everything sel-time holds about the caller (a subject access request)."""
    user = require_user()
    return download(Actor.for_user(user), _format(), user_id=user.id)


@bp.get("/people/<int:ident>/data")
@transactional
def person_data(ident: int) -> Response:
    """Everything held about one person, for an administrator answering a request for them."""
    user = require_user([UserRole.ADMIN])
    return download(Actor.for_user(user), _format(), person_id=ident)


@bp.post("/people/<int:ident>/erasure")
@transactional
def erase(ident: int) -> tuple[Response, int]:
    """Erase a leaver: ``{"confirm": true}``. Administrators only; audited."""
    user: User = require_user([UserRole.ADMIN])
    body: Any = json_body()
    if not isinstance(body, dict) or body.get("confirm") is not True:
        raise ValidationError("Erasure must be confirmed",
                              [FieldError("confirm", "send true to erase this person")])
    if user.person_id == ident:
        raise ValidationError("You cannot erase yourself",
                              [FieldError("ident", "another administrator must do it")])
    try:
        report = erase_person(ident, Actor.for_user(user))
    except NotFound:
        raise NotFound(f"No person {ident}") from None
    return jsonify({"person_id": report.person_id, "pseudonym": report.pseudonym,
                    "users": report.users, "rows_removed": report.removed,
                    "rows_rewritten": report.rows_swept, "summary": report.summary()}), 200


_FORMAT = [{"name": "format", "in": "query", "schema": {"type": "string",
                                                        "enum": ["json", "xlsx"]}}]
_ID = [{"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}]
_FILE = {"description": "The data: sel-time/subject-access@1 JSON, or a workbook",
         "content": {"application/json": {"schema": {"type": "object"}},
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                         "schema": {"type": "string", "format": "binary"}}}}
_ERRORS = {"401": problem_response("Not signed in"), "403": problem_response("Not allowed"),
           "404": problem_response("Not found"), "422": problem_response("Bad value")}
EXTRA_PATHS["/api/v1/me/data"] = {"get": {
    "tags": ["personal data"], "summary": "Everything held about you (JSON or XLSX)",
    "parameters": _FORMAT, "responses": {"200": _FILE, **_ERRORS}}}
EXTRA_PATHS["/api/v1/people/{ident}/data"] = {"get": {
    "tags": ["personal data"], "summary": "Everything held about a person (administrators)",
    "parameters": _ID + _FORMAT, "responses": {"200": _FILE, **_ERRORS}}}
EXTRA_PATHS["/api/v1/people/{ident}/erasure"] = {"post": {
    "tags": ["personal data"], "summary": "Erase a leaver's personal data (administrators)",
    "parameters": _ID,
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["confirm"],
        "properties": {"confirm": {"type": "boolean", "const": True}}}}}},
    "responses": {"200": json_response({"type": "object"}), "400": problem_response("Not JSON"),
                  **_ERRORS}}}

"""Change requests under ``/api/v1``: the alternatives of a session, asking, the rota
managers' queue and decisions, a swap's answer, each organisation's approval rule, one's own
mail preferences, and protected time recovered beside time lost."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..api import bp
from ..api.inputs import json_body
from ..api.openapi import EXTRA_PATHS, json_response, problem_response
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..core.transaction import transactional
from ..models import Organisation, UserRole
from . import dashboard, preferences, service
from .models import RequestStatus

MANAGE = (UserRole.ADMIN, UserRole.ROTA_MANAGER)
ASKERS = (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.LEADER)


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise ValidationError(f"Say {name} as true or false", [FieldError(name, "true or false")])
    return value


def _object() -> dict[str, Any]:
    data = json_body()
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object", [FieldError("body", "an object")])
    return data


@bp.get("/attendances/<int:ident>/alternatives")
@transactional
def alternatives(ident: int) -> Response:
    user = require_user(ASKERS)
    att, found = service.options(user, ident)
    s = att.session
    refusal = service.team_move_refusal(user, att)
    return jsonify({"attendance_id": att.id, "session": {
        "id": s.id, "uid": s.uid, "slot": s.slot, "start": s.start_at.isoformat(),
        "sequence": s.sequence, "team_id": s.team_id,
        "quorum": s.team.quorum if s.team else None,
        "lead_person_id": s.team.lead_person_id if s.team else None,
        "attending": len(s.attendances)},
        # A team member who does not lead the team may only say they cannot attend.
        "may_move": refusal is None,
        "move_refused_because": refusal.errors[0].message if refusal else None,
        "alternatives": [o.as_dict() for o in found]})


@bp.post("/requests")
@transactional
def ask() -> tuple[Response, int]:
    user = require_user(ASKERS)
    req = service.ask(user, _object())
    return jsonify(service.describe(req)), 201


@bp.get("/requests")
@transactional
def list_requests() -> Response:
    """Rota managers: the queue (waiting, oldest first); leaders: their own requests."""
    user = require_user(ASKERS)
    if user.role in MANAGE:
        status = request.args.get("status", RequestStatus.PENDING.value)
        if status != RequestStatus.PENDING.value:
            raise ValidationError("Only the waiting queue is listed", [FieldError(
                "status", "pending")])
        items = service.waiting()
    else:
        items = service.mine(user)
    return jsonify({"items": [service.describe(r) for r in items], "total": len(items)})


@bp.get("/requests/<int:ident>")
@transactional
def get_request(ident: int) -> Response:
    user = require_user(ASKERS)
    return jsonify(service.describe(service.visible(user, ident)))


@bp.post("/requests/<int:ident>/decision")
@transactional
def decide(ident: int) -> Response:
    user = require_user(MANAGE)
    data = _object()
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("The reason is words", [FieldError("reason", "text")])
    return jsonify(service.describe(service.decide(user, ident, _flag(data, "approve"), reason)))


@bp.post("/requests/<int:ident>/answer")
@transactional
def answer(ident: int) -> Response:
    user = require_user((UserRole.LEADER,))
    return jsonify(service.describe(service.answer_swap(user, ident,
                                                        _flag(_object(), "accept"))))


@bp.post("/requests/<int:ident>/withdraw")
@transactional
def withdraw(ident: int) -> Response:
    user = require_user(ASKERS)
    return jsonify(service.describe(service.withdraw(user, ident)))


@bp.get("/approval-rules/<int:ident>")
@transactional
def get_rule(ident: int) -> Response:
    require_user(MANAGE)
    _organisation(ident)
    rule = service.rule_for(ident)
    return jsonify({"organisation_id": ident, "auto_approve": rule.auto_approve,
                    "max_rise": rule.max_rise_pence / 100})


@bp.put("/approval-rules/<int:ident>")
@transactional
def put_rule(ident: int) -> Response:
    user = require_user(MANAGE)
    _organisation(ident)
    data = _object()
    rise = data.get("max_rise", 0)
    if isinstance(rise, bool) or not isinstance(rise, (int, float)) or not 0 <= rise <= 10000:
        raise ValidationError("Say the most a session's cost may rise", [FieldError(
            "max_rise", "pounds, 0 to 10000")])
    rule = service.set_rule(ident, _flag(data, "auto_approve"), round(rise * 100),
                            Actor.for_user(user))
    return jsonify({"organisation_id": ident, "auto_approve": rule.auto_approve,
                    "max_rise": rule.max_rise_pence / 100})


def _organisation(ident: int) -> None:
    if db.session.get(Organisation, ident) is None:
        from ..core.errors import NotFound

        raise NotFound(f"No organisation {ident}")


@bp.get("/me/mail-preferences")
@transactional
def get_preferences() -> Response:
    user = require_user()
    return jsonify(preferences.get(user).as_dict())


@bp.put("/me/mail-preferences")
@transactional
def put_preferences() -> Response:
    user = require_user()
    return jsonify(preferences.update(user, _object(), Actor.for_user(user)).as_dict())


@bp.get("/recovered")
@transactional
def recovered() -> Response:
    require_user((UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE))
    by = request.args.get("by", "organisation")
    return jsonify({"by": by, "items": dashboard.recovered_and_lost(by)})


_ID = [{"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}]
_ERR = {"400": problem_response("Bad request"), "401": problem_response("Not signed in"),
        "403": problem_response("Role not allowed"), "404": problem_response("Not found"),
        "409": problem_response("Conflict"), "422": problem_response("Breaks a rule")}
_OBJ: dict[str, Any] = {"type": "object"}
_BODY = {"required": True, "content": {"application/json": {"schema": _OBJ}}}
_REQ = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "status": {"type": "string"}}}
EXTRA_PATHS.update({
    "/api/v1/attendances/{ident}/alternatives": {"get": {
        "tags": ["requests"], "parameters": _ID,
        "summary": "Where a session could move: allowed first, cheapest first, refusals in "
                   "words; a team session only for its lead or a rota manager (may_move)",
        "responses": {**_ERR, "200": json_response(_OBJ)}}},
    "/api/v1/requests": {
        "post": {"tags": ["requests"], "requestBody": _BODY,
                 "summary": "Ask for a move, swap, give back, team move or to miss a team "
                            "session (kind, attendance_id, to_slot, partner_attendance_id, "
                            "outcome, reason)",
                 "responses": {**_ERR, "201": json_response(_REQ, "Asked")}},
        "get": {"tags": ["requests"],
                "summary": "Rota managers: the waiting queue, oldest first; leaders: theirs",
                "parameters": [{"name": "status", "in": "query",
                                "schema": {"type": "string", "enum": ["pending"]}}],
                "responses": {**_ERR, "200": json_response(_OBJ)}}},
    "/api/v1/requests/{ident}": {"get": {
        "tags": ["requests"], "parameters": _ID, "summary": "One request",
        "responses": {**_ERR, "200": json_response(_REQ)}}},
    "/api/v1/requests/{ident}/decision": {"post": {
        "tags": ["requests"], "parameters": _ID, "requestBody": _BODY,
        "summary": "Approve, or decline with a reason (approve, reason)",
        "responses": {**_ERR, "200": json_response(_REQ)}}},
    "/api/v1/requests/{ident}/answer": {"post": {
        "tags": ["requests"], "parameters": _ID, "requestBody": _BODY,
        "summary": "The colleague asked to swap accepts or declines (accept)",
        "responses": {**_ERR, "200": json_response(_REQ)}}},
    "/api/v1/requests/{ident}/withdraw": {"post": {
        "tags": ["requests"], "parameters": _ID, "summary": "Withdraw one's own request",
        "responses": {**_ERR, "200": json_response(_REQ)}}},
    "/api/v1/approval-rules/{ident}": {
        "get": {"tags": ["requests"], "parameters": _ID,
                "summary": "An organisation's approval rule",
                "responses": {**_ERR, "200": json_response(_OBJ)}},
        "put": {"tags": ["requests"], "parameters": _ID, "requestBody": _BODY,
                "summary": "Set it (auto_approve, max_rise in pounds per session)",
                "responses": {**_ERR, "200": json_response(_OBJ)}}},
    "/api/v1/me/mail-preferences": {
        "get": {"tags": ["requests"], "summary": "How sessions and e-mails reach me",
                "responses": {**_ERR, "200": json_response(_OBJ)}},
        "put": {"tags": ["requests"], "requestBody": _BODY,
                "summary": "Set them (sessions_by feed|email|both, requests_waiting, "
                           "decisions, changes, daily_digest)",
                "responses": {**_ERR, "200": json_response(_OBJ)}}},
    "/api/v1/recovered": {"get": {
        "tags": ["requests"], "summary": "Protected time recovered (moved) beside time lost",
        "parameters": [{"name": "by", "in": "query", "schema": {
            "type": "string", "enum": ["organisation", "profession"]}}],
        "responses": {**_ERR, "200": json_response(_OBJ)}}},
})

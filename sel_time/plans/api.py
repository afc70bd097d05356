"""Plans under ``/api/v1``: request, read, edit by hand, re-solve and publish."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for

from ..api import bp
from ..api.inputs import json_body
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS
from ..api.openapi import PROBLEMS as _ERR
from ..api.openapi import json_response as _json
from ..api.openapi import object_schema as _obj
from ..api.openapi import request_body as _body
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import BadRequest, FieldError, NotFound
from ..core.extensions import db
from ..core.transaction import boundary, transactional
from ..core.validation import parse
from ..models import (
    Plan,
    PlanStatus,
    UserRole,
)
from . import editing, planning, publishing, serialise, solutions, tasks
from . import schemas as s

MANAGE = (UserRole.ADMIN, UserRole.ROTA_MANAGER)
READ_PLANS = (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE)


def get_plan(ident: str) -> Plan:
    """A plan by id, or ``published`` for the most recently published plan."""
    if ident == "published":
        plan = db.session.scalar(
            sa.select(Plan)
            .where(Plan.status == PlanStatus.PUBLISHED)
            .order_by(Plan.published_at.desc(), Plan.id.desc())
        )
    else:
        # ASCII digits only ("²".isdigit() is true) and within a 32-bit id, else no such plan
        plan = (
            db.session.get(Plan, int(ident))
            if ident.isascii() and ident.isdigit() and int(ident) <= 2**31 - 1
            else None
        )
    if plan is None:
        raise NotFound(f"No plan {ident}")
    return plan


def _queued(plan_id: int) -> Plan:
    """The plan as it stands once its solve is queued (in tests, once it ran)."""
    plan = db.session.get(Plan, plan_id)
    assert plan is not None
    return plan


@bp.post("/plans")
@transactional
def create_plan() -> tuple[Response, int, dict[str, str]]:
    user = require_user(MANAGE)
    data = parse(s.PlanRequest, json_body())
    with boundary():  # committed, then queued for a worker
        plan = planning.request_plan(
            data["start"], data["weeks"], data["scope"], data["time_limit"], Actor.for_user(user)
        )
        tasks.queue_solve(plan)
    plan = _queued(plan.id)
    return (
        jsonify(serialise.plan_summary(plan)),
        202,
        {"Location": url_for("api.show_plan", ident=plan.id)},
    )


@bp.get("/plans")
@transactional
def list_plans() -> Response:
    require_user(READ_PLANS)
    q = sa.select(Plan).order_by(Plan.id.desc())
    if "status" in request.args:
        try:
            q = q.where(Plan.status == PlanStatus(request.args["status"]))
        except ValueError:
            raise BadRequest(
                "Unknown status",
                [FieldError("status", "one of " + ", ".join(p.value for p in PlanStatus))],
            ) from None
    if "scope" in request.args:
        q = q.where(Plan.scope == request.args["scope"])
    return jsonify({"items": [serialise.plan_summary(p) for p in db.session.scalars(q.limit(200))]})


@bp.get("/plans/<ident>")
@transactional
def show_plan(ident: str) -> Response:
    require_user(READ_PLANS)
    return jsonify(serialise.plan_summary(get_plan(ident)))


@bp.get("/plans/<ident>/sessions")
@transactional
def plan_sessions(ident: str) -> Response:
    require_user(READ_PLANS)
    plan = get_plan(ident)
    return jsonify({"items": [serialise.session_dict(x) for x in plan.sessions]})


@bp.get("/plans/<ident>/shortfalls")
@transactional
def plan_shortfalls(ident: str) -> Response:
    require_user(READ_PLANS)
    plan = get_plan(ident)
    return jsonify({"items": [serialise.shortfall_dict(x) for x in plan.shortfalls]})


@bp.get("/plans/<ident>/problem")
@transactional
def plan_problem(ident: str) -> Response:
    require_user(READ_PLANS)
    plan = get_plan(ident)
    if not plan.problem:
        raise NotFound(f"Plan {plan.id} has no problem yet")
    return jsonify(plan.problem)


@bp.get("/plans/<ident>/solution")
@transactional
def plan_solution(ident: str) -> Response:
    require_user(READ_PLANS)
    return jsonify(solutions.plan_as_solution(get_plan(ident)))


@bp.post("/plans/<ident>/publish")
@transactional
def publish_plan(ident: str) -> Response:
    user = require_user(MANAGE)
    report = publishing.publish(get_plan(ident).id, Actor.for_user(user))
    return jsonify(report.as_dict())


@bp.post("/plans/<ident>/resolve")
@transactional
def resolve(ident: str) -> tuple[Response, int]:
    user = require_user(MANAGE)
    try:  # the body is optional; one nested deeper than the JSON parser follows is refused
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest(
            "The body is not valid JSON", [FieldError("body", "not valid JSON")]
        ) from None
    data = parse(s.ResolveRequest, body or {})
    with boundary():  # committed, then queued for a worker
        plan, pins = planning.resolve_plan(
            get_plan(ident).id, Actor.for_user(user), data.get("time_limit")
        )
        tasks.queue_solve(plan, pins)
    plan = _queued(plan.id)
    return jsonify(serialise.plan_summary(plan)), 202


@bp.post("/plans/<ident>/cancel")
@transactional
def cancel_plan(ident: str) -> tuple[Response, int]:
    """Cancel a queued or running solve: 202 with the plan (``cancelled`` at once if it was
    queued; a running one stops within a second or two: follow its status)."""
    user = require_user(MANAGE)
    plan = tasks.cancel(get_plan(ident).id, Actor.for_user(user))
    return jsonify(serialise.plan_summary(plan)), 202


@bp.post("/plans/<ident>/sessions")
@transactional
def add_plan_session(ident: str) -> tuple[Response, int]:
    user = require_user(MANAGE)
    data = parse(s.SessionAdd, json_body())
    session = editing.add_session(
        get_plan(ident).id, data["assignment_id"], data["slot"], Actor.for_user(user)
    )
    return jsonify(serialise.session_dict(session)), 201


@bp.patch("/plans/<ident>/sessions/<int:sid>")
@transactional
def edit_plan_session(ident: str, sid: int) -> Response:
    user = require_user(MANAGE)
    data = parse(s.SessionEdit, json_body(), partial=True)
    plan = get_plan(ident)
    actor = Actor.for_user(user)
    session = None
    if data.get("slot") is not None:
        session = editing.move_session(plan.id, sid, data["slot"], actor)
    if data.get("pinned") is not None:
        session = editing.set_pinned(plan.id, sid, data["pinned"], actor)
    if session is None:
        session = editing._session(plan, sid)
    return jsonify(serialise.session_dict(session))


@bp.delete("/plans/<ident>/sessions/<int:sid>")
@transactional
def delete_plan_session(ident: str, sid: int) -> tuple[str, int]:
    user = require_user(MANAGE)
    editing.remove_session(get_plan(ident).id, sid, Actor.for_user(user))
    return "", 204


EXTRA_MODELS.extend([s.PlanRequest, s.ResolveRequest, s.SessionAdd, s.SessionEdit])


_OK = {"200": _json({"type": "object"}), **_ERR}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}


def _items(item: dict[str, Any]) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": item}})


_PLAN = _obj(
    {
        "id": {"type": "integer"},
        "scope": {"type": "string"},
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "weeks": {"type": "integer"},
        "status": {"type": "string", "enum": [p.value for p in PlanStatus]},
        "progress": {"type": "number"},
        "sessions": {"type": "integer"},
        "team_sessions": {"type": "integer"},
        "shortfalls": {"type": "integer"},
        "backfill_cost": {"type": "number"},
        "conflicts": {"type": "array"},
        "warnings": {"type": "array"},
        "error": _STR_OR_NULL,
        "created_at": {"type": "string"},
        "published_at": _STR_OR_NULL,
    }
)
_SESSION = _obj(
    {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["individual", "team"]},
        "person_id": _INT_OR_NULL,
        "team_id": _INT_OR_NULL,
        "assignment_id": _INT_OR_NULL,
        "slot": {"type": "string"},
        "start": {"type": "string"},
        "end": {"type": "string"},
        "cost": {"type": "number"},
        "pinned": {"type": "boolean"},
        "attendees": {"type": "array", "items": {"type": "integer"}},
        "absent": {"type": "array", "items": {"type": "integer"}},
    }
)
_PUBLISH = _obj(
    {
        k: {"type": "integer"}
        for k in ("plan", "added", "moved", "changed", "unchanged", "cancelled")
    }
    | {"already_published": {"type": "boolean"}}
)
_SHORTFALL = _obj(
    {
        "from": {"type": "string"},
        "to": {"type": "string"},
        "required": {"type": "integer"},
        "scheduled": {"type": "integer"},
        "reason": _STR_OR_NULL,
    }
)
_ID = [
    {
        "name": "ident",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "plan id or 'published'",
    }
]
_SID = _ID + [{"name": "sid", "in": "path", "required": True, "schema": {"type": "integer"}}]
EXTRA_PATHS.update(
    {
        "/api/v1/plans": {
            "get": {
                "tags": ["plans"],
                "summary": "List plans",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [p.value for p in PlanStatus]},
                    },
                    {"name": "scope", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {**_ERR, "200": _json(_items(_PLAN))},
            },
            "post": {
                "tags": ["plans"],
                "summary": "Request a plan (solved in the background)",
                "requestBody": _body(s.PlanRequest),
                "responses": {**_ERR, "202": _json(_PLAN, "Queued")},
            },
        },
        "/api/v1/plans/{ident}": {
            "get": {
                "tags": ["plans"],
                "summary": "A plan with its progress",
                "parameters": _ID,
                "responses": {**_ERR, "200": _json(_PLAN)},
            }
        },
        "/api/v1/plans/{ident}/sessions": {
            "get": {
                "tags": ["plans"],
                "summary": "Sessions of a plan",
                "parameters": _ID,
                "responses": {**_ERR, "200": _json(_items(_SESSION))},
            },
            "post": {
                "tags": ["plans"],
                "summary": "Add a session by hand",
                "parameters": _ID,
                "requestBody": _body(s.SessionAdd),
                "responses": {**_ERR, "201": _json(_SESSION, "Added")},
            },
        },
        "/api/v1/plans/{ident}/sessions/{sid}": {
            "patch": {
                "tags": ["plans"],
                "summary": "Pin, unpin or move a session",
                "parameters": _SID,
                "requestBody": _body(s.SessionEdit),
                "responses": {**_ERR, "200": _json(_SESSION)},
            },
            "delete": {
                "tags": ["plans"],
                "summary": "Remove an unpinned session",
                "parameters": _SID,
                "responses": {**_ERR, "204": {"description": "Removed"}},
            },
        },
        "/api/v1/plans/{ident}/shortfalls": {
            "get": {
                "tags": ["plans"],
                "summary": "Shortfalls with reasons",
                "parameters": _ID,
                "responses": {**_ERR, "200": _json(_items(_SHORTFALL))},
            }
        },
        "/api/v1/plans/{ident}/problem": {
            "get": {
                "tags": ["plans"],
                "summary": "The exact problem solved (sel-time/problem@1)",
                "parameters": _ID,
                "responses": _OK,
            }
        },
        "/api/v1/plans/{ident}/solution": {
            "get": {
                "tags": ["plans"],
                "summary": "The plan as it stands (sel-time/solution@1)",
                "parameters": _ID,
                "responses": _OK,
            }
        },
        "/api/v1/plans/{ident}/publish": {
            "post": {
                "tags": ["plans"],
                "summary": "Publish (idempotent)",
                "parameters": _ID,
                "responses": {**_ERR, "200": _json(_PUBLISH)},
            }
        },
        "/api/v1/plans/{ident}/cancel": {
            "post": {
                "tags": ["plans"],
                "summary": "Cancel a queued or running solve (a re-solve keeps its draft)",
                "parameters": _ID,
                "responses": {**_ERR, "202": _json(_PLAN, "Cancelled, or cancelling")},
            }
        },
        "/api/v1/plans/{ident}/resolve": {
            "post": {
                "tags": ["plans"],
                "summary": "Re-solve keeping pins",
                "parameters": _ID,
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ResolveRequest"}
                        }
                    },
                },
                "responses": {**_ERR, "202": _json(_PLAN, "Queued")},
            }
        },
    }
)

"""Plans, the published roster and delivery records under ``/api/v1``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for
from sqlalchemy.orm import selectinload

from ..api import bp
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS
from ..api.openapi import json_response as _json
from ..api.openapi import problem_response as _problem
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.clock import today_london
from ..core.errors import BadRequest, FieldError, NotFound
from ..core.extensions import db
from ..core.transaction import boundary, transactional
from ..delivery import recording
from ..directory import schemas as s
from ..directory.api import json_body, page_args
from ..directory.records import parse
from ..models import (
    Attendance,
    Plan,
    PlanStatus,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
    UserRole,
)
from . import planning, publishing, tasks

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
        jsonify(planning.plan_summary(plan)),
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
    return jsonify({"items": [planning.plan_summary(p) for p in db.session.scalars(q.limit(200))]})


@bp.get("/plans/<ident>")
@transactional
def show_plan(ident: str) -> Response:
    require_user(READ_PLANS)
    return jsonify(planning.plan_summary(get_plan(ident)))


@bp.get("/plans/<ident>/sessions")
@transactional
def plan_sessions(ident: str) -> Response:
    require_user(READ_PLANS)
    plan = get_plan(ident)
    return jsonify({"items": [planning.session_dict(x) for x in plan.sessions]})


@bp.get("/plans/<ident>/shortfalls")
@transactional
def plan_shortfalls(ident: str) -> Response:
    require_user(READ_PLANS)
    plan = get_plan(ident)
    return jsonify({"items": [planning.shortfall_dict(x) for x in plan.shortfalls]})


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
    return jsonify(planning.plan_as_solution(get_plan(ident)))


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
    return jsonify(planning.plan_summary(plan)), 202


@bp.post("/plans/<ident>/cancel")
@transactional
def cancel_plan(ident: str) -> tuple[Response, int]:
    """Cancel a queued or running solve: 202 with the plan (``cancelled`` at once if it was
    queued; a running one stops within a second or two: follow its status)."""
    user = require_user(MANAGE)
    plan = tasks.cancel(get_plan(ident).id, Actor.for_user(user))
    return jsonify(planning.plan_summary(plan)), 202


@bp.post("/plans/<ident>/sessions")
@transactional
def add_plan_session(ident: str) -> tuple[Response, int]:
    user = require_user(MANAGE)
    data = parse(s.SessionAdd, json_body())
    session = planning.add_session(
        get_plan(ident).id, data["assignment_id"], data["slot"], Actor.for_user(user)
    )
    return jsonify(planning.session_dict(session)), 201


@bp.patch("/plans/<ident>/sessions/<int:sid>")
@transactional
def edit_plan_session(ident: str, sid: int) -> Response:
    user = require_user(MANAGE)
    data = parse(s.SessionEdit, json_body(), partial=True)
    plan = get_plan(ident)
    actor = Actor.for_user(user)
    session = None
    if data.get("slot") is not None:
        session = planning.move_session(plan.id, sid, data["slot"], actor)
    if data.get("pinned") is not None:
        session = planning.set_pinned(plan.id, sid, data["pinned"], actor)
    if session is None:
        session = planning._session(plan, sid)
    return jsonify(planning.session_dict(session))


@bp.delete("/plans/<ident>/sessions/<int:sid>")
@transactional
def delete_plan_session(ident: str, sid: int) -> tuple[str, int]:
    user = require_user(MANAGE)
    planning.remove_session(get_plan(ident).id, sid, Actor.for_user(user))
    return "", 204


# -- the published roster and delivery --------------------------------------------------------

MAX_SPAN_DAYS = 366  # the longest period one roster or delivery request may cover
DEFAULT_BACK_DAYS = 183  # by default: half a year back, half a year ahead


def period_args() -> tuple[date, date]:
    """``from`` and ``to`` (London dates, inclusive) of a roster or delivery request: each from
    2000 to 2100; by default the 366 days from 183 days ago; one given, the other 365 days
    away; never more than 366 days apart. One 400 names every fault."""
    errors: list[FieldError] = []
    given: dict[str, date] = {}
    for name in ("from", "to"):
        raw = request.args.get(name)
        if raw:
            try:
                given[name] = s.date_in_range(raw)
            except ValueError as exc:
                errors.append(FieldError(name, str(exc)))
    if errors:
        raise BadRequest("Some dates are not valid", errors)
    span = timedelta(days=MAX_SPAN_DAYS - 1)
    first, last = given.get("from"), given.get("to")
    if first is None and last is None:
        first = today_london() - timedelta(days=DEFAULT_BACK_DAYS)
    if first is None:
        assert last is not None
        first = last - span
    if last is None:
        last = first + span
    if last < first:
        raise BadRequest("to is before from", [FieldError("to", "on or after from")])
    if last - first > span:
        raise BadRequest(
            f"A period covers at most {MAX_SPAN_DAYS} days",
            [FieldError("to", f"at most {MAX_SPAN_DAYS} days from from, counting both")],
        )
    return first, last


def roster_item(session: ProtectedSession, att: Attendance | None = None) -> dict[str, Any]:
    return {
        "id": session.id,
        "uid": session.uid,
        "slot": session.slot,
        "label": planning.slot_label(session.slot),
        "start": session.start_at.isoformat(),
        "end": session.end_at.isoformat(),
        "status": session.status.value,
        "sequence": session.sequence,
        "kind": "team" if session.team_id else "individual",
        "role": session.assignment.role.title if session.assignment else None,
        "team": session.team.name if session.team else None,
        "person_id": session.person_id,
        "team_id": session.team_id,
        "attendances": [
            {
                "id": a.id,
                "person_id": a.person_id,
                "cost": a.cost_pence / 100,
                "outcome": a.outcome.value if a.outcome else None,
                "fraction_taken": a.fraction_taken,
            }
            for a in ([att] if att is not None else session.attendances)
        ],
    }


@bp.get("/roster")
@transactional
def roster() -> Response:
    """Published sessions; leaders see only their own. One page of one period, chosen in SQL:
    attendances outside it are never read."""
    user = require_user()
    errors: list[FieldError] = []
    for check in (period_args, page_args):
        try:
            check()
        except BadRequest as exc:
            errors += exc.errors
    person = request.args.get("person_id")
    if (
        person
        and user.role != UserRole.LEADER
        and (not (person.isascii() and person.isdigit()) or int(person) > 2**31 - 1)
    ):
        errors.append(FieldError("person_id", "not a number"))
    if errors:
        raise BadRequest("Some query parameters are not valid", errors)
    (first, last), (page, per_page) = period_args(), page_args()
    q = (
        sa.select(Attendance, ProtectedSession)
        .join(ProtectedSession)
        .where(
            ProtectedSession.status == RosterStatus.CONFIRMED,
            ProtectedSession.start_at >= recording.london_midnight(first),
            ProtectedSession.start_at < recording.london_midnight(last + timedelta(days=1)),
        )
    )
    if user.role == UserRole.LEADER:
        q = q.where(Attendance.person_id == (user.person_id or -1))
    elif person:
        q = q.where(Attendance.person_id == int(person))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery())) or 0
    page_q = (
        q.order_by(ProtectedSession.start_at, ProtectedSession.id, Attendance.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(
            selectinload(ProtectedSession.assignment).selectinload(RoleAssignment.role),
            selectinload(ProtectedSession.team),
        )
    )
    items = [roster_item(session, att) for att, session in db.session.execute(page_q)]
    return jsonify(
        {
            "items": items,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


@bp.post("/attendances/<int:ident>/delivery")
@transactional
def record_delivery(ident: str) -> Response:
    user = require_user((UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.LEADER))
    data = parse(s.DeliveryIn, json_body())
    att = recording.attendance_for(user, int(ident))
    recording.record_delivery(
        att, data["outcome"], data.get("fraction_taken"), data.get("note"), Actor.for_user(user)
    )
    return jsonify(roster_item(att.session, att))


@bp.get("/delivery")
@transactional
def delivery_summary() -> Response:
    """Planned versus delivered over one period (see ``period_args``), one page of groups."""
    user = require_user()
    by = request.args.get("by", "month")
    errors: list[FieldError] = []
    for check in (period_args, page_args):
        try:
            check()
        except BadRequest as exc:
            errors += exc.errors
    if errors:
        raise BadRequest("Some query parameters are not valid", errors)
    (first, last), (page, per_page) = period_args(), page_args()
    person_id = user.person_id if user.role == UserRole.LEADER else None
    if user.role == UserRole.LEADER and person_id is None:
        rows: list[dict[str, Any]] = []
    else:
        rows = recording.planned_vs_delivered(by, first, last, person_id)
    return jsonify(
        {
            "by": by,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "items": rows[(page - 1) * per_page : page * per_page],
            "page": page,
            "per_page": per_page,
            "total": len(rows),
        }
    )


EXTRA_MODELS.extend([s.PlanRequest, s.ResolveRequest, s.SessionAdd, s.SessionEdit, s.DeliveryIn])


def _body(model: type) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        },
    }


# Errors are problem documents; each 200 names the fields it always has, so that the fuzzer's
# response_schema_conformance check holds every answer to what this document promises.
_ERR = {
    "400": _problem("Bad request"),
    "401": _problem("Not signed in"),
    "403": _problem("Role not allowed"),
    "404": _problem("Not found"),
    "409": _problem("Conflict"),
    "422": _problem("Invalid fields"),
}
_OK = {"200": _json({"type": "object"}), **_ERR}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(props), "properties": props}


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
_ROSTER_ITEM = _obj(
    {
        "id": {"type": "integer"},
        "uid": {"type": "string"},
        "slot": {"type": "string"},
        "start": {"type": "string"},
        "end": {"type": "string"},
        "status": {"type": "string"},
        "sequence": {"type": "integer"},
        "kind": {"type": "string", "enum": ["individual", "team"]},
        "person_id": _INT_OR_NULL,
        "team_id": _INT_OR_NULL,
        "attendances": {
            "type": "array",
            "items": _obj(
                {
                    "id": {"type": "integer"},
                    "person_id": {"type": "integer"},
                    "cost": {"type": "number"},
                    "outcome": _STR_OR_NULL,
                    "fraction_taken": {"type": ["number", "null"]},
                }
            ),
        },
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
_DATE = {"type": "string", "format": "date"}
_INT = {"type": "integer"}
_PERIOD = [
    {
        "name": n,
        "in": "query",
        "schema": _DATE,
        "description": f"{d}, 2000-01-01 to 2100-12-31; at most {MAX_SPAN_DAYS} days from "
        f"'from' to 'to' (default: the {MAX_SPAN_DAYS} days from "
        f"{DEFAULT_BACK_DAYS} days ago)",
    }
    for n, d in (("from", "first day (London), inclusive"), ("to", "last day (London), inclusive"))
]
_PAGE = [
    {"name": "page", "in": "query", "schema": {**_INT, "minimum": 1, "maximum": 100000}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {**_INT, "minimum": 1, "maximum": 500},
        "description": "default: the API page size (SEL_TIME_PAGE_SIZE, 50)",
    },
]


def _paged(props: dict[str, Any]) -> dict[str, Any]:
    return _obj(
        {**props, "from": _DATE, "to": _DATE, "page": _INT, "per_page": _INT, "total": _INT}
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
        "/api/v1/plans/{ident}/cancel": {
            "post": {
                "tags": ["plans"],
                "summary": "Cancel a queued or running solve (a re-solve keeps its draft)",
                "parameters": _ID,
                "responses": {**_ERR, "202": _json(_PLAN, "Cancelled, or cancelling")},
            }
        },
        "/api/v1/roster": {
            "get": {
                "tags": ["roster"],
                "summary": "Published sessions (leaders: their own), one period, paginated",
                "parameters": [
                    *_PERIOD,
                    *_PAGE,
                    {"name": "person_id", "in": "query", "schema": _INT},
                ],
                "responses": {
                    **_ERR,
                    "200": _json(_paged({"items": {"type": "array", "items": _ROSTER_ITEM}})),
                },
            }
        },
        "/api/v1/attendances/{ident}/delivery": {
            "post": {
                "tags": ["roster"],
                "summary": "Record whether the time was taken",
                "parameters": [
                    {"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": _body(s.DeliveryIn),
                "responses": {**_ERR, "200": _json(_ROSTER_ITEM)},
            }
        },
        "/api/v1/delivery": {
            "get": {
                "tags": ["roster"],
                "summary": "Planned versus delivered protected time over one period, paginated",
                "parameters": [
                    {
                        "name": "by",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(recording.GROUPINGS)},
                    },
                    *_PERIOD,
                    *_PAGE,
                ],
                "responses": {
                    **_ERR,
                    "200": _json(
                        _paged(
                            {
                                "by": {"type": "string"},
                                "items": {"type": "array", "items": {"type": "object"}},
                            }
                        )
                    ),
                },
            }
        },
    }
)

"""The published roster and delivery records under ``/api/v1``: who is rostered when, and
was the time taken."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request
from sqlalchemy.orm import selectinload

from ..api import bp
from ..api.inputs import json_body, page_args
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS
from ..api.openapi import PROBLEMS as _ERR
from ..api.openapi import json_response as _json
from ..api.openapi import object_schema as _obj
from ..api.openapi import request_body as _body
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.clock import today_london
from ..core.errors import BadRequest, FieldError
from ..core.extensions import db
from ..core.slots import slot_label
from ..core.transaction import transactional
from ..core.validation import date_in_range, parse
from ..models import Attendance, ProtectedSession, RoleAssignment, RosterStatus, UserRole
from . import recording
from .schemas import DeliveryIn

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
                given[name] = date_in_range(raw)
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
        "label": slot_label(session.slot),
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
    data = parse(DeliveryIn, json_body())
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


EXTRA_MODELS.append(DeliveryIn)


_STR_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}


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


EXTRA_PATHS.update(
    {
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
                "requestBody": _body(DeliveryIn),
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

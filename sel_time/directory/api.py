"""CRUD endpoints for every directory record, generated from :data:`services.records.ENTITIES`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for

from ..api import bp
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import BadRequest, FieldError, Forbidden, NotFound
from ..core.extensions import db
from ..core.transaction import transactional
from ..models import User, UserRole
from . import records

ALL = frozenset(UserRole)
MANAGE = frozenset({UserRole.ADMIN, UserRole.ROTA_MANAGER})
STAFF = frozenset({UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE})

# Who may read and who may write each kind of record. Leaders read and write only their own
# records where an entity has an owner column (their person, leave, preferences, assignments).
ACCESS: dict[str, tuple[frozenset[UserRole], frozenset[UserRole]]] = {
    "organisations": (ALL, MANAGE),
    "departments": (ALL, MANAGE),
    "roles": (ALL, MANAGE),
    "teams": (ALL, MANAGE),
    "people": (ALL, MANAGE),
    "absences": (ALL, MANAGE | {UserRole.LEADER}),
    "preferences": (ALL, MANAGE | {UserRole.LEADER}),
    "assignments": (ALL, MANAGE),
    "rates": (STAFF, frozenset({UserRole.ADMIN, UserRole.FINANCE})),
    "users": (frozenset({UserRole.ADMIN}), frozenset({UserRole.ADMIN})),
    "audit": (frozenset({UserRole.ADMIN}), frozenset()),
}


def _owned_by_leader(entity: records.Entity) -> bool:
    return entity.owner is not None


def _scope(entity: records.Entity, user: User, query: sa.Select[Any]) -> sa.Select[Any]:
    """Leaders see only records of their own person, where the entity has an owner."""
    if user.role == UserRole.LEADER and _owned_by_leader(entity):
        return query.where(getattr(entity.model, entity.owner) == (user.person_id or -1))  # type: ignore[arg-type]
    return query


def _entity(name: str) -> records.Entity:
    entity = records.ENTITIES.get(name)
    if entity is None:
        raise NotFound(f"No collection called {name}")
    return entity


MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; larger ones cannot name a record


def _load(entity: records.Entity, user: User, ident: int) -> Any:
    if ident > MAX_ID:
        raise NotFound(f"No {entity.label} with id {ident}")
    obj = db.session.scalar(
        _scope(entity, user, sa.select(entity.model).where(entity.model.id == ident))
    )
    if obj is None:
        raise NotFound(f"No {entity.label} with id {ident}")
    return obj


def _require_owner_payload(
    entity: records.Entity, user: User, payload: Any, obj: Any = None
) -> None:
    """A leader writing an owned record must name their own person."""
    if user.role != UserRole.LEADER:
        return
    if not _owned_by_leader(entity):
        raise Forbidden()
    owner = entity.owner or ""
    if obj is not None and getattr(obj, owner) != user.person_id:
        raise NotFound(f"No {entity.label} with id {obj.id}")
    # compared as text too: "12" names person 12 once validated, as the JSON number 12 does
    if (
        isinstance(payload, dict)
        and owner in payload
        and payload[owner] != user.person_id
        and str(payload[owner]).strip() != str(user.person_id)
    ):
        raise Forbidden("Leaders can only change their own records")


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"{name} must be a whole number", [FieldError(name, "not a whole number")]
        ) from None
    if not lo <= value <= hi:
        raise BadRequest(
            f"{name} must be between {lo} and {hi}", [FieldError(name, f"between {lo} and {hi}")]
        )
    return value


MAX_PER_PAGE = 500


def page_args() -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (default API_PAGE_SIZE, at most 500) of a list, or
    one 400 naming every bad one."""
    from flask import current_app

    default = min(MAX_PER_PAGE, max(1, int(current_app.config.get("API_PAGE_SIZE", 50))))
    errors: list[FieldError] = []
    values = []
    for name, fallback, hi in (("page", 1, 100000), ("per_page", default, MAX_PER_PAGE)):
        try:
            values.append(_int_arg(name, fallback, 1, hi))
        except BadRequest as exc:
            errors += exc.errors
    if errors:
        raise BadRequest("Some query parameters are not valid", errors)
    return values[0], values[1]


def _filter_value(entity: records.Entity, name: str, raw: str) -> Any:
    column = getattr(entity.model, name)
    python_type = column.type.python_type if hasattr(column.type, "python_type") else str
    try:
        if python_type is bool:
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError
            return raw.lower() in {"true", "1"}
        if python_type is int:
            value = int(raw)
            if not -MAX_ID <= value <= MAX_ID:
                raise ValueError
            return value
        if hasattr(python_type, "__members__"):
            return python_type(raw)
    except ValueError:
        raise BadRequest(
            f"{name} has an unexpected value", [FieldError(name, f'"{raw}" is not allowed')]
        ) from None
    return raw


@bp.get("/<collection>")
@transactional
def list_records(collection: str) -> Response:
    entity = _entity(collection)
    user = require_user(ACCESS[collection][0])
    # Check every query parameter before answering, so one 400 names all the bad ones.
    errors: list[FieldError] = []

    def collect(check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except BadRequest as exc:
            errors.extend(exc.errors)
            return None

    errors += [
        FieldError(n, "contains a NUL character")
        for n, v in request.args.items(multi=True)
        if "\x00" in n or "\x00" in v
    ]
    page = collect(_int_arg, "page", 1, 1, 100000)
    per_page = collect(_int_arg, "per_page", 50, 1, 500)
    query = _scope(entity, user, sa.select(entity.model))
    for name in entity.filters:
        if name in request.args and "\x00" not in request.args[name]:
            value = collect(_filter_value, entity, name, request.args[name])
            query = query.where(getattr(entity.model, name) == value)
    unknown = (
        set(request.args)
        - set(entity.filters)
        - {"page", "per_page"}
        - ({"q"} if entity.search else set())
    )
    errors += [FieldError(n, "not a filter of this collection") for n in sorted(unknown)]
    if errors:
        raise BadRequest("Some query parameters are not valid", errors)
    q = request.args.get("q", "").strip()
    if q and entity.search:
        pattern = f"%{q.lower()}%"
        query = query.where(
            sa.or_(*[sa.func.lower(getattr(entity.model, c)).like(pattern) for c in entity.search])
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    query = query.order_by(*[getattr(entity.model, c) for c in entity.order_by], entity.model.id)
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return jsonify(
        {
            "items": [entity.to_dict(o) for o in items],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    )


@bp.post("/<collection>")
@transactional
def create_record(collection: str) -> tuple[Response, int, dict[str, str]]:
    entity = _entity(collection)
    user = require_user(ACCESS[collection][1])
    payload = json_body()
    _require_owner_payload(entity, user, payload)
    obj = records.create(entity, payload, Actor.for_user(user))
    location = url_for("api.get_record", collection=collection, ident=obj.id)
    return jsonify(entity.to_dict(obj)), 201, {"Location": location}


@bp.get("/<collection>/<int:ident>")
@transactional
def get_record(collection: str, ident: int) -> Response:
    entity = _entity(collection)
    user = require_user(ACCESS[collection][0])
    return jsonify(entity.to_dict(_load(entity, user, ident)))


@bp.patch("/<collection>/<int:ident>")
@transactional
def update_record(collection: str, ident: int) -> Response:
    entity = _entity(collection)
    user = require_user(ACCESS[collection][1])
    obj = _load(entity, user, ident)
    payload = json_body()
    _require_owner_payload(entity, user, payload, obj)
    records.update(entity, obj, payload, Actor.for_user(user))
    return jsonify(entity.to_dict(obj))


@bp.delete("/<collection>/<int:ident>")
@transactional
def delete_record(collection: str, ident: int) -> tuple[str, int]:
    entity = _entity(collection)
    user = require_user(ACCESS[collection][1])
    obj = _load(entity, user, ident)
    _require_owner_payload(entity, user, None, obj)
    records.delete(entity, obj, Actor.for_user(user))
    return "", 204


def json_body() -> Any:
    if not request.is_json:
        raise BadRequest(
            "Send a JSON body with Content-Type: application/json", [FieldError("body", "not JSON")]
        )
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser will follow
        payload = None
    if payload is None:
        raise BadRequest("The body is not valid JSON", [FieldError("body", "not valid JSON")])
    return payload

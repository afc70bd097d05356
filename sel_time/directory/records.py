"""Create, change and delete the stored records of the directory (organisations, people,
leave, roles, teams, rates, users), with their validation and audit trail.

The API and the spreadsheet import both come through here, so a row in a spreadsheet is
checked by exactly the rules that check a JSON request. Functions flush, never commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from pydantic import BaseModel

from ..core.audit import Actor, record, snapshot
from ..core.errors import Conflict, FieldError, race_conflict
from ..core.extensions import db
from ..core.validation import parse
from ..models import (
    Absence,
    AuditEvent,
    AvoidPreference,
    Department,
    FeedCache,
    LeadershipRole,
    Organisation,
    Person,
    RateCardEntry,
    RoleAssignment,
    Team,
    User,
)
from . import schemas as s
from .admin import _apply_rate, _apply_user, _audit_dict, _rate_dict, _read_only, _user_dict
from .entity import Entity as Entity
from .organisations import (
    _apply_department,
    _apply_organisation,
    _department_dict,
    _organisation_dict,
)
from .people import (
    _absence_dict,
    _apply_absence,
    _apply_person,
    _apply_preference,
    _person_dict,
    _preference_dict,
)
from .roles import (
    _apply_assignment,
    _apply_role,
    _apply_team,
    _assignment_dict,
    _role_dict,
    _team_dict,
)

# -- organisations and departments -------------------------------------------------------------


# -- people ------------------------------------------------------------------------------------


# -- roles, assignments, teams -----------------------------------------------------------------


# -- finance and users -------------------------------------------------------------------------


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            "organisations",
            "organisation",
            Organisation,
            s.OrganisationIn,
            s.OrganisationPatch,
            s.OrganisationOut,
            _organisation_dict,
            _apply_organisation,
            unique=(("code",),),
            filters=("kind", "borough"),
            search=("name", "code"),
            order_by=("name",),
        ),
        Entity(
            "departments",
            "department",
            Department,
            s.DepartmentIn,
            s.DepartmentPatch,
            s.DepartmentOut,
            _department_dict,
            _apply_department,
            unique=(("code",),),
            filters=("organisation_id",),
            search=("name", "code"),
            order_by=("name",),
        ),
        Entity(
            "people",
            "person",
            Person,
            s.PersonIn,
            s.PersonPatch,
            s.PersonOut,
            _person_dict,
            _apply_person,
            unique=(("email",), ("staff_number",)),
            filters=("organisation_id", "department_id", "profession", "staff_group", "active"),
            search=("name", "email"),
            order_by=("name",),
            owner="id",
        ),
        Entity(
            "absences",
            "absence",
            Absence,
            s.AbsenceIn,
            s.AbsencePatch,
            s.AbsenceOut,
            _absence_dict,
            _apply_absence,
            filters=("person_id", "kind"),
            order_by=("start_date", "id"),
            owner="person_id",
        ),
        Entity(
            "preferences",
            "avoid preference",
            AvoidPreference,
            s.PreferenceIn,
            s.PreferencePatch,
            s.PreferenceOut,
            _preference_dict,
            _apply_preference,
            unique=(("person_id", "weekday", "half"),),
            filters=("person_id",),
            owner="person_id",
        ),
        Entity(
            "roles",
            "role",
            LeadershipRole,
            s.RoleIn,
            s.RolePatch,
            s.RoleOut,
            _role_dict,
            _apply_role,
            unique=(("code",),),
            filters=("level", "host_organisation_id", "budget_code"),
            search=("title", "code"),
            order_by=("title",),
        ),
        Entity(
            "assignments",
            "assignment",
            RoleAssignment,
            s.AssignmentIn,
            s.AssignmentPatch,
            s.AssignmentOut,
            _assignment_dict,
            _apply_assignment,
            filters=("person_id", "role_id"),
            owner="person_id",
        ),
        Entity(
            "teams",
            "team",
            Team,
            s.TeamIn,
            s.TeamPatch,
            s.TeamOut,
            _team_dict,
            _apply_team,
            unique=(("code",),),
            filters=("kind", "sessions_per"),
            search=("name", "code"),
            order_by=("name",),
        ),
        Entity(
            "rates",
            "rate",
            RateCardEntry,
            s.RateIn,
            s.RatePatch,
            s.RateOut,
            _rate_dict,
            _apply_rate,
            unique=(("staff_group", "effective_from"),),
            filters=("staff_group",),
            order_by=("staff_group", "effective_from"),
        ),
        Entity(
            "users",
            "user",
            User,
            s.UserIn,
            s.UserPatch,
            s.UserOut,
            _user_dict,
            _apply_user,
            unique=(("email",), ("person_id",)),
            filters=("role",),
            search=("name", "email"),
            order_by=("email",),
        ),
        Entity(
            "audit",
            "audit event",
            AuditEvent,
            s.AuditOut,
            s.AuditOut,
            s.AuditOut,
            _audit_dict,
            _read_only,
            filters=("entity", "entity_id", "action", "actor"),
            order_by=("id",),
        ),
    ]
}


def _check_unique(entity: Entity, obj: Any) -> None:
    for cols in entity.unique:
        values = [getattr(obj, c) for c in cols]
        if any(v is None for v in values):
            continue
        query = sa.select(entity.model.id).where(
            *[getattr(entity.model, c) == v for c, v in zip(cols, values)]
        )
        if obj.id is not None:
            query = query.where(entity.model.id != obj.id)
        if db.session.scalar(query) is not None:
            shown = ", ".join(f"{c} {v}" for c, v in zip(cols, values))
            field_name = (
                "day"
                if cols == ("person_id", "weekday", "half")
                else cols[-1]
                if len(cols) > 1
                else cols[0]
            )
            raise Conflict(
                f"A {entity.label} with {shown} already exists",
                [FieldError(field_name, "already in use")],
            )


def create(entity: Entity, payload: Any, actor: Actor) -> Any:
    """Validate and add a new record; audit it."""
    data = parse(entity.create_schema, payload)
    obj = entity.model()
    with db.session.no_autoflush:
        entity.apply(obj, data, True)
        _check_unique(entity, obj)
    db.session.add(obj)
    _flush_or_conflict()
    record(actor, "create", entity.name, obj.id, None, entity.to_dict(obj))
    return obj


def update(entity: Entity, obj: Any, payload: Any, actor: Actor) -> Any:
    """Validate a partial change and apply it; audit old and new values."""
    data = parse(entity.patch_schema, payload, partial=True)
    old = entity.to_dict(obj)
    with db.session.no_autoflush:
        merged = {**old, **{k: v for k, v in data.items()}}
        # Re-validate the whole record so cross-field rules (dates in order) still hold.
        if entity.create_schema is not entity.patch_schema:
            full = {k: v for k, v in merged.items() if k in entity.create_schema.model_fields}
            if "password" in entity.create_schema.model_fields:
                full.pop("password", None)
            parse(entity.create_schema, _jsonish(full))
        entity.apply(obj, data, False)
        _check_unique(entity, obj)
    _flush_or_conflict()
    new = entity.to_dict(obj)
    record(actor, "update", entity.name, obj.id, old, new)
    if isinstance(obj, User):  # unlinked or deactivated: what was issued to them stops working
        user_changed.send(
            obj, old_person_id=old["person_id"], was_active=old["active"], actor=actor
        )
    if entity.name in IN_FEEDS and new != old:
        _feeds_stale()
    return obj


def _flush_or_conflict() -> None:
    """Flush; a database constraint that caught a race the checks above could not see (two
    requests adding overlapping leave at once) becomes a 409 naming the field."""
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:
        conflict = race_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None


# Who else must know when a user changes (the feeds revoke what was issued to them): a signal,
# so that the directory need not know its listeners.
_signals = Namespace()
user_changed = _signals.signal("user-changed")  # sender: the User; old_person_id, was_active, actor
user_deleted = _signals.signal("user-deleted")  # sender: the User; person_id, actor

# Records whose names and details are written into calendar feeds (a person's name in a team
# session, a role's title, a team's name, a department's or organisation's name): a change
# re-renders the feeds on their next request instead of waiting for the next publish.
IN_FEEDS = frozenset({"organisations", "departments", "people", "roles", "assignments", "teams"})


def _feeds_stale() -> None:
    # only the fresh rows: an import that changes a thousand people pays once, not per row
    db.session.execute(sa.update(FeedCache).where(FeedCache.stale.is_(False)).values(stale=True))


def _jsonish(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        if hasattr(v, "value"):
            v = v.value
        elif isinstance(v, Decimal):
            v = str(v)
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, list):
            v = [x.model_dump() if isinstance(x, BaseModel) else x for x in v]
        out[k] = v
    return out


def delete(entity: Entity, obj: Any, actor: Actor) -> None:
    """Delete a record; refused with 409 while other records still point at it."""
    old = entity.to_dict(obj)
    ident = obj.id
    in_use = [key for key in _in_use_by(obj) if not (isinstance(obj, User) and key == "tokens")]
    if in_use:  # e.g. a department's people, who would otherwise silently lose their department
        raise Conflict(
            f"This {entity.label} is still used by its {', '.join(in_use)}; "
            "remove or move those first"
        )
    try:
        with db.session.begin_nested():
            if isinstance(obj, User):  # a deleted user's API tokens go with them
                for token in list(obj.tokens):
                    db.session.delete(token)
            db.session.delete(obj)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            f"This {entity.label} is still used by other records; remove or move those first"
        ) from None
    record(actor, "delete", entity.name, ident, old, None)
    if isinstance(obj, User) and old["person_id"] is not None:
        user_deleted.send(obj, person_id=old["person_id"], actor=actor)
    if entity.name in IN_FEEDS:
        _feeds_stale()


def _in_use_by(obj: Any) -> list[str]:
    """One-to-many relationships of ``obj`` that still hold records and would not go with it."""
    from sqlalchemy.orm import RelationshipDirection

    return [
        rel.key
        for rel in sa.inspect(obj).mapper.relationships
        if rel.direction is RelationshipDirection.ONETOMANY
        and rel.secondary is None
        and not rel.cascade.delete
        and getattr(obj, rel.key)
    ]


def snapshot_of(obj: Any) -> dict[str, Any]:
    return snapshot(obj)

"""Create, change and delete the stored records of the directory (organisations, people,
leave, roles, teams, rates, users), with their validation and audit trail.

The API and the spreadsheet import both come through here, so a row in a spreadsheet is
checked by exactly the rules that check a JSON request. Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from werkzeug.security import generate_password_hash

from ..core.audit import Actor, record, snapshot
from ..core.errors import Conflict, FieldError, ValidationError, race_conflict
from ..core.extensions import db
from ..finance.rate_card import staff_group_for
from ..models import (
    WEEKDAYS,
    Absence,
    AuditEvent,
    AvoidPreference,
    Department,
    FeedCache,
    Half,
    LeadershipRole,
    Organisation,
    OrgKind,
    PatternSession,
    Person,
    RateCardEntry,
    RoleAssignment,
    SessionKind,
    Team,
    User,
)
from . import schemas as s


def pence(value: Decimal | float | None) -> int | None:
    return None if value is None else int((Decimal(str(value)) * 100).quantize(Decimal("1")))


def gbp(value: int | None) -> float | None:
    return None if value is None else value / 100


def parse(schema: type[BaseModel], payload: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate ``payload`` against ``schema``; every fault becomes a FieldError."""
    if not isinstance(payload, dict):
        raise ValidationError(
            "The body must be a JSON object", [FieldError("body", "expected an object")]
        )
    nul = [FieldError(path or "body", "contains a NUL character") for path in _nul_paths(payload)]
    if nul:  # PostgreSQL cannot store NUL in text; refuse it here on every database alike
        raise ValidationError("Some fields are not valid", nul)
    try:
        model = schema.model_validate(payload)
    except PydanticError as exc:
        raise ValidationError("Some fields are not valid", field_errors(exc)) from None
    return model.model_dump(exclude_unset=partial)


def _nul_paths(payload: Any) -> list[str]:
    """Dotted paths of every string (key or value) in ``payload`` that holds a NUL character.

    Iterative, so that a deeply nested body cannot exhaust the stack."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if "\x00" in str(k):
                    found.append(sub)
                else:
                    stack.append((sub, v))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(value))
    return sorted(found)


def field_errors(exc: PydanticError) -> list[FieldError]:
    """Pydantic's errors as FieldErrors; a whole-record rule names its field as "field: why"."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if loc == "body" and ": " in msg:
            loc, msg = msg.split(": ", 1)
        context = {k: str(v) for k, v in (err.get("ctx") or {}).items() if k != "error"}
        if err.get("input") in ("", None):
            context["blank"] = "yes"
        out.append(
            FieldError(loc, msg, kind=str(err["type"]), context=tuple(sorted(context.items())))
        )
    return out


class _Refs:
    """Collects referential faults so that one response names all of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def get(self, model: type, ident: int | None, field_name: str, label: str) -> Any:
        if ident is None:
            return None
        obj = db.session.get(model, ident)
        if obj is None:
            self.errors.append(FieldError(field_name, f"no {label} with id {ident}"))
        return obj

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError("Some references are not valid", self.errors)


@dataclass(frozen=True)
class Entity:
    """How one kind of record is validated, applied, shown and searched."""

    name: str
    label: str
    # Any mapped class with an integer ``id``: a typing.Protocol cannot express a mapped column
    # (Mapped[int] on the class, int on an instance), so its attributes are untyped.
    model: type[Any]
    create_schema: type[BaseModel]
    patch_schema: type[BaseModel]
    out_schema: type[BaseModel]
    to_dict: Callable[[Any], dict[str, Any]]
    apply: Callable[[Any, dict[str, Any], bool], None]
    unique: tuple[tuple[str, ...], ...] = ()
    filters: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ("id",)
    owner: str | None = field(default=None)  # column naming the person a leader must be


# -- organisations and departments -------------------------------------------------------------


def _set(obj: Any, data: dict[str, Any], *names: str) -> None:
    for name in names:
        if name in data:
            setattr(obj, name, data[name])


def _apply_organisation(obj: Organisation, data: dict[str, Any], creating: bool) -> None:
    _set(obj, data, "code", "name", "kind", "borough", "auto_publish")


def _organisation_dict(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.id,
        "code": o.code,
        "name": o.name,
        "kind": o.kind.value,
        "borough": o.borough.value,
        "auto_publish": o.auto_publish,
    }


def _apply_department(obj: Department, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Organisation, data.get("organisation_id"), "organisation_id", "organisation")
    refs.raise_if_any()
    _set(obj, data, "code", "name", "organisation_id", "max_away")


def _department_dict(d: Department) -> dict[str, Any]:
    return {
        "id": d.id,
        "code": d.code,
        "name": d.name,
        "organisation_id": d.organisation_id,
        "max_away": d.max_away,
    }


# -- people ------------------------------------------------------------------------------------

DEFAULT_PATTERN = [
    {"day": day, "half": half, "kind": SessionKind.CLINICAL}
    for day in WEEKDAYS[:5]
    for half in (Half.AM, Half.PM)
]


def _apply_person(obj: Person, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    org = refs.get(Organisation, data.get("organisation_id"), "organisation_id", "organisation")
    dept = refs.get(Department, data.get("department_id"), "department_id", "department")
    org_id = data.get("organisation_id", obj.organisation_id)
    if dept is not None and org_id is not None and dept.organisation_id != org_id:
        refs.errors.append(
            FieldError("department_id", f"{dept.name} belongs to another organisation")
        )
    refs.raise_if_any()
    del org
    _set(
        obj,
        data,
        "email",
        "name",
        "staff_number",
        "profession",
        "specialty",
        "band",
        "organisation_id",
        "department_id",
        "fte",
        "max_per_day",
        "max_per_week",
        "active",
    )
    if "email" in data:
        obj.email = str(data["email"]).lower()
    if "backfill_rate" in data:
        obj.backfill_rate_pence = pence(data["backfill_rate"])
    if data.get("staff_group"):
        obj.staff_group = data["staff_group"]
    elif creating or "profession" in data or "band" in data:
        try:
            home = db.session.get(Organisation, obj.organisation_id)
            obj.staff_group = staff_group_for(
                obj.profession,
                obj.band,
                council=bool(home and home.kind == OrgKind.LOCAL_AUTHORITY),
            )
        except ValueError as exc:  # an AfC profession without a band on the rate card
            raise ValidationError(
                "The staff group cannot be worked out", [FieldError("band", str(exc))]
            ) from None
    pattern = data.get("pattern")
    if pattern is None and creating:
        pattern = DEFAULT_PATTERN
    if pattern is not None:
        obj.pattern = [
            PatternSession(
                weekday=WEEKDAYS.index(p["day"]), half=Half(p["half"]), kind=SessionKind(p["kind"])
            )
            for p in pattern
        ]


def _person_dict(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "name": p.name,
        "staff_number": p.staff_number,
        "profession": p.profession.value,
        "specialty": p.specialty,
        "staff_group": p.staff_group,
        "band": p.band,
        "organisation_id": p.organisation_id,
        "department_id": p.department_id,
        "fte": p.fte,
        "backfill_rate": gbp(p.backfill_rate_pence),
        "max_per_day": p.max_per_day,
        "max_per_week": p.max_per_week,
        "active": p.active,
        "pattern": [
            {"day": WEEKDAYS[x.weekday], "half": x.half.value, "kind": x.kind.value}
            for x in sorted(p.pattern, key=lambda x: (x.weekday, x.half.value))
        ],
    }


def _apply_absence(obj: Absence, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Person, data.get("person_id"), "person_id", "person")
    refs.raise_if_any()
    _set(obj, data, "person_id", "kind", "start_date", "start_half", "end_date", "end_half", "note")
    if obj.end_key() < obj.start_key():
        raise ValidationError(
            "The leave ends before it starts", [FieldError("end_date", "ends before it starts")]
        )
    clash = db.session.scalars(
        sa.select(Absence).where(
            Absence.person_id == obj.person_id,
            Absence.id != (obj.id or -1),
            Absence.start_date <= obj.end_date,
            Absence.end_date >= obj.start_date,
        )
    ).all()
    for other in clash:
        if other.start_key() <= obj.end_key() and obj.start_key() <= other.end_key():
            raise Conflict(
                f"This overlaps {other.kind.value.replace('_', ' ')} leave {other.start_date} to "
                f"{other.end_date} (id {other.id}) for the same person",
                [FieldError("start_date", f"overlaps absence {other.id}")],
            )


def _absence_dict(a: Absence) -> dict[str, Any]:
    return {
        "id": a.id,
        "person_id": a.person_id,
        "kind": a.kind.value,
        "start_date": a.start_date.isoformat(),
        "start_half": a.start_half.value,
        "end_date": a.end_date.isoformat(),
        "end_half": a.end_half.value,
        "note": a.note,
    }


def _apply_preference(obj: AvoidPreference, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Person, data.get("person_id"), "person_id", "person")
    refs.raise_if_any()
    _set(obj, data, "person_id", "half")
    if "day" in data:
        obj.weekday = WEEKDAYS.index(data["day"])


def _preference_dict(p: AvoidPreference) -> dict[str, Any]:
    return {"id": p.id, "person_id": p.person_id, "day": WEEKDAYS[p.weekday], "half": p.half.value}


# -- roles, assignments, teams -----------------------------------------------------------------


def _apply_role(obj: LeadershipRole, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Organisation, data.get("host_organisation_id"), "host_organisation_id", "organisation")
    refs.raise_if_any()
    _set(
        obj,
        data,
        "code",
        "title",
        "level",
        "host_organisation_id",
        "commitment_amount",
        "commitment_unit",
        "commitment_per",
        "budget_code",
        "description",
    )
    if "annual_budget" in data:
        obj.annual_budget_pence = pence(data["annual_budget"])


def _role_dict(r: LeadershipRole) -> dict[str, Any]:
    return {
        "id": r.id,
        "code": r.code,
        "title": r.title,
        "level": r.level.value,
        "host_organisation_id": r.host_organisation_id,
        "commitment_amount": r.commitment_amount,
        "commitment_unit": r.commitment_unit.value,
        "commitment_per": r.commitment_per.value,
        "budget_code": r.budget_code,
        "annual_budget": gbp(r.annual_budget_pence),
        "description": r.description,
    }


def _apply_assignment(obj: RoleAssignment, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Person, data.get("person_id"), "person_id", "person")
    refs.get(LeadershipRole, data.get("role_id"), "role_id", "role")
    refs.raise_if_any()
    _set(
        obj,
        data,
        "person_id",
        "role_id",
        "start_date",
        "end_date",
        "share",
        "commitment_amount",
        "commitment_unit",
        "commitment_per",
    )
    if obj.end_date is not None and obj.end_date < obj.start_date:
        raise ValidationError(
            "The assignment ends before it starts",
            [FieldError("end_date", "ends before it starts")],
        )
    far = sa.func.coalesce(RoleAssignment.end_date, sa.literal("9999-12-31").cast(sa.Date))
    clash = db.session.scalar(
        sa.select(RoleAssignment).where(
            RoleAssignment.person_id == obj.person_id,
            RoleAssignment.role_id == obj.role_id,
            RoleAssignment.id != (obj.id or -1),
            RoleAssignment.start_date <= (obj.end_date or sa.literal("9999-12-31").cast(sa.Date)),
            far >= obj.start_date,
        )
    )
    if clash is not None:
        raise Conflict(
            f"This person already holds the role from {clash.start_date} (assignment {clash.id})",
            [FieldError("start_date", f"overlaps assignment {clash.id}")],
        )


def _assignment_dict(a: RoleAssignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "person_id": a.person_id,
        "role_id": a.role_id,
        "start_date": a.start_date.isoformat(),
        "end_date": a.end_date.isoformat() if a.end_date else None,
        "share": a.share,
        "commitment_amount": a.commitment_amount,
        "commitment_unit": a.commitment_unit.value if a.commitment_unit else None,
        "commitment_per": a.commitment_per.value if a.commitment_per else None,
    }


def _apply_team(obj: Team, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(LeadershipRole, data.get("funding_role_id"), "funding_role_id", "role")
    members = None
    if "member_ids" in data:
        members = []
        for i, pid in enumerate(data["member_ids"]):
            person = refs.get(Person, pid, f"member_ids.{i}", "person")
            if person is not None:
                members.append(person)
        if len(set(data["member_ids"])) != len(data["member_ids"]):
            refs.errors.append(FieldError("member_ids", "a person is listed twice"))
    refs.raise_if_any()
    _set(
        obj,
        data,
        "code",
        "name",
        "kind",
        "sessions_amount",
        "sessions_per",
        "quorum",
        "allowed_slots",
        "location",
        "funding_role_id",
        "budget_code",
    )
    if "annual_budget" in data:
        obj.annual_budget_pence = pence(data["annual_budget"])
    if members is not None:
        obj.members = members
    size = len(obj.members)
    if size and obj.quorum > size:
        raise ValidationError(
            "The quorum is larger than the team",
            [FieldError("quorum", f"{obj.quorum} is more than the {size} members")],
        )


def _team_dict(t: Team) -> dict[str, Any]:
    return {
        "id": t.id,
        "code": t.code,
        "name": t.name,
        "kind": t.kind.value,
        "sessions_amount": t.sessions_amount,
        "sessions_per": t.sessions_per.value,
        "quorum": t.quorum,
        "allowed_slots": t.allowed_slots,
        "location": t.location,
        "member_ids": [m.id for m in t.members],
        "funding_role_id": t.funding_role_id,
        "budget_code": t.budget_code,
        "annual_budget": gbp(t.annual_budget_pence),
    }


# -- finance and users -------------------------------------------------------------------------


def _apply_rate(obj: RateCardEntry, data: dict[str, Any], creating: bool) -> None:
    _set(obj, data, "staff_group", "label", "effective_from", "source")
    if "rate_per_hour" in data:
        obj.rate_pence_per_hour = pence(data["rate_per_hour"]) or 0


def _rate_dict(r: RateCardEntry) -> dict[str, Any]:
    return {
        "id": r.id,
        "staff_group": r.staff_group,
        "label": r.label,
        "rate_per_hour": r.rate_pence_per_hour / 100,
        "effective_from": r.effective_from.isoformat(),
        "source": r.source,
    }


def _apply_user(obj: User, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Person, data.get("person_id"), "person_id", "person")
    refs.raise_if_any()
    _set(obj, data, "name", "role", "person_id", "active")
    if "email" in data:
        obj.email = str(data["email"]).lower()
    if data.get("password"):
        obj.password_hash = generate_password_hash(data["password"])


def _user_dict(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role.value,
        "person_id": u.person_id,
        "active": u.active,
    }


def _audit_dict(a: AuditEvent) -> dict[str, Any]:
    return {
        "id": a.id,
        "at": a.at.isoformat(),
        "actor": a.actor,
        "action": a.action,
        "entity": a.entity,
        "entity_id": a.entity_id,
        "old": a.old,
        "new": a.new,
    }


def _read_only(obj: Any, data: dict[str, Any], creating: bool) -> None:
    raise ValidationError("This record cannot be changed")


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
        from ..feeds.service import user_changed

        user_changed(obj, old["person_id"], old["active"], actor)
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
        from ..feeds.service import end_record_links

        end_record_links(old["person_id"], actor, "user deleted")
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

"""People, their leave and fixed commitments, and the half-days they would rather avoid, as
records: applying a request, and the record as JSON."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..core.errors import Conflict, FieldError, ValidationError
from ..core.extensions import db
from ..models import (
    WEEKDAYS,
    Absence,
    AvoidPreference,
    Department,
    Half,
    Organisation,
    OrgKind,
    PatternSession,
    Person,
    SessionKind,
)
from .entity import _Refs, _set, gbp, pence
from .staff_groups import staff_group_for

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

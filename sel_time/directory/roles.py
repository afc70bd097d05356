"""Leadership roles, role assignments and teams as records: applying a request, and the record
as JSON."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..core.errors import Conflict, FieldError, ValidationError
from ..core.extensions import db
from ..models import (
    LeadershipRole,
    Organisation,
    Person,
    RoleAssignment,
    Team,
)
from .entity import _Refs, _set, gbp, pence


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
    lead = refs.get(Person, data.get("lead_person_id"), "lead_person_id", "person")
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
    if "lead_person_id" in data:
        obj.lead_person_id = data["lead_person_id"]
    _check_lead(obj, lead, "lead_person_id" in data)
    size = len(obj.members)
    if size and obj.quorum > size:
        raise ValidationError(
            "The quorum is larger than the team",
            [FieldError("quorum", f"{obj.quorum} is more than the {size} members")],
        )


def _check_lead(team: Team, lead: Person | None, given: bool) -> None:
    """The lead is one of the members: named as lead but not a member, or taken out of the
    members while leading, is refused in words (naming the lead field either way)."""
    if team.lead_person_id is None:
        return
    if lead is None:
        lead = db.session.get(Person, team.lead_person_id)
    if lead is None or any(m.id == lead.id for m in team.members):
        return
    if given:
        why = f"{lead.name} is not a member of this team; add them to the members first"
    else:
        why = (f"{lead.name} leads this team and cannot leave its members; choose another "
               "lead (or none) in the same change")
    raise ValidationError("The team's lead must be one of its members",
                          [FieldError("lead_person_id", why)])


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
        "lead_person_id": t.lead_person_id,
        "funding_role_id": t.funding_role_id,
        "budget_code": t.budget_code,
        "annual_budget": gbp(t.annual_budget_pence),
    }

"""The records administrators keep: rate card entries, users, and the audit trail (read only)."""

from __future__ import annotations

from typing import Any

from werkzeug.security import generate_password_hash

from ..core.errors import ValidationError
from ..models import (
    AuditEvent,
    Person,
    RateCardEntry,
    User,
)
from .entity import _Refs, _set, pence


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

"""Recording every write in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ..models import AuditEvent, User
from .clock import now_utc
from .extensions import db


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a signed-in user, or a named process (cli, scheduler)."""

    label: str
    user: User | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(user.email, user)


CLI_ACTOR = Actor("cli")
SCHEDULER_ACTOR = Actor("scheduler")


def snapshot(
    obj: Any, exclude: frozenset[str] = frozenset({"password_hash", "token_hash"})
) -> dict[str, Any]:
    """Column values of a model instance as JSON-safe data, for the old/new of an audit row."""
    out: dict[str, Any] = {}
    for col in sa.inspect(obj).mapper.column_attrs:
        if col.key in exclude:
            continue
        out[col.key] = _jsonable(getattr(obj, col.key))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def record(
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object | None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row; the caller's transaction commits it with the change itself."""
    if old is not None and new is not None:
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        old = {k: v for k, v in old.items() if k in changed}
        new = {k: v for k, v in new.items() if k in changed}
    event = AuditEvent(
        at=now_utc(),
        actor=actor.label,
        user_id=actor.user.id if actor.user else None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        old=_jsonable(old) if old is not None else None,
        new=_jsonable(new) if new is not None else None,
    )
    db.session.add(event)
    return event

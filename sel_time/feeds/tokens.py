"""Feed tokens: who may subscribe to what, issuing and revoking the secret links, and what a
token still lets its holder read (after a user is unlinked, deactivated or deleted, nothing)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any, Unpack, cast

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import FieldError, Forbidden, NotFound, ValidationError
from ..core.extensions import db
from ..directory import records
from ..models import (
    Department,
    FeedCache,
    FeedKind,
    FeedToken,
    Organisation,
    Person,
    Team,
    User,
    UserRole,
    team_member,
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Named = Person | Team | Department | Organisation  # what a feed can be of


def _target_name(kind: FeedKind, target_id: int) -> str:
    models: dict[FeedKind, type[Named]] = {
        FeedKind.PERSON: Person,
        FeedKind.TEAM: Team,
        FeedKind.DEPARTMENT: Department,
        FeedKind.ORGANISATION: Organisation,
    }
    # mypy joins the four classes (to their common base): name the union the dict holds
    obj = cast(Named | None, db.session.get(models[kind], target_id))
    if obj is None:
        raise ValidationError(
            "No such feed", [FieldError("target_id", f"no {kind.value} {target_id}")]
        )
    return obj.name


def may_subscribe(user: User, kind: FeedKind, target_id: int) -> bool:
    """Leaders: their own feed, their teams' and their department's. Managers: any."""
    if user.role in (UserRole.ADMIN, UserRole.ROTA_MANAGER):
        return True
    person = user.person
    if user.role != UserRole.LEADER or person is None:
        return False
    if kind == FeedKind.PERSON:
        return person.id == target_id
    if kind == FeedKind.TEAM:
        return _is_member(person.id, target_id)
    if kind == FeedKind.DEPARTMENT:
        return person.department_id == target_id
    return False


def _is_member(person_id: int, team_id: int) -> bool:
    return (
        db.session.execute(
            sa.select(team_member.c.person_id).where(
                team_member.c.team_id == team_id, team_member.c.person_id == person_id
            )
        ).first()
        is not None
    )


def issue_token(user: User, kind: FeedKind, target_id: int, actor: Actor) -> tuple[FeedToken, str]:
    """A new secret URL for one feed; any earlier token of this user for it is revoked
    (so issuing again is how a link is reset)."""
    _target_name(kind, target_id)
    if not may_subscribe(user, kind, target_id):
        raise Forbidden("You cannot subscribe to that feed")
    now = now_utc()
    for old in db.session.scalars(
        sa.select(FeedToken).where(
            FeedToken.kind == kind,
            FeedToken.target_id == target_id,
            FeedToken.holder_user_id == user.id,
            FeedToken.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
        record(
            actor, "revoke", "feed_token", old.id, None, {"kind": kind.value, "target": target_id}
        )
        if kind == FeedKind.PERSON:  # a reset also ends the one-click links the old feed carried
            end_record_links(target_id, actor, "feed reset")
    secret = secrets.token_urlsafe(32)  # 256 random bits
    row = FeedToken(
        kind=kind,
        target_id=target_id,
        token_hash=hash_token(secret),
        created_at=now,
        created_by=actor.label,
        holder_user_id=user.id,
        holder_person_id=user.person_id,
    )
    db.session.add(row)
    db.session.flush()
    record(actor, "create", "feed_token", row.id, None, {"kind": kind.value, "target": target_id})
    return row, secret


def revoke_token(user: User, token_id: int, actor: Actor) -> FeedToken:
    row = db.session.get(FeedToken, token_id)
    if row is None or (
        user.role not in (UserRole.ADMIN, UserRole.ROTA_MANAGER) and row.holder_user_id != user.id
    ):
        raise NotFound(f"No feed link {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now_utc()
        record(
            actor,
            "revoke",
            "feed_token",
            row.id,
            None,
            {"kind": row.kind.value, "target": row.target_id},
        )
        if row.kind == FeedKind.PERSON:
            end_record_links(row.target_id, actor, "feed revoked")
    db.session.flush()
    return row


def end_record_links(person_id: int, actor: Actor, reason: str) -> None:
    """Every one-click record link of this person stops working: their link generation goes
    up by one, and their own feed is rendered again (with links of the new generation)."""
    db.session.execute(
        sa.update(Person)
        .where(Person.id == person_id)
        .values(link_generation=Person.link_generation + 1)
    )
    db.session.execute(
        sa.update(FeedCache)
        .where(FeedCache.kind == FeedKind.PERSON, FeedCache.target_id == person_id)
        .values(stale=True)
    )
    record(actor, "end_record_links", "person", person_id, None, {"reason": reason})


def user_changed(user: User, old_person_id: int | None, was_active: bool, actor: Actor) -> None:
    """After a user is unlinked from their person (or linked to another) or deactivated: their
    feed links are revoked and the one-click links of the person they were are ended, so that
    nothing issued to them keeps working (re-linking or re-activating brings none of it back)."""
    unlinked = old_person_id is not None and user.person_id != old_person_id
    deactivated = was_active and not user.active
    if not (unlinked or deactivated):
        return
    reason = "user unlinked from person" if unlinked else "user deactivated"
    now = now_utc()
    for row in db.session.scalars(
        sa.select(FeedToken).where(
            FeedToken.holder_user_id == user.id, FeedToken.revoked_at.is_(None)
        )
    ):
        row.revoked_at = now
        record(
            actor,
            "revoke",
            "feed_token",
            row.id,
            None,
            {"kind": row.kind.value, "target": row.target_id, "reason": reason},
        )
    if old_person_id is not None:
        end_record_links(old_person_id, actor, reason)
    db.session.flush()


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{40,60}$")


def resolve_token(token: str) -> tuple[FeedKind, int]:
    """The feed a token opens, or NotFound, the same for unknown, revoked, no longer linked to
    the person it was issued for, and no longer a member."""
    if not TOKEN_RE.match(token):
        raise NotFound("No such feed")
    row = db.session.execute(_TOKEN_LOOKUP, {"token_hash": hash_token(token)}).first()
    if row is None or row.revoked_at is not None or not _still_allowed(row):
        raise NotFound("No such feed")
    return row.kind, row.target_id


# The token and its holder as they are now, in one statement built once: this is on every
# feed request.
_TOKEN_LOOKUP = (
    sa.select(
        FeedToken.kind,
        FeedToken.target_id,
        FeedToken.revoked_at,
        FeedToken.holder_person_id,
        User.id.label("user_id"),
        User.active,
        User.role,
        User.person_id.label("current_person_id"),
        Person.department_id.label("current_department_id"),
    )
    .outerjoin(User, User.id == FeedToken.holder_user_id)
    .outerjoin(Person, Person.id == User.person_id)
    .where(FeedToken.token_hash == sa.bindparam("token_hash"))
)


def holder_may_read(
    kind: FeedKind,
    target_id: int,
    active: bool | None,
    role: UserRole | None,
    issued_person_id: int | None,
    current_person_id: int | None,
) -> bool | None:
    """Whether a feed token's holder, as they are now, may still read its feed: True, False,
    or None when that depends on their team membership or department (not given here). The
    holder must be active; a manager may read any feed; a leader only while still linked to the
    person the token was issued for (an unlinked user's feeds end), and only their own."""
    if not active or role is None:
        return False
    if role in (UserRole.ADMIN, UserRole.ROTA_MANAGER):
        return True
    if role != UserRole.LEADER or current_person_id is None:
        return False
    if current_person_id != issued_person_id:
        return False
    if kind == FeedKind.PERSON:
        return current_person_id == target_id
    if kind in (FeedKind.TEAM, FeedKind.DEPARTMENT):
        return None
    return False


def _still_allowed(row: sa.Row[Unpack[tuple[Any, ...]]]) -> bool:
    """Checked on every fetch against the holder's present: person, role, team, department."""
    allowed = holder_may_read(
        row.kind, row.target_id, row.active, row.role, row.holder_person_id, row.current_person_id
    )
    if allowed is not None:
        return allowed
    if row.kind == FeedKind.TEAM:
        return _is_member(row.current_person_id, row.target_id)
    return bool(row.current_department_id == row.target_id)


@records.user_changed.connect
def _revoke_for_changed_user(
    user: User, *, old_person_id: int | None, was_active: bool, actor: Actor
) -> None:
    user_changed(user, old_person_id, was_active, actor)


@records.user_deleted.connect
def _end_links_of_deleted_user(user: User, *, person_id: int, actor: Actor) -> None:
    end_record_links(person_id, actor, "user deleted")

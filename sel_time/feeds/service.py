"""Which feeds exist, who may read them, what is in them, and keeping their rendered bytes
fresh: rendered once after a publish (or on the first request after a change), then served
from the cache with a strong ETag."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Unpack, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import FieldError, Forbidden, NotFound, ValidationError
from ..core.extensions import db
from ..models import (
    Attendance,
    Department,
    FeedCache,
    FeedKind,
    FeedToken,
    Organisation,
    Person,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
    Team,
    User,
    UserRole,
    team_member,
)
from .render import FeedCalendar, FeedEvent, etag_for, render_feed

WINDOW_BACK = timedelta(weeks=4)  # past sessions kept in a feed
CANCELLED_GRACE = timedelta(days=7)  # a removed session shows as cancelled this long, then leaves
# Time alone changes a feed (its window slides, cancelled sessions leave after the grace) and so
# do edits that publishing does not see (a renamed team, a new location): a cached feed is
# rendered again once it is this old. The same data gives the same bytes, so its ETag holds.
CACHE_MAX_AGE = timedelta(hours=1)
COLOURS = {
    FeedKind.PERSON: "#005EB8",
    FeedKind.TEAM: "#007F3B",
    FeedKind.DEPARTMENT: "#330072",
    FeedKind.ORGANISATION: "#425563",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- tokens ---------------------------------------------------------------------------------------


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


# -- content --------------------------------------------------------------------------------------


def _in_window(now: datetime) -> sa.Select[ProtectedSession]:
    """Sessions any feed may show now, with everything their events say loaded."""
    return (
        sa.select(ProtectedSession)
        .options(
            selectinload(ProtectedSession.attendances).selectinload(Attendance.person),
            selectinload(ProtectedSession.assignment).selectinload(RoleAssignment.role),
            selectinload(ProtectedSession.team),
        )
        .where(
            ProtectedSession.end_at >= now - WINDOW_BACK,
            sa.or_(
                ProtectedSession.status == RosterStatus.CONFIRMED,
                ProtectedSession.last_modified >= now - CANCELLED_GRACE,
            ),
        )
    )


def _sessions_by_feed(now: datetime) -> dict[tuple[FeedKind, int], list[ProtectedSession]]:
    """What `_sessions_for` gives for every feed at once, from one load of the window (rendering
    all feeds one query at a time costs more in round trips than in rendering)."""
    where = {
        pid: (dept, org)
        for pid, dept, org in db.session.execute(
            sa.select(Person.id, Person.department_id, Person.organisation_id)
        )
    }
    out: dict[tuple[FeedKind, int], list[ProtectedSession]] = {}
    for s in db.session.scalars(
        _in_window(now).order_by(ProtectedSession.start_at, ProtectedSession.id)
    ):
        people = {a.person_id for a in s.attendances}
        if s.person_id is not None:
            people.add(s.person_id)
        keys = {(FeedKind.TEAM, s.team_id)} if s.team_id is not None else set()
        for pid in people:
            dept, org = where[pid]
            keys |= {(FeedKind.PERSON, pid), (FeedKind.ORGANISATION, org)}
            if dept is not None:
                keys.add((FeedKind.DEPARTMENT, dept))
        for key in keys:
            out.setdefault(key, []).append(s)
    return out


def _sessions_for(kind: FeedKind, target_id: int, now: datetime) -> list[ProtectedSession]:
    q = _in_window(now)
    if kind == FeedKind.TEAM:
        q = q.where(ProtectedSession.team_id == target_id)
    else:
        people = sa.select(Person.id)
        if kind == FeedKind.PERSON:
            people = people.where(Person.id == target_id)
        elif kind == FeedKind.DEPARTMENT:
            people = people.where(Person.department_id == target_id)
        else:
            people = people.where(Person.organisation_id == target_id)
        attending = sa.select(Attendance.session_id).where(Attendance.person_id.in_(people))
        q = q.where(
            sa.or_(ProtectedSession.id.in_(attending), ProtectedSession.person_id.in_(people))
        )
    return list(db.session.scalars(q.order_by(ProtectedSession.start_at, ProtectedSession.id)))


def _event(kind: FeedKind, target_id: int, s: ProtectedSession, base_url: str) -> FeedEvent:
    from ..delivery.recording import delivery_link_token

    names = [a.person.name for a in s.attendances]
    if s.team is not None and kind in (FeedKind.DEPARTMENT, FeedKind.ORGANISATION):
        return _team_session_as_our_time(kind, target_id, s)
    if s.team is not None:
        what = f"Team protected time: {s.team.name}"
        lines = [f"{s.team.name} ({s.team.kind.value.replace('_', ' ')}) meets in protected time."]
        if names:
            lines.append("Attending: " + ", ".join(names) + ".")
    else:
        role = s.assignment.role if s.assignment else None
        who = names[0] if names else ""
        title = role.title if role else "leadership role"
        what = (
            f"Protected time: {title}"
            if kind == FeedKind.PERSON
            else f"{who}: protected time ({title})"
        )
        lines = [f"Protected leadership time for {who} as {title}."]
        if role is not None and role.description:
            lines.append(role.description)
    lines.append(
        "Backfill is arranged for this session; please keep it free of clinical or care work."
    )
    url = None
    if kind == FeedKind.PERSON:
        mine = next((a for a in s.attendances if a.person_id == target_id), None)
        if mine is not None:
            url = f"{base_url}/record/{delivery_link_token(mine)}"
    attendees = (
        tuple((a.person.name, a.person.email) for a in s.attendances) if s.team is not None else ()
    )
    return FeedEvent(
        uid=s.uid,
        start=s.start_at,
        end=s.end_at,
        summary=what,
        description="\n".join(lines),
        last_modified=s.last_modified,
        location=(s.team.location if s.team else None),
        sequence=s.sequence,
        status="CONFIRMED" if s.status == RosterStatus.CONFIRMED else "CANCELLED",
        attendees=attendees,
        organizer=("sel-time", "no-reply@sel-time.invalid") if attendees else None,
        url=url,
        categories=("Protected time",),
    )


def _team_session_as_our_time(kind: FeedKind, target_id: int, s: ProtectedSession) -> FeedEvent:
    """A team session in a department's or organisation's feed: only as the time of its own
    people who attend, named; no team name, place, other attendees or e-mail addresses (the
    team's own feed is for its members)."""
    ours = [
        a.person.name
        for a in s.attendances
        if (a.person.department_id if kind == FeedKind.DEPARTMENT else a.person.organisation_id)
        == target_id
    ]
    who = ", ".join(ours)
    return FeedEvent(
        uid=s.uid,
        start=s.start_at,
        end=s.end_at,
        summary=f"{who}: protected time (team)",
        description=(
            f"Protected leadership time in a team for {who}.\nBackfill is arranged for "
            "this session; please keep it free of clinical or care work."
        ),
        last_modified=s.last_modified,
        sequence=s.sequence,
        status="CONFIRMED" if s.status == RosterStatus.CONFIRMED else "CANCELLED",
        categories=("Protected time",),
    )


def build_calendar(
    kind: FeedKind,
    target_id: int,
    now: datetime | None = None,
    sessions: list[ProtectedSession] | None = None,
) -> FeedCalendar:
    """The feed's calendar; ``sessions`` are its sessions if already loaded (`render_all`)."""
    now = now or now_utc()
    name = _target_name(kind, target_id)
    base_url = current_app.config["PUBLIC_URL"].rstrip("/")
    title = {
        FeedKind.PERSON: f"Protected time – {name}",
        FeedKind.TEAM: f"Team protected time – {name}",
        FeedKind.DEPARTMENT: f"Who is away on protected time – {name}",
        FeedKind.ORGANISATION: f"Protected time roster – {name}",
    }[kind]
    if sessions is None:
        sessions = _sessions_for(kind, target_id, now)
    events = tuple(_event(kind, target_id, s, base_url) for s in sessions)
    return FeedCalendar(
        name=title,
        description="Rostered protected leadership time from sel-time",
        colour=COLOURS[kind],
        refresh_minutes=360,
        events=events,
    )


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str


_CACHED = sa.select(FeedCache.body, FeedCache.etag, FeedCache.stale, FeedCache.rendered_at).where(
    FeedCache.kind == sa.bindparam("kind"), FeedCache.target_id == sa.bindparam("target_id")
)


def get_feed(
    kind: FeedKind,
    target_id: int,
    *,
    now: datetime | None = None,
    sessions: Callable[[], list[ProtectedSession]] | None = None,
) -> RenderedFeed:
    """The feed's bytes, from the cache while it is fresh, else rendered and cached
    (``sessions``, if given, supplies its sessions already loaded)."""
    now = now or now_utc()
    cached = db.session.execute(_CACHED, {"kind": kind, "target_id": target_id}).first()
    if (
        cached is not None
        and not cached.stale
        and cached.body is not None
        and cached.etag
        and cached.rendered_at is not None
        and cached.rendered_at > now - CACHE_MAX_AGE
    ):
        return RenderedFeed(cached.body, cached.etag)
    row = db.session.get(FeedCache, (kind, target_id))
    body = render_feed(build_calendar(kind, target_id, now, sessions() if sessions else None))
    etag = etag_for(body)
    if row is None:
        try:  # two first requests for one feed may race to create its cache row
            with db.session.begin_nested():
                db.session.add(
                    FeedCache(
                        kind=kind,
                        target_id=target_id,
                        body=body,
                        etag=etag,
                        stale=False,
                        rendered_at=now,
                    )
                )
            return RenderedFeed(body, etag)
        except sa.exc.IntegrityError:
            row = db.session.get(FeedCache, (kind, target_id))
            assert row is not None
    row.body, row.etag, row.stale, row.rendered_at = body, etag, False, now
    db.session.flush()
    return RenderedFeed(body, etag)


def all_feeds() -> list[tuple[FeedKind, int, str]]:
    """Every feed with something published in it: (kind, id, file-friendly name)."""
    out: list[tuple[FeedKind, int, str]] = []
    people = set(db.session.scalars(sa.select(Attendance.person_id).distinct()))
    for p in db.session.scalars(
        sa.select(Person).where(Person.id.in_(people)).order_by(Person.name)
    ):
        out.append((FeedKind.PERSON, p.id, f"people/{_slug(p.name)}-{p.id}.ics"))
    teams = set(
        db.session.scalars(
            sa.select(ProtectedSession.team_id)
            .where(ProtectedSession.team_id.is_not(None))
            .distinct()
        )
    )
    for t in db.session.scalars(sa.select(Team).where(Team.id.in_(teams)).order_by(Team.code)):
        out.append((FeedKind.TEAM, t.id, f"teams/{t.code}.ics"))
    depts = {
        p.department_id
        for p in db.session.scalars(sa.select(Person).where(Person.id.in_(people)))
        if p.department_id
    }
    for d in db.session.scalars(
        sa.select(Department).where(Department.id.in_(depts)).order_by(Department.code)
    ):
        out.append((FeedKind.DEPARTMENT, d.id, f"departments/{d.code}.ics"))
    orgs = {
        p.organisation_id
        for p in db.session.scalars(sa.select(Person).where(Person.id.in_(people)))
    }
    for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(orgs)).order_by(Organisation.code)
    ):
        out.append((FeedKind.ORGANISATION, o.id, f"organisations/{o.code}.ics"))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_all() -> int:
    """Render every stale feed now (after a publish), so requests are served from the cache."""
    return sum(1 for _ in rendered_feeds())


def rendered_feeds() -> Iterator[tuple[FeedKind, int, str, RenderedFeed]]:
    """Every feed of `all_feeds` with its bytes (cached, or rendered now from one load of the
    window's sessions): what `render_all` and ``export-ics`` need."""
    now = now_utc()
    loaded: dict[tuple[FeedKind, int], list[ProtectedSession]] | None = None

    def sessions_of(key: tuple[FeedKind, int]) -> list[ProtectedSession]:
        nonlocal loaded
        if loaded is None:  # only if some feed is stale
            loaded = _sessions_by_feed(now)
        return loaded.get(key, [])

    for kind, target_id, name in all_feeds():
        yield (
            kind,
            target_id,
            name,
            get_feed(
                kind, target_id, now=now, sessions=functools.partial(sessions_of, (kind, target_id))
            ),
        )


def mark_stale(people: Iterable[int], teams: Iterable[int]) -> None:
    """After a publish: the feeds of these people and teams, and of their departments and
    organisations, are rendered again on their next request."""
    people, teams = set(people), set(teams)
    if teams:
        people |= set(
            db.session.scalars(
                sa.select(team_member.c.person_id).where(team_member.c.team_id.in_(teams))
            )
        )
    keys: set[tuple[FeedKind, int]] = {(FeedKind.TEAM, t) for t in teams}
    if people:
        for pid, dept, org in db.session.execute(
            sa.select(Person.id, Person.department_id, Person.organisation_id).where(
                Person.id.in_(people)
            )
        ):
            keys.add((FeedKind.PERSON, pid))
            if dept is not None:
                keys.add((FeedKind.DEPARTMENT, dept))
            keys.add((FeedKind.ORGANISATION, org))
    for kind in FeedKind:
        ids = [t for k, t in keys if k == kind]
        if ids:
            db.session.execute(
                sa.update(FeedCache)
                .where(FeedCache.kind == kind, FeedCache.target_id.in_(ids))
                .values(stale=True)
            )


def mark_all_stale() -> None:
    db.session.execute(sa.update(FeedCache).values(stale=True))

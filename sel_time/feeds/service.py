"""Which feeds exist, who may read them, what is in them, and keeping their rendered bytes
fresh: rendered once after a publish (or on the first request after a change), then served
from the cache with a strong ETag."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import selectinload

from ..core.clock import now_utc
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
    team_member,
)
from .render import FeedCalendar, FeedEvent, etag_for, render_feed
from .tokens import _target_name

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


# -- tokens ---------------------------------------------------------------------------------------


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
    base_url = public_base()
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
    organisations, are rendered again on their next request (or before it, by a worker:
    :func:`sel_time.feeds.tasks.render_after_commit`)."""
    keys = feed_keys(people, teams)
    for kind in FeedKind:
        ids = [t for k, t in keys if k == kind]
        if ids:
            db.session.execute(
                sa.update(FeedCache)
                .where(FeedCache.kind == kind, FeedCache.target_id.in_(ids))
                .values(stale=True)
            )


def render_affected(people: Iterable[int], teams: Iterable[int]) -> int:
    """Render into the cache the feeds of these people and teams (and of their departments and
    organisations) that someone polls (a cached copy or a live token) and that are not fresh.
    Flushes; returns how many were rendered."""
    keys = feed_keys(people, teams)
    polled = {(row.kind, row.target_id) for row in db.session.execute(
        sa.select(FeedCache.kind, FeedCache.target_id).union(
            sa.select(FeedToken.kind, FeedToken.target_id).where(FeedToken.revoked_at.is_(None))
        )
    )}
    now = now_utc()
    fresh = {(row.kind, row.target_id) for row in db.session.execute(
        sa.select(FeedCache.kind, FeedCache.target_id).where(
            FeedCache.stale.is_(False), FeedCache.rendered_at > now - CACHE_MAX_AGE))}
    wanted = sorted((keys & polled) - fresh)
    for kind, target_id in wanted:
        get_feed(kind, target_id, now=now)
    return len(wanted)


def feed_keys(people: Iterable[int], teams: Iterable[int]) -> set[tuple[FeedKind, int]]:
    """The feeds that show these people's and teams' sessions: theirs, and their departments'
    and organisations' (a team's members' too)."""
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
    return keys


def mark_all_stale() -> None:
    db.session.execute(sa.update(FeedCache).values(stale=True))


DEVELOPMENT_URL = "http://127.0.0.1:5000"


def public_base() -> str:
    """The address people reach sel-time at: ``SEL_TIME_PUBLIC_URL`` when set, otherwise the
    host of the request being answered (as the browser asked for it; behind a proxy, as the
    proxy passed it on), otherwise (a command, a job) the development server's."""
    configured = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_URL

"""Which feeds exist, what is in them, and keeping their rendered bytes fresh."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..extensions import db
from ..models import FeedCache, FeedKind, Person, Team


def mark_stale(people: Iterable[int], teams: Iterable[int]) -> None:
    """After a publish: the feeds of these people and teams, and of their departments and
    organisations, are rendered again on their next request."""
    people, teams = set(people), set(teams)
    for team in db.session.scalars(sa.select(Team).where(Team.id.in_(teams))) if teams else []:
        people |= {m.id for m in team.members}
    keys: set[tuple[FeedKind, int]] = {(FeedKind.TEAM, t) for t in teams}
    if people:
        for pid, dept, org in db.session.execute(
                sa.select(Person.id, Person.department_id, Person.organisation_id).where(Person.id.in_(people))):
            keys.add((FeedKind.PERSON, pid))
            if dept is not None:
                keys.add((FeedKind.DEPARTMENT, dept))
            keys.add((FeedKind.ORGANISATION, org))
    for kind in FeedKind:
        ids = [t for k, t in keys if k == kind]
        if ids:
            db.session.execute(sa.update(FeedCache).where(FeedCache.kind == kind, FeedCache.target_id.in_(ids))
                               .values(stale=True))

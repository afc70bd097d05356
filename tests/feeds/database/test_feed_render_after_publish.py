"""After a publish commits, a worker renders the feeds it changed into the cache (the
``feeds.render`` task, run at once here by the test queue): the first calendar to poll
afterwards is answered by the fast path, with the bytes the full path would give. A publish
that is rolled back asks for nothing; feeds nobody polls are not rendered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.feeds.fastpath import FeedFastPath
from sel_time.models import FeedCache, FeedKind, Plan
from sel_time.plans.publishing import publish
from tests.feeds.database.conftest import Roster, draft_copy

Solve = Callable[..., Plan]
ManagerLink = Callable[[FeedKind, int], str]


def fast_path_answer(app: Flask, path: str) -> Any:
    """What the WSGI fast path answers, or None if it passes the request to the full path."""
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "192.0.2.10"}
    layer: Any = app.wsgi_app
    while not isinstance(layer, FeedFastPath):
        layer = getattr(layer, "wsgi_app", None) or layer.app
    return layer._answer(environ, "GET", token)


def cache_rows() -> dict[tuple[FeedKind, int], tuple[bool, str | None, datetime | None]]:
    db.session.rollback()  # a fresh read: the worker committed in a session of its own
    return {(r.kind, r.target_id): (r.stale, r.etag, r.rendered_at)
            for r in db.session.scalars(sa.select(FeedCache))}


def test_after_a_publish_the_changed_feeds_are_rendered_and_served_by_the_fast_path(
        app: Flask, roster: Roster, solve: Solve, client: FlaskClient,
        manager_link: ManagerLink) -> None:
    plan = solve()
    polled = {
        (FeedKind.PERSON, roster.ada): manager_link(FeedKind.PERSON, roster.ada),
        (FeedKind.TEAM, roster.team): manager_link(FeedKind.TEAM, roster.team),
        (FeedKind.ORGANISATION, roster.org): manager_link(FeedKind.ORGANISATION, roster.org),
    }
    assert cache_rows() == {}  # nothing published, nothing fetched yet
    assert all(fast_path_answer(app, p) is None for p in polled.values())

    published_at = now_utc()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()  # the render task runs after this commit

    rows = cache_rows()
    assert set(rows) == set(polled)  # Ben's, Cara's and the departments' feeds: nobody polls
    for key, (stale, etag, rendered_at) in rows.items():
        assert not stale and etag and rendered_at is not None and rendered_at >= published_at, key
    for path in polled.values():
        status, headers, body = fast_path_answer(app, path)  # the first poll: from the cache
        assert status == "200 OK" and b"BEGIN:VEVENT" in body
        full = client.get(path)  # the same bytes and ETag as the full path gives
        assert full.status_code == 200 and full.get_data() == body
        assert full.headers["ETag"] == dict(headers)["ETag"]

    # the next publish (one session fewer) makes them stale, and the worker renders them again
    copy = draft_copy(plan)
    ada = next(s for s in copy.sessions if s.person_id == roster.ada)
    db.session.delete(ada)
    db.session.commit()
    before = cache_rows()
    publish(copy.id, CLI_ACTOR)
    db.session.commit()
    after = cache_rows()
    person = (FeedKind.PERSON, roster.ada)
    assert not after[person][0] and after[person][1] != before[person][1]
    assert fast_path_answer(app, polled[person])[0] == "200 OK"


def test_a_rolled_back_publish_renders_nothing(
        app: Flask, roster: Roster, solve: Solve, client: FlaskClient,
        manager_link: ManagerLink) -> None:
    plan = solve()
    path = manager_link(FeedKind.PERSON, roster.ada)
    assert client.get(path).status_code == 200  # cached: an empty feed, fresh
    before = cache_rows()
    publish(plan.id, CLI_ACTOR)
    db.session.rollback()
    assert cache_rows() == before
    status, _, body = fast_path_answer(app, path)
    assert status == "200 OK" and b"BEGIN:VEVENT" not in body


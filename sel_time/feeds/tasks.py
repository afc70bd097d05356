"""Feeds on the queue: once a publish (a rota manager's, the night's, an approved request) has
committed, a worker renders the feeds it changed into the cache, so the first calendar to poll
afterwards is answered by the fast path (``feeds/fastpath.py``) instead of rendering in a web
worker.

A worker renders with ``SEL_TIME_PUBLIC_URL`` as the address in the feeds' links; where it is
not set, the links depend on the host each request came to, so the feeds are left stale and the
first request renders them, as before."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app

from ..core.extensions import db
from ..core.queue import HOUSEKEEPING, task
from ..core.transaction import boundary
from . import service

log = logging.getLogger(__name__)
ASKED = "sel_time_feeds_render"  # session.info: this transaction's render task and its lists


@task("feeds.render", priority=HOUSEKEEPING)
def render_task(people: list[int], teams: list[int]) -> None:
    """Render the polled feeds of ``people`` and ``teams`` that are not fresh."""
    if not current_app.config.get("PUBLIC_URL"):
        log.debug("no SEL_TIME_PUBLIC_URL: feeds are rendered at their next request")
        return
    with boundary():
        rendered = service.render_affected(people, teams)
    log.info("rendered %s feeds after a publish", rendered)


def mark_stale(people: Iterable[int], teams: Iterable[int]) -> None:
    """After a publish (flushes): the feeds of these people and teams, and of their departments
    and organisations, are stale now, and rendered again by a worker once this transaction
    commits (nothing is asked for if it rolls back)."""
    people, teams = sorted(set(people)), sorted(set(teams))
    service.mark_stale(people, teams)
    if not (people or teams):
        return
    # One render per transaction however many publishes it holds (the night publishes every
    # scope in one): the task's lists are read when the transaction commits.
    transaction = db.session().get_transaction()
    asked = db.session.info.get(ASKED)
    if asked is not None and asked[0] is transaction:
        asked[1].extend(p for p in people if p not in asked[1])
        asked[2].extend(t for t in teams if t not in asked[2])
        return
    db.session.info[ASKED] = (transaction, people, teams)
    render_task.after_commit(people, teams)

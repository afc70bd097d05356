"""The whole journey through the pages (test client, CSRF on): a leader asks to move a session
from My time, sees the ranked alternatives and picks one; it costs more than the rule allows,
so a rota manager's queue holds it; declining without a reason is refused in words; the
manager approves; the leader's feed and the finance summary show the change."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import icalendar
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from sel_time.core.audit import Actor
from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.feeds.tokens import issue_token
from sel_time.models import FeedKind, User, UserRole
from sel_time.plans.calendar import Calendar, slot_times

from .conftest import Published

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class OwnUserClient(FlaskClient):
    """A test client that never sees another client's user: the tests run inside one app
    context, where Flask-Login would keep the first request's user (and Flask-WTF its CSRF
    token) on ``g``."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in ("_login_user", "csrf_token"):  # Flask-Login's and Flask-WTF's
            g.pop(name, None)
        try:
            return super().open(*args, **kwargs)
        finally:
            for name in ("_login_user", "csrf_token"):
                g.pop(name, None)


def signed_in(app: Flask, role: UserRole, person_id: int | None = None) -> FlaskClient:
    user = User(email=f"{role.value}@journey.test", name=f"The {role.value}", role=role,
                person_id=person_id)
    db.session.add(user)
    db.session.commit()
    client = OwnUserClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


def token(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no form"
    return found.group(1)


def test_move_approve_and_see_it_in_the_feed_and_the_costs(
        app: Flask, published: Published, login_as: Callable[..., dict[str, str]]) -> None:
    ada = published.small.ada
    leader = signed_in(app, UserRole.LEADER, ada)
    me = leader.get("/me").get_data(as_text=True)
    first = published.sessions_of(ada)[0]
    att_id, uid = first.id, first.session.uid
    link = f"/me/sessions/{att_id}/change"
    assert f'href="{link}"' in me

    page = leader.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Change your session on Wed 28 Apr PM</h1>" in html
    rows = re.findall(r'<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell">([^<]+)'
                      r'</td>\s*<td class="nhsuk-table__cell">(.*?)</td>', html, re.S)
    verdicts = [("Yes" in v) for _, v in rows]
    assert verdicts == sorted(verdicts, reverse=True) and any(verdicts) and not all(verdicts)
    assert "Emergency Department already has 1 of 1 people away on Thu 29 Apr AM" in html
    slot = re.search(r'name="to_slot" value="([^"]+)"', html)
    assert slot is not None
    wanted = slot.group(1)

    # An impossible slot sent by hand is refused with the rule, in the error summary.
    bad = leader.post(link, data={"csrf_token": token(html), "kind": "move",
                                  "to_slot": "2027-04-29/AM"})
    assert bad.status_code == 422
    assert "There is a problem" in bad.get_data(as_text=True)
    assert "people away on Thu 29 Apr AM" in bad.get_data(as_text=True)

    asked = leader.post(link, data={"csrf_token": token(html), "kind": "move",
                                    "to_slot": wanted}, follow_redirects=True)
    assert asked.status_code == 200
    mine = asked.get_data(as_text=True)
    assert "a rota manager will decide" in mine
    assert "Waiting because backfill cost rises by £400.00 a session" in mine

    manager = signed_in(app, UserRole.ROTA_MANAGER)
    queue = manager.get("/manage/requests").get_data(as_text=True)
    assert "Waiting for a decision (1), oldest first" in queue, queue[queue.find("<main"):][:1500]
    request_id = re.search(r'/manage/requests/(\d+)/decision', queue)
    assert request_id is not None
    url = f"/manage/requests/{request_id.group(1)}/decision"
    refused = manager.post(url, data={"csrf_token": token(queue), "decision": "decline"})
    assert refused.status_code == 422
    assert "Say why the request is declined" in refused.get_data(as_text=True) or \
        "a reason the leader will read" in refused.get_data(as_text=True)

    finance = login_as("finance")
    before = _planned(manager.get("/api/v1/costs?by=role", headers=finance).get_json(),
                      "Clinical Director")
    approved = manager.post(url, data={"csrf_token": token(queue), "decision": "approve"},
                            follow_redirects=True)
    assert approved.status_code == 200
    assert "approved" in approved.get_data(as_text=True)
    assert "No request is waiting" in approved.get_data(as_text=True)

    # The leader's own feed shows the session at its new time, same UID, SEQUENCE 1.
    user = db.session.scalars(sa.select(User).where(User.person_id == ada)).one()
    _, secret = issue_token(user, FeedKind.PERSON, ada, Actor.for_user(user))
    db.session.commit()
    body = leader.get(f"/feeds/{secret}.ics").data
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    moved = events[uid]
    start = slot_times(wanted, Calendar.from_config())[0]
    assert moved.decoded("DTSTART").astimezone(UTC) == start
    assert int(moved["SEQUENCE"]) == 1

    # The finance summary follows at once: Ada's backfill there is £400 more.
    after = _planned(manager.get("/api/v1/costs?by=role", headers=finance).get_json(),
                     "Clinical Director")
    assert round(after - before, 2) == 400.0


def _planned(summary: dict[str, Any], role: str) -> float:
    return float(next(r["planned"] for r in summary["rows"] if r["role"] == role))

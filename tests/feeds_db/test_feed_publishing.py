"""Feeds across publishes of real plans (the planner over the fortnight of the autumn 2027 clock
change): the same plan gives the same bytes; a moved session keeps its UID with SEQUENCE + 1
and its new times; a removed one shows as cancelled for the grace period and then leaves; a
subscribed calendar never keeps showing a removed session as happening."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import time_machine
from feeds.parsers import vevent_lines
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.errors import SelTimeError
from sel_time.core.extensions import db
from sel_time.feeds.service import CANCELLED_GRACE
from sel_time.models import FeedKind, Plan, PlanSession, ProtectedSession, RosterStatus
from sel_time.plans.planning import move_session, remove_session
from tests.feeds_db.calendars import events, iso, times
from tests.feeds_db.conftest import NOW, Roster, draft_copy, insert_session, publish_plan

Solve = Callable[..., Plan]
ManagerLink = Callable[[FeedKind, int], str]


def published(plan_session: PlanSession) -> ProtectedSession:
    """The roster session published for a plan session (same owner and slot)."""
    q = sa.select(ProtectedSession).where(ProtectedSession.slot == plan_session.slot)
    if plan_session.team_id is not None:
        q = q.where(ProtectedSession.team_id == plan_session.team_id)
    else:
        q = q.where(ProtectedSession.assignment_id == plan_session.assignment_id)
    session = db.session.scalar(q)
    assert session is not None
    return session


def individual(plan: Plan, person_id: int) -> PlanSession:
    return next(s for s in plan.sessions if s.person_id == person_id)


def move_somewhere(plan: Plan, session: PlanSession) -> str:
    """Move ``session`` to another allowed slot, on another day; return its new slot."""
    day = session.slot[:10]
    for slot in [s["id"] for s in (plan.problem or {})["slots"]]:
        if slot[:10] == day:
            continue
        try:
            move_session(plan.id, session.id, slot, CLI_ACTOR)
        except SelTimeError:
            db.session.rollback()
            continue
        db.session.commit()
        return slot
    raise AssertionError(f"no slot to move {session.slot} to")


def fetch(client: FlaskClient, path: str) -> tuple[bytes, str]:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(), response.headers["ETag"]


def test_the_same_plan_gives_the_same_bytes(
    roster: Roster, solve: Solve, client: FlaskClient, manager_link: ManagerLink
) -> None:
    plan = solve()
    publish_plan(plan.id)
    paths = [
        manager_link(FeedKind.PERSON, roster.ada),
        manager_link(FeedKind.TEAM, roster.team),
        manager_link(FeedKind.ORGANISATION, roster.org),
    ]
    before = [fetch(client, p) for p in paths]
    assert all(body.count(b"BEGIN:VEVENT") >= 2 for body, _ in before)

    publish_plan(plan.id)  # publishing again is a no-op
    assert [fetch(client, p) for p in paths] == before

    # An identical draft published over it (as a re-solve that changes nothing) changes nothing.
    copy = draft_copy(plan)
    with time_machine.travel(NOW + timedelta(hours=3), tick=True):
        publish_plan(copy.id)
        assert [fetch(client, p) for p in paths] == before


def test_moved_and_removed_sessions(
    roster: Roster,
    solve: Solve,
    client: FlaskClient,
    manager_link: ManagerLink,
    icaljs: Callable[[bytes], dict[str, Any]],
) -> None:
    plan = solve()
    publish_plan(plan.id)
    ada_path, ben_path = (
        manager_link(FeedKind.PERSON, roster.ada),
        manager_link(FeedKind.PERSON, roster.ben),
    )
    org_path = manager_link(FeedKind.ORGANISATION, roster.org)
    ada_before, ada_etag = fetch(client, ada_path)
    org_before, _ = fetch(client, org_path)
    fetch(client, ben_path)  # cached now

    draft = draft_copy(plan)
    to_move, to_remove = individual(draft, roster.ada), individual(draft, roster.ben)
    moving, removing = published(to_move), published(to_remove)
    moving_uid, removing_uid = moving.uid, removing.uid
    old_times = times(moving)
    old_seq, removed_seq = moving.sequence, removing.sequence
    new_slot = move_somewhere(draft, to_move)
    remove_session(draft.id, to_remove.id, CLI_ACTOR)
    team_gone = next(s for s in draft.sessions if s.team_id == roster.team)
    team_uid, team_seq = published(team_gone).uid, published(team_gone).sequence
    remove_session(draft.id, team_gone.id, CLI_ACTOR)
    db.session.commit()
    team_path = manager_link(FeedKind.TEAM, roster.team)
    attendee = min(a.person_id for a in team_gone.attendees if a.attending)
    # (a second link to the same feed would revoke the first)
    attendee_path = {roster.ada: ada_path, roster.ben: ben_path}.get(attendee) or manager_link(
        FeedKind.PERSON, attendee
    )

    with time_machine.travel(NOW + timedelta(days=1), tick=True):
        publish_plan(draft.id)
        db.session.expire_all()
        moved = db.session.scalar(
            sa.select(ProtectedSession).where(ProtectedSession.uid == moving_uid)
        )
        assert moved is not None and moved.slot == new_slot and times(moved) != old_times

        ada_after, ada_etag_after = fetch(client, ada_path)
        assert ada_etag_after != ada_etag
        event = events(ada_after)[moving_uid]
        assert event["SEQUENCE"] == old_seq + 1
        assert (event.start, event.end) == times(moved)
        assert str(event["STATUS"]) == "CONFIRMED"
        js = {e["uid"]: e for e in icaljs(ada_after)["events"]}[moving_uid]
        assert (js["start"], js["end"]) == tuple(iso(t) for t in times(moved))
        assert js["sequence"] == old_seq + 1

        # Within the grace period the removed session is there, cancelled, with SEQUENCE + 1.
        for path in (ben_path, org_path):
            body, _ = fetch(client, path)
            event = events(body)[removing_uid]
            assert str(event["STATUS"]) == "CANCELLED"
            assert event["SEQUENCE"] == removed_seq + 1
            js = {e["uid"]: e for e in icaljs(body)["events"]}[removing_uid]
            assert js["status"] == "CANCELLED"

        # So is a removed team session, in the team's feed and its attendees'.
        for path in (team_path, attendee_path, org_path):
            event = events(fetch(client, path)[0])[team_uid]
            assert str(event["STATUS"]) == "CANCELLED"
            assert event["SEQUENCE"] == team_seq + 1

        # Everything else is byte for byte as it was.
        org_after, _ = fetch(client, org_path)
        for uid in set(events(org_before)) - {moving_uid, removing_uid, team_uid}:
            assert vevent_lines(org_after, uid) == vevent_lines(org_before, uid), uid

    # After the grace period it has left every feed; never shown as confirmed on the way.
    with time_machine.travel(
        NOW + timedelta(days=1) + CANCELLED_GRACE + timedelta(days=1), tick=True
    ):
        for path in (ben_path, org_path, team_path, attendee_path):
            body, _ = fetch(client, path)
            assert removing_uid not in events(body) and team_uid not in events(body)
        assert moving_uid in events(fetch(client, org_path)[0])


def test_someone_dropped_from_a_team_session_stops_seeing_it(
    roster: Roster, solve: Solve, client: FlaskClient, manager_link: ManagerLink
) -> None:
    plan = solve()
    publish_plan(plan.id)
    team_session = next(s for s in plan.sessions if s.team_id == roster.team)
    attending = {a.person_id for a in team_session.attendees if a.attending}
    dropped = min(attending)
    uid = published(team_session).uid
    path = manager_link(FeedKind.PERSON, dropped)
    body, _ = fetch(client, path)  # now cached
    assert str(events(body)[uid]["STATUS"]) == "CONFIRMED"

    draft = draft_copy(plan)
    copy = next(
        s for s in draft.sessions if s.team_id == roster.team and s.slot == team_session.slot
    )
    next(a for a in copy.attendees if a.person_id == dropped).attending = False
    # the team may meet one short, else the publish refuses the plan (quorum: rule 3)
    draft.problem = {
        **draft.problem,
        "teams": [
            {**t, "quorum": len(attending) - 1} if t["id"] == f"t{roster.team}" else t
            for t in draft.problem["teams"]
        ],
    }
    db.session.commit()
    with time_machine.travel(NOW + timedelta(minutes=10), tick=True):
        publish_plan(draft.id)
        body, _ = fetch(client, path)
        event = events(body).get(uid)
        assert event is None or str(event["STATUS"]) == "CANCELLED"
        team_body, _ = fetch(client, manager_link(FeedKind.TEAM, roster.team))
        team_event = events(team_body)[uid]
        names = (
            {str(a) for a in team_event.get("ATTENDEE", [])}
            if isinstance(team_event.get("ATTENDEE"), list)
            else {str(team_event["ATTENDEE"])}
        )
        assert len(names) == len(attending) - 1
        assert team_event["SEQUENCE"] == 1


def test_a_session_removed_and_put_back_is_confirmed_again(
    roster: Roster, solve: Solve, client: FlaskClient, manager_link: ManagerLink
) -> None:
    plan = solve()
    publish_plan(plan.id)
    path = manager_link(FeedKind.PERSON, roster.ben)
    fetch(client, path)
    target = individual(plan, roster.ben)
    uid = published(target).uid

    without = draft_copy(plan)
    remove_session(without.id, individual(without, roster.ben).id, CLI_ACTOR)
    db.session.commit()
    with time_machine.travel(NOW + timedelta(hours=1), tick=True):
        publish_plan(without.id)
        assert str(events(fetch(client, path)[0])[uid]["STATUS"]) == "CANCELLED"
    with time_machine.travel(NOW + timedelta(hours=2), tick=True):
        publish_plan(draft_copy(plan).id)
        event = events(fetch(client, path)[0])[uid]
        assert str(event["STATUS"]) == "CONFIRMED"
        assert event["SEQUENCE"] == 2
        assert published(target).status == RosterStatus.CONFIRMED


def test_a_cached_feed_shows_an_edit_at_once_and_catches_up_with_time(
    roster: Roster,
    client: FlaskClient,
    manager_link: ManagerLink,
    login_as: Callable[..., dict[str, str]],
) -> None:
    session = insert_session(
        "2027-07-15/PM", team_id=roster.team, attendees=(roster.ada, roster.ben)
    )
    path = manager_link(FeedKind.TEAM, roster.team)
    body, etag = fetch(client, path)
    assert b"Boardroom" in body
    rota = login_as("rota_manager")
    response = client.patch(
        f"/api/v1/teams/{roster.team}", json={"location": "Room 3, Guy's"}, headers=rota
    )
    assert response.status_code == 200
    body, new_etag = fetch(client, path)  # no publish needed: the edit made the feed stale
    assert str(events(body)[session.uid]["LOCATION"]) == "Room 3, Guy's"
    assert new_etag != etag
    # a member renamed shows at once in the team's feed and in the other members' feeds
    ada_path = manager_link(FeedKind.PERSON, roster.ada)
    assert b"Ben Adeyemi-Cole" not in fetch(client, ada_path)[0]
    response = client.patch(
        f"/api/v1/people/{roster.ben}", json={"name": "Ben Adeyemi-Cole"}, headers=rota
    )
    assert response.status_code == 200
    for feed in (path, ada_path):
        assert b"Ben Adeyemi-Cole" in fetch(client, feed)[0].replace(b"\r\n ", b"")  # unfolded
    body, etag = fetch(client, path)
    with time_machine.travel(NOW + timedelta(minutes=61), tick=True):  # re-rendered: the same
        body, new_etag = fetch(client, path)
        assert str(events(body)[session.uid]["LOCATION"]) == "Room 3, Guy's"
        assert fetch(client, path) == (body, new_etag) == (body, etag)  # and stable

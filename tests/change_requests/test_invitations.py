"""E-mail invitations (iMIP) for leaders who chose them: METHOD:REQUEST with the feed's UID and
a SEQUENCE that only rises, METHOD:CANCEL when a session is no longer theirs; icalendar and
ical.js both read them; "both" sends only for changes in the next 14 days; a change reaches
the SMTP server within one run of the sender."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import icalendar
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.feeds.service import build_calendar
from sel_time.mail import deliver_pending
from sel_time.models import Attendance, FeedKind, ProtectedSession
from tests.support.smtp import Received, SmtpServer

from .conftest import Published

Headers = Callable[[int], dict[str, str]]


def choose(client: FlaskClient, headers: dict[str, str], sessions_by: str) -> None:
    r = client.put("/api/v1/me/mail-preferences", json={"sessions_by": sessions_by},
                   headers=headers)
    assert r.status_code == 200, r.get_json()


def calendar_part(got: Received) -> tuple[str, bytes]:
    part = [p for p in got.message.walk() if p.get_content_type() == "text/calendar"][0]
    return part.get_param("method"), part.get_payload(decode=True)


def move_somewhere(client: FlaskClient, headers: dict[str, str], att_id: int) -> str:
    options = client.get(f"/api/v1/attendances/{att_id}/alternatives",
                         headers=headers).get_json()["alternatives"]
    target = next(o for o in options if o["allowed"] and o["cost_change"] <= 0)
    r = client.post("/api/v1/requests", json={"kind": "move", "attendance_id": att_id,
                                              "to_slot": target["slot"]}, headers=headers)
    assert r.get_json()["status"] == "approved", r.get_json()
    return str(target["slot"])


def test_an_invitation_carries_the_feed_uid_and_a_rising_sequence(
        published: Published, client: FlaskClient, leader: Headers, smtp_server: SmtpServer,
        icaljs: Callable[[bytes], dict[str, Any]]) -> None:
    ben = published.small.ben
    headers = leader(ben)
    choose(client, headers, "email")
    att = published.sessions_of(ben)[0]
    session_id = att.session_id
    move_somewhere(client, headers, att.id)

    report = deliver_pending()  # one run of the sender
    assert report.sent == 1
    [got] = smtp_server.received
    method, body = calendar_part(got)
    assert method == "REQUEST"
    invitation = icalendar.Calendar.from_ical(body)
    assert invitation["METHOD"] == "REQUEST"
    [event] = invitation.walk("VEVENT")
    db.session.expire_all()
    session = db.session.get(ProtectedSession, session_id)
    assert session is not None
    assert str(event["UID"]) == session.uid and int(event["SEQUENCE"]) == 1
    assert event["ORGANIZER"].startswith("mailto:rota@sel-time.example.nhs.uk")
    assert str(event["ATTENDEE"]) == f"mailto:{got.rcpt_tos[0]}"
    feed = build_calendar(FeedKind.PERSON, ben)
    same = next(e for e in feed.events if e.uid == session.uid)
    assert event.decoded("DTSTART").astimezone(timezone.utc) == same.start
    assert same.sequence == 1
    parsed = icaljs(body)
    [js] = [e for e in parsed["events"] if e["uid"] == session.uid]
    assert js["sequence"] == 1 and js["start_zone"] == "Europe/London"
    assert datetime.fromisoformat(js["start"].replace("Z", "+00:00")) == same.start

    # Moved again: the same UID with a higher SEQUENCE.
    att_id = att.id
    move_somewhere(client, headers, att_id)
    deliver_pending()
    _, body2 = calendar_part(smtp_server.received[-1])
    [event2] = icalendar.Calendar.from_ical(body2).walk("VEVENT")
    assert str(event2["UID"]) == session.uid and int(event2["SEQUENCE"]) == 2


def test_a_member_leaving_a_team_session_gets_a_cancel(
        published: Published, client: FlaskClient, leader: Headers,
        smtp_server: SmtpServer) -> None:
    cara = published.small.cara
    headers = leader(cara)
    choose(client, headers, "email")
    [team_att] = published.sessions_of(cara, team=True)
    uid = team_att.session.uid
    r = client.post("/api/v1/requests", json={"kind": "cannot_attend",
                                              "attendance_id": team_att.id}, headers=headers)
    assert r.status_code == 201
    deliver_pending()
    [got] = [m for m in smtp_server.received if m.rcpt_tos == [email_of(cara)]]
    method, body = calendar_part(got)
    assert method == "CANCEL"
    cal = icalendar.Calendar.from_ical(body)
    [event] = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert str(event["UID"]) == uid


def email_of(person_id: int) -> str:
    from sel_time.models import Person

    person = db.session.get(Person, person_id)
    assert person is not None
    return person.email


def test_both_sends_invitations_only_inside_the_next_14_days(
        published: Published, client: FlaskClient, leader: Headers,
        smtp_server: SmtpServer) -> None:
    ben = published.small.ben
    headers = leader(ben)
    choose(client, headers, "both")
    first, second = published.sessions_of(ben)
    # Today (December 2026) the April sessions are months away: the feed carries the change.
    move_somewhere(client, headers, first.id)
    deliver_pending()
    assert smtp_server.received == []
    # Ten days before the second one, its change is inside the frozen window: an invitation.
    with time_machine.travel(datetime(2027, 4, 26, 7, 0, tzinfo=timezone.utc), tick=False):
        move_somewhere(client, headers, second.id)
        deliver_pending()
    [got] = smtp_server.received
    assert calendar_part(got)[0] == "REQUEST"


def test_feed_only_leaders_get_no_invitation(
        published: Published, client: FlaskClient, leader: Headers,
        smtp_server: SmtpServer) -> None:
    ben = published.small.ben
    att = published.sessions_of(ben)[0]
    move_somewhere(client, leader(ben), att.id)
    deliver_pending()
    assert smtp_server.received == []


def test_bad_preferences_name_the_field(published: Published, client: FlaskClient,
                                        leader: Headers) -> None:
    r = client.put("/api/v1/me/mail-preferences", json={"sessions_by": "pigeon",
                                                        "decisions": "yes", "colour": 1},
                   headers=leader(published.small.ben))
    assert r.status_code == 422
    assert {e["field"] for e in r.get_json()["errors"]} == {"sessions_by", "decisions",
                                                            "colour"}


def test_a_publish_invites_leaders_who_chose_email(
        small: Any, solve_plan: Callable[..., Any], client: FlaskClient, leader: Headers,
        smtp_server: SmtpServer) -> None:
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.plans.publishing import publish

    choose(client, leader(small.ben), "email")
    choose(client, leader(small.ada), "both")  # all her sessions are months away
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    deliver_pending()
    assert {tuple(m.rcpt_tos) for m in smtp_server.received} == {(email_of(small.ben),)}
    uids = set()
    for got in smtp_server.received:
        method, body = calendar_part(got)
        assert method == "REQUEST"
        [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
        assert int(event["SEQUENCE"]) == 0
        uids.add(str(event["UID"]))
    db.session.expire_all()
    bens = {a.session.uid for a in db.session.scalars(
        sa.select(Attendance).where(Attendance.person_id == small.ben))}
    assert uids == bens and len(bens) == 3  # two of his own, one team session


def test_a_publish_that_drops_a_member_from_a_continuing_team_session_cancels_it_for_them(
        published: Published, client: FlaskClient, leader: Headers, smtp_server: SmtpServer,
        make: Callable[..., Any], solve_plan: Callable[..., Any]) -> None:
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.directory import records
    from sel_time.models import Team
    from sel_time.plans.publishing import publish

    small = published.small
    choose(client, leader(small.cara), "email")
    choose(client, leader(small.ben), "email")
    [team_att] = published.sessions_of(small.cara, team=True)
    session_id, uid, slot = team_att.session_id, team_att.session.uid, team_att.session.slot
    assert slot == "2027-04-29/PM"
    # Cara is now away that afternoon, and the team meets with one member: the session goes on
    # with Ben alone.
    make("absences", person_id=small.cara, kind="other", start_date="2027-04-29",
         start_half="PM", end_date="2027-04-29", end_half="PM")
    records.update(records.ENTITIES["teams"], db.session.get(Team, small.team), {"quorum": 1},
                   CLI_ACTOR)
    db.session.commit()
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    db.session.expire_all()
    session = db.session.get(ProtectedSession, session_id)
    assert session is not None and session.slot == slot and session.uid == uid
    assert [a.person_id for a in session.attendances] == [small.ben]
    assert session.sequence == 1

    deliver_pending()
    about_team = {}
    for got in smtp_server.received:
        method, body = calendar_part(got)
        [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(event["UID"]) == uid:
            about_team[got.rcpt_tos[0]] = (method, int(event["SEQUENCE"]), str(event["STATUS"]))
    assert about_team == {email_of(small.cara): ("CANCEL", 1, "CANCELLED"),
                          email_of(small.ben): ("REQUEST", 1, "CONFIRMED")}
    # Published again: nothing new to say, and the cancellation is never sent twice.
    count = len(smtp_server.received)
    deliver_pending()
    assert len(smtp_server.received) == count

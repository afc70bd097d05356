"""A team's lead: set through the team API, the spreadsheet import and the rota manager's team
page, always one of the members; only the lead (or a rota manager) may ask to move a team
session, offered only slots that keep quorum; another member is refused in words and offered
only "cannot attend", through the API and on the change page."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.errors import FieldError, ValidationError
from sel_time.core.extensions import db
from sel_time.directory import records
from sel_time.imports import import_file
from sel_time.models import Attendance, Person, ProtectedSession, RosterStatus, Team, UserRole
from sel_time.plans.publishing import publish
from tests.plans.conftest import Small

from .conftest import Published
from .test_journey import signed_in, token

Headers = Callable[[int], dict[str, str]]


def set_team(team_id: int, **change: Any) -> None:
    team = db.session.get(Team, team_id)
    records.update(records.ENTITIES["teams"], team, change, CLI_ACTOR)
    db.session.commit()


@pytest.fixture()
def led(small: Small, solve_plan: Callable[..., Any]) -> Published:
    """The small system with Ben leading the team, which may also meet on Tuesday
    afternoons, published."""
    set_team(small.team, lead_person_id=small.ben, allowed_slots=["Tue/PM", "Thu/PM"])
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    return Published(small, plan.id)


def week_one(published: Published) -> ProtectedSession:
    """The first week's team session, which Ben attends."""
    session = db.session.scalars(
        sa.select(ProtectedSession).where(ProtectedSession.team_id == published.small.team,
                                          ProtectedSession.status == RosterStatus.CONFIRMED)
        .order_by(ProtectedSession.start_at)).first()
    assert session is not None
    assert published.small.ben in {a.person_id for a in session.attendances}
    return session


def attendance(session: ProtectedSession, person_id: int) -> int:
    return next(a.id for a in session.attendances if a.person_id == person_id)


def other_member(session: ProtectedSession, small: Small) -> int:
    return next(a.person_id for a in session.attendances if a.person_id != small.ben)


# -- who may move a team session ------------------------------------------------------------


def test_the_lead_is_offered_only_slots_that_keep_quorum_and_may_ask(
        led: Published, client: FlaskClient, leader: Headers) -> None:
    session = week_one(led)
    ben = led.small.ben
    att_id = attendance(session, ben)
    got = client.get(f"/api/v1/attendances/{att_id}/alternatives", headers=leader(ben))
    assert got.status_code == 200
    body = got.get_json()
    assert body["may_move"] is True and body["move_refused_because"] is None
    assert body["session"]["lead_person_id"] == ben and body["session"]["quorum"] == 2
    options = body["alternatives"]
    assert options, "the team may meet on Tuesday or Thursday afternoon"
    for option in options:
        assert not option["allowed"] or len(option["attendees"]) >= 2
        assert option["allowed"] or option["reasons"]
    allowed = [o for o in options if o["allowed"]]
    assert allowed
    r = client.post("/api/v1/requests", json={
        "kind": "team_move", "attendance_id": att_id, "to_slot": allowed[0]["slot"]},
        headers=leader(ben))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["kind"] == "team_move"


def test_another_member_is_refused_in_words_and_may_only_say_they_cannot_attend(
        led: Published, client: FlaskClient, leader: Headers) -> None:
    session = week_one(led)
    member = other_member(session, led.small)
    att_id = attendance(session, member)
    headers = leader(member)
    body = client.get(f"/api/v1/attendances/{att_id}/alternatives", headers=headers).get_json()
    assert body["may_move"] is False and body["alternatives"] == []
    assert body["session"]["quorum"] == 2 and body["session"]["attending"] >= 2
    assert "Ben Adeyemi leads KCH leadership team" in body["move_refused_because"]

    for kind in ("team_move", "move"):
        r = client.post("/api/v1/requests", json={
            "kind": kind, "attendance_id": att_id, "to_slot": "2027-04-27/PM"},
            headers=headers)
        assert r.status_code == 403, r.get_json()
        problem = r.get_json()
        assert problem["detail"] == "Only the team's lead can ask to move a team session"
        [error] = problem["errors"]
        assert error["field"] == "kind"
        assert "Ben Adeyemi leads KCH leadership team" in error["message"]
        assert "cannot attend" in error["message"]
    db.session.expire_all()
    assert db.session.get(ProtectedSession, session.id).sequence == 0  # type: ignore[union-attr]

    r = client.post("/api/v1/requests", json={"kind": "cannot_attend", "attendance_id": att_id},
                    headers=headers)
    assert r.status_code == 201 and r.get_json()["status"] == "approved"


def test_a_team_without_a_lead_is_moved_only_by_a_rota_manager(
        led: Published, client: FlaskClient, leader: Headers, rota: dict[str, str]) -> None:
    set_team(led.small.team, lead_person_id=None)
    session = week_one(led)
    ben = led.small.ben
    att_id = attendance(session, ben)
    r = client.post("/api/v1/requests", json={
        "kind": "team_move", "attendance_id": att_id, "to_slot": "2027-04-27/PM"},
        headers=leader(ben))
    assert r.status_code == 403
    assert ("KCH leadership team has no lead, so only a rota manager can move its sessions"
            in r.get_json()["errors"][0]["message"])

    body = client.get(f"/api/v1/attendances/{att_id}/alternatives", headers=rota).get_json()
    assert body["may_move"] is True
    allowed = [o for o in body["alternatives"] if o["allowed"]]
    assert allowed
    r = client.post("/api/v1/requests", json={
        "kind": "team_move", "attendance_id": att_id, "to_slot": allowed[0]["slot"]},
        headers=rota)
    assert r.status_code == 201, r.get_json()


# -- setting the lead -------------------------------------------------------------------------


def test_the_lead_is_set_through_the_team_api_and_must_be_a_member(
        small: Small, client: FlaskClient, login_as: Callable[..., dict[str, str]]) -> None:
    admin = login_as("admin")
    url = f"/api/v1/teams/{small.team}"
    r = client.patch(url, json={"lead_person_id": small.cara}, headers=admin)
    assert r.status_code == 200 and r.get_json()["lead_person_id"] == small.cara
    assert client.get(url, headers=admin).get_json()["lead_person_id"] == small.cara

    # Taking the lead out of the members, without naming another lead, is refused.
    r = client.patch(url, json={"member_ids": [small.ada, small.ben]}, headers=admin)
    assert r.status_code == 422
    [error] = r.get_json()["errors"]
    assert error["field"] == "lead_person_id"
    assert "Cara Mensah leads this team" in error["message"]
    # ... and allowed with another lead in the same change.
    r = client.patch(url, json={"member_ids": [small.ada, small.ben],
                                "lead_person_id": small.ben}, headers=admin)
    assert r.status_code == 200 and r.get_json()["lead_person_id"] == small.ben

    r = client.patch(url, json={"lead_person_id": small.cara}, headers=admin)
    assert r.status_code == 422
    assert r.get_json()["errors"] == [{"field": "lead_person_id", "message": (
        "Cara Mensah is not a member of this team; add them to the members first")}]
    r = client.patch(url, json={"lead_person_id": 9999}, headers=admin)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == "lead_person_id"

    new = client.post("/api/v1/teams", json={
        "code": "new", "name": "New team", "kind": "board", "sessions_per": "month",
        "quorum": 1, "member_ids": [small.ada], "lead_person_id": small.ben}, headers=admin)
    assert new.status_code == 422 and new.get_json()["errors"][0]["field"] == "lead_person_id"
    assert db.session.scalar(sa.select(Team).where(Team.code == "new")) is None
    r = client.patch(url, json={"lead_person_id": None}, headers=admin)
    assert r.status_code == 200 and r.get_json()["lead_person_id"] is None


def test_the_lead_is_imported_by_email(small: Small) -> None:
    emails = {p.id: p.email for p in db.session.scalars(sa.select(Person))}
    header = "code,name,kind,sessions_per,quorum,members,lead\n"
    members = f"{emails[small.ada]}; {emails[small.ben]}"
    ok = import_file((header + f"board-1,Board,board,month,1,{members},{emails[small.ben]}\n"
                      ).encode(), "teams.csv", CLI_ACTOR)
    db.session.commit()
    assert ok.as_dict()["counts"]["teams"]["created"] == 1
    team = db.session.scalars(sa.select(Team).where(Team.code == "board-1")).one()
    assert team.lead_person_id == small.ben

    with pytest.raises(ValidationError) as refused:
        import_file((header + f"board-2,Board 2,board,month,1,{members},{emails[small.cara]}\n"
                     ).encode(), "teams.csv", CLI_ACTOR)
    db.session.rollback()
    assert refused.value.errors == [FieldError(
        "lead", "Cara Mensah is not a member of this team; add them to the members first", 2)]
    assert db.session.scalar(sa.select(Team).where(Team.code == "board-2")) is None


def test_the_rota_managers_team_page_sets_the_lead(app: Flask, small: Small) -> None:
    manager = signed_in(app, UserRole.ROTA_MANAGER)
    url = f"/manage/teams/{small.team}"
    page = manager.get(url).get_data(as_text=True)
    assert '<label class="nhsuk-label" for="lead_person_id">' in page
    assert re.search(r'<select[^>]*id="lead_person_id"', page)
    assert f'<option value="{small.cara}"' in page

    emails = {p.id: p.email for p in db.session.scalars(sa.select(Person))}
    form = {"csrf_token": token(page), "code": "kch-lt", "name": "KCH leadership team",
            "kind": "leadership_team", "sessions_amount": "1", "sessions_per": "week",
            "quorum": "2", "allowed_slots": "Thu/PM",
            "member_ids": "\n".join(emails[p] for p in (small.ada, small.ben, small.cara))}
    refused = manager.post(url, data={**form, "member_ids": emails[small.ada] + "\n"
                                      + emails[small.ben], "quorum": "1",
                                      "lead_person_id": str(small.cara)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "There is a problem" in html
    assert ('<a href="#lead_person_id">Cara Mensah is not a member of this team; add them to '
            'the members first</a>') in html

    saved = manager.post(url, data={**form, "lead_person_id": str(small.cara)},
                         follow_redirects=True)
    assert saved.status_code == 200
    db.session.expire_all()
    assert db.session.get(Team, small.team).lead_person_id == small.cara  # type: ignore[union-attr]
    listing = manager.get("/manage/teams").get_data(as_text=True)
    assert "Lead person" in listing and "Cara Mensah" in listing


# -- the change page --------------------------------------------------------------------------


def test_the_change_page_offers_a_member_only_cannot_attend(app: Flask, led: Published) -> None:
    session = week_one(led)
    member = other_member(session, led.small)
    page = signed_in(app, UserRole.LEADER, member).get(
        f"/me/sessions/{attendance(session, member)}/change")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Only the team's lead can ask to move a team session: Ben Adeyemi leads KCH " \
           "leadership team and can ask to move its sessions." in html
    assert 'value="team_move"' not in html and "Ask for this" not in html
    assert 'value="cannot_attend"' in html and "the team needs 2 (its quorum)" in html


def test_the_change_page_offers_the_lead_the_moves(app: Flask, led: Published) -> None:
    session = week_one(led)
    ben = led.small.ben
    client = signed_in(app, UserRole.LEADER, ben)
    link = f"/me/sessions/{attendance(session, ben)}/change"
    html = client.get(link).get_data(as_text=True)
    assert "Move the team session" in html and 'value="team_move"' in html
    slot = re.search(r'name="to_slot" value="([^"]+)"', html)
    assert slot is not None
    asked = client.post(link, data={"csrf_token": token(html), "kind": "team_move",
                                    "to_slot": slot.group(1)}, follow_redirects=True)
    assert asked.status_code == 200
    db.session.expire_all()
    moved = db.session.get(ProtectedSession, session.id)
    assert moved is not None
    assert moved.slot == slot.group(1) or "a rota manager will decide" in asked.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id)).where(
        Attendance.session_id == session.id)) >= 2


# -- invitations after an approved team move ----------------------------------------------------


def test_a_team_move_that_leaves_a_member_behind_cancels_it_for_them(
        led: Published, client: FlaskClient, leader: Headers, rota: dict[str, str],
        make: Callable[..., Any], smtp_server: Any) -> None:
    import icalendar

    from sel_time.mail import deliver_pending
    from sel_time.models import Department

    from .test_invitations import calendar_part, choose, email_of

    small = led.small
    session = week_one(led)
    assert {a.person_id for a in session.attendances} == {small.ben, small.cara}
    uid = session.uid
    to = "2027-04-27/PM" if session.slot == "2027-04-29/PM" else "2027-04-29/PM"
    for person in (small.ben, small.cara):
        choose(client, leader(person), "email")
    # Cara is away at the new time; the department may now let two away, so Ada can come.
    make("absences", person_id=small.cara, kind="other", start_date=to[:10], start_half="PM",
         end_date=to[:10], end_half="PM")
    records.update(records.ENTITIES["departments"], db.session.get(Department, small.ed),
                   {"max_away": 2}, CLI_ACTOR)
    db.session.commit()

    r = client.post("/api/v1/requests", json={
        "kind": "team_move", "attendance_id": attendance(session, small.ben), "to_slot": to},
        headers=leader(small.ben))
    assert r.status_code == 201, r.get_json()
    if r.get_json()["status"] == "pending":  # it costs more than the rule approves alone
        d = client.post(f"/api/v1/requests/{r.get_json()['id']}/decision",
                        json={"approve": True}, headers=rota)
        assert d.status_code == 200 and d.get_json()["status"] == "approved", d.get_json()
    db.session.expire_all()
    moved = db.session.get(ProtectedSession, session.id)
    assert moved is not None and moved.slot == to and moved.sequence == 1
    assert {a.person_id for a in moved.attendances} == {small.ben, small.ada}

    deliver_pending()
    about_team = {}
    for got in smtp_server.received:
        if not any(p.get_content_type() == "text/calendar" for p in got.message.walk()):
            continue  # a notice (the decision), not an invitation
        method, body = calendar_part(got)
        [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(event["UID"]) == uid:
            about_team[got.rcpt_tos[0]] = (method, int(event["SEQUENCE"]))
    assert about_team == {email_of(small.cara): ("CANCEL", 1),
                          email_of(small.ben): ("REQUEST", 1)}

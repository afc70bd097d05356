"""Feed URLs and one-click record links answer to the present, not to what was true when they
were issued: an unlinked or deactivated user's feeds end (through the WSGI fast path with a
warm cache as well as the full path), a feed reset ends the record links its old feed carried,
each kind of signed link verifies only as itself and only under this server's key, a
department's feed shows a team session only as its own people's time, the one-click page keeps
the saved note and is never cached, and an https deployment never offers a plain-http
subscription."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from sel_time.core.extensions import db
from sel_time.delivery import recording
from sel_time.feeds import service
from sel_time.models import Attendance, FeedKind, Outcome, Person, ProtectedSession, User
from tests.feeds_db.calendars import events
from tests.feeds_db.conftest import Roster, insert_session
from tests.feeds_db.test_feed_access import assert_same_as_unknown

Links = Callable[[dict[str, str], str, int], str]
UserOf = Callable[[int], tuple[User, dict[str, str]]]
BASE = "https://sel-time.example.nhs.uk"


@pytest.fixture()
def sessions(roster: Roster) -> dict[str, ProtectedSession]:
    """Ada's session last week (recordable) and next year, and the team's (Ada, Ben, Cara)."""
    return {
        "past": insert_session("2026-11-24/AM", person_id=roster.ada,
                               assignment_id=roster.ada_assignment),
        "future": insert_session("2027-07-13/PM", person_id=roster.ada,
                                 assignment_id=roster.ada_assignment),
        "team": insert_session("2027-07-15/PM", team_id=roster.team,
                               attendees=(roster.ada, roster.ben, roster.cara)),
    }


def record_link(client: FlaskClient, feed: str, session: ProtectedSession) -> str:
    """The one-click link of ``session`` in a person feed, as a path on this server."""
    url = str(events(client.get(feed).get_data())[session.uid]["URL"])
    assert url.startswith(f"{BASE}/record/")
    return url.removeprefix(BASE)


def attendance(session: ProtectedSession, person_id: int) -> Attendance:
    db.session.expire_all()
    row = db.session.scalar(sa.select(Attendance).where(Attendance.session_id == session.id,
                                                        Attendance.person_id == person_id))
    assert row is not None
    return row


def fast_path_answer(app: Flask, path: str) -> Any:
    """What the WSGI fast path (the cache in front of Flask) answers, or None if it passes the
    request on to the full path."""
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "192.0.2.10"}
    return app.wsgi_app._answer(environ, "GET", token)  # type: ignore[attr-defined]


# -- an unlinked or deactivated user's feeds end --------------------------------------------------


def test_an_unlinked_users_feeds_answer_404_through_both_paths(
        app: Flask, roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links, login_as: Callable[..., dict[str, str]]) -> None:
    user, headers = user_of(roster.ada)
    warm = feed_link(headers, "person", roster.ada)  # served from the cache by the fast path
    cold = {kind: feed_link(headers, kind, target)  # never fetched: only the full path can answer
            for kind, target in (("team", roster.team), ("department", roster.ed))}
    assert client.get(warm).status_code == 200
    assert fast_path_answer(app, warm)[0] == "200 OK"

    admin = login_as("admin")
    response = client.patch(f"/api/v1/users/{user.id}", json={"person_id": None}, headers=admin)
    assert response.status_code == 200, response.get_json()

    assert fast_path_answer(app, warm) is None
    assert_same_as_unknown(client, warm)
    for path in cold.values():
        assert_same_as_unknown(client, path)
    # Linking the user back to the same person does not revive what was issued before.
    assert client.patch(f"/api/v1/users/{user.id}", json={"person_id": roster.ada},
                        headers=admin).status_code == 200
    assert_same_as_unknown(client, warm)


@pytest.mark.parametrize("change", ["unlinked", "linked to someone else", "made finance"])
def test_the_fast_path_checks_the_holder_as_they_are_now(
        change: str, app: Flask, roster: Roster, sessions: dict[str, ProtectedSession],
        client: FlaskClient, user_of: UserOf, feed_link: Links) -> None:
    """However the user changed (here straight in the database, as deleting their person does
    with its ON DELETE SET NULL), a warm cache does not keep their feed alive."""
    from sel_time.models import UserRole

    user, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    assert client.get(path).status_code == 200
    assert fast_path_answer(app, path) is not None
    if change == "unlinked":
        user.person_id = None
    elif change == "linked to someone else":
        user.person_id = roster.dan
    else:
        user.role = UserRole.FINANCE
    db.session.commit()
    assert fast_path_answer(app, path) is None
    assert_same_as_unknown(client, path)


def test_a_deactivated_user_loses_feeds_and_record_links(
        roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links, login_as: Callable[..., dict[str, str]]) -> None:
    user, headers = user_of(roster.ada)
    feed = feed_link(headers, "person", roster.ada)
    link = record_link(client, feed, sessions["past"])
    assert client.get(link).status_code == 200
    admin = login_as("admin")
    assert client.patch(f"/api/v1/users/{user.id}", json={"active": False},
                        headers=admin).status_code == 200
    assert_same_as_unknown(client, feed)
    response = client.post(link, data={"outcome": "lost_sickness"})
    assert response.status_code == 404
    assert "This link is no longer valid" in response.get_data(as_text=True)
    assert attendance(sessions["past"], roster.ada).outcome is None
    # Active again: the old feed stays revoked, and so do the old record links.
    assert client.patch(f"/api/v1/users/{user.id}", json={"active": True},
                        headers=admin).status_code == 200
    assert_same_as_unknown(client, feed)
    assert client.get(link).status_code == 404


def test_unlinking_ends_the_record_links(
        roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links, login_as: Callable[..., dict[str, str]]) -> None:
    user, headers = user_of(roster.ada)
    link = record_link(client, feed_link(headers, "person", roster.ada), sessions["past"])
    assert client.patch(f"/api/v1/users/{user.id}", json={"person_id": None},
                        headers=login_as("admin")).status_code == 200
    response = client.post(link, data={"outcome": "lost_other"})
    assert response.status_code == 404
    assert attendance(sessions["past"], roster.ada).outcome is None


# -- one-click record links: revocable, single-purpose, this server's ----------------------------


@pytest.mark.parametrize("how", ["reset", "revoke"])
def test_a_feed_reset_ends_the_record_links_of_the_old_feed(
        how: str, roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links) -> None:
    _, headers = user_of(roster.ada)
    old_feed = feed_link(headers, "person", roster.ada)
    old_link = record_link(client, old_feed, sessions["past"])
    assert client.get(old_link).status_code == 200
    if how == "reset":
        new_feed = feed_link(headers, "person", roster.ada)
    else:
        [item] = client.get("/api/v1/feeds", headers=headers).get_json()["items"]
        assert client.delete(f"/api/v1/feeds/{item['id']}", headers=headers).status_code == 204
        new_feed = feed_link(headers, "person", roster.ada)

    for method in ("GET", "POST"):
        response = client.open(old_link, method=method, data={"outcome": "lost_sickness"})
        assert response.status_code == 404
        assert "This link is no longer valid" in response.get_data(as_text=True)
    assert attendance(sessions["past"], roster.ada).outcome is None
    # The new feed carries new links, which work.
    new_link = record_link(client, new_feed, sessions["past"])
    assert new_link != old_link
    assert client.post(new_link, data={"outcome": "taken"}).status_code == 200
    assert attendance(sessions["past"], roster.ada).outcome == Outcome.TAKEN


def test_a_feed_token_is_not_a_record_token_nor_the_other_way_round(
        app: Flask, roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links) -> None:
    _, headers = user_of(roster.ada)
    feed = feed_link(headers, "person", roster.ada)
    link = record_link(client, feed, sessions["past"])
    feed_secret = feed.removeprefix("/feeds/").removesuffix(".ics")
    record_secret = link.removeprefix("/record/")

    response = client.post(f"/record/{feed_secret}", data={"outcome": "taken"})
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert_same_as_unknown(client, f"/feeds/{record_secret}.ics")
    assert_same_as_unknown(client, f"/feeds/{record_secret[:50]}.ics")  # cut to a feed's length
    assert attendance(sessions["past"], roster.ada).outcome is None


def test_other_signed_values_of_the_app_are_not_record_links(
        app: Flask, roster: Roster, sessions: dict[str, ProtectedSession],
        client: FlaskClient) -> None:
    """The record link's key is derived for that purpose alone: the same payload signed by the
    session-cookie serializer, or by the old one-click scheme (no generation), is refused."""
    att = attendance(sessions["past"], roster.ada)
    payload = {"a": att.id, "p": roster.ada, "g": 0, "e": 2_000_000_000}
    cookie = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    old_scheme = URLSafeSerializer(app.config["SECRET_KEY"], salt="sel-time/delivery-record")
    for token in (cookie.dumps(payload),
                  old_scheme.dumps({"a": att.id, "p": roster.ada, "e": 2_000_000_000})):
        response = client.post(f"/record/{token}", data={"outcome": "lost_sickness"})
        assert response.status_code == 404, token
        assert "This link is not valid" in response.get_data(as_text=True)
    assert attendance(sessions["past"], roster.ada).outcome is None
    # The genuine link of that attendance works.
    genuine = recording.delivery_link_token(att)
    assert client.get(f"/record/{genuine}").status_code == 200


def test_a_record_link_signed_with_another_secret_key_is_refused(
        app: Flask, roster: Roster, sessions: dict[str, ProtectedSession],
        client: FlaskClient) -> None:
    att = attendance(sessions["past"], roster.ada)
    key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "dev-only-not-secret"  # the public development key
    try:
        forged = recording.delivery_link_token(att)
    finally:
        app.config["SECRET_KEY"] = key
    assert forged != recording.delivery_link_token(att)
    response = client.post(f"/record/{forged}", data={"outcome": "lost_sickness"})
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert attendance(sessions["past"], roster.ada).outcome is None


def test_the_one_click_page_keeps_the_saved_note(
        roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links) -> None:
    _, headers = user_of(roster.ada)
    link = record_link(client, feed_link(headers, "person", roster.ada), sessions["past"])
    att = attendance(sessions["past"], roster.ada)
    att.note = "Covered by Dr Patel; finished the rota review"
    db.session.commit()
    assert client.post(link, data={"outcome": "partial", "percent": "50"}).status_code == 200
    row = attendance(sessions["past"], roster.ada)
    assert (row.outcome, row.fraction_taken) == (Outcome.PARTIAL, 0.5)
    assert row.note == "Covered by Dr Patel; finished the rota review"


def test_the_record_page_is_never_stored_nor_sent_as_a_referrer(
        roster: Roster, sessions: dict[str, ProtectedSession], client: FlaskClient,
        user_of: UserOf, feed_link: Links) -> None:
    _, headers = user_of(roster.ada)
    link = record_link(client, feed_link(headers, "person", roster.ada), sessions["past"])
    for response in (client.get(link), client.post(link, data={"outcome": "taken"}),
                     client.post(link, data={"outcome": "nonsense"}), client.get(link + "x")):
        assert response.headers["Cache-Control"] == "no-store", response.status_code
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Content-Type"].startswith("text/html")


# -- department and organisation feeds: our people's time only ---------------------------------


def test_a_department_feed_shows_a_team_session_only_as_its_own_peoples_time(
        roster: Roster, client: FlaskClient, user_of: UserOf, feed_link: Links,
        make: Callable[..., Any], manager_link: Callable[[FeedKind, int], str]) -> None:
    """A system-wide team with members from two trusts: Ada's department feed shows that she and
    Ben are away, and nothing of the team's other members; a team none of the department is in
    is not in it at all; the organisation's feed has nobody from the other trust."""
    other = make("organisations", code="slam", name="South London and Maudsley")
    eve = make("people", organisation_id=other.id, name="Eve Nightingale",
               email="eve.nightingale@slam.nhs.uk", profession="nurse", band="8c")
    board = make("teams", code="sel-board", name="SEL mental health board", quorum=2,
                 member_ids=[roster.ada, roster.ben, roster.cara, eve.id])
    rest = make("teams", code="sel-quiet", name="Medicine and SLaM group", quorum=2,
                member_ids=[roster.dan, eve.id])
    shared = insert_session("2027-07-15/PM", team_id=board.id,
                            attendees=(roster.ada, roster.ben, roster.cara, eve.id))
    not_ours = insert_session("2027-07-16/PM", team_id=rest.id, attendees=(roster.dan, eve.id))
    _, headers = user_of(roster.ada)
    assert client.post("/api/v1/feeds", json={"kind": "team", "target_id": rest.id},
                       headers=headers).status_code == 403  # not hers

    body = client.get(feed_link(headers, "department", roster.ed)).get_data()
    found = events(body)
    assert not_ours.uid not in found
    event = found[shared.uid]
    assert "ATTENDEE" not in event and "ORGANIZER" not in event and "LOCATION" not in event
    assert str(event["SUMMARY"]) == "Ada Okafor, Ben Adeyemi: protected time (team)"
    text = body.decode()
    cara = db.session.get(Person, roster.cara)
    assert cara is not None
    for outsider in ("Eve Nightingale", "eve.nightingale@slam.nhs.uk", cara.name, cara.email,
                     "SEL mental health board"):
        assert outsider not in text

    org = client.get(manager_link(FeedKind.ORGANISATION, roster.org)).get_data().decode()
    assert shared.uid in org and not_ours.uid in org  # Dan's and Ada's time
    assert "Eve Nightingale" not in org and "slam.nhs.uk" not in org


def test_the_cached_department_feed_is_the_same_as_a_fresh_one(
        roster: Roster, client: FlaskClient, manager_link: Callable[[FeedKind, int], str]) -> None:
    """Rendering every feed at once (after a publish) gives the same bytes as one at a time."""
    shared = insert_session("2027-07-15/PM", team_id=roster.team,
                            attendees=(roster.ada, roster.ben, roster.cara))
    path = manager_link(FeedKind.DEPARTMENT, roster.med)
    one = client.get(path).get_data()
    service.mark_all_stale()
    db.session.commit()
    service.render_all()
    db.session.commit()
    assert client.get(path).get_data() == one
    assert str(events(one)[shared.uid]["SUMMARY"]) == "Cara Mensah: protected time (team)"


# -- subscription links keep TLS -----------------------------------------------------------------


@pytest.mark.parametrize("public_url,scheme", [("https://sel-time.example.nhs.uk", "webcals://"),
                                               ("http://127.0.0.1:5000", "webcal://")])
def test_subscription_links_keep_the_deployments_tls(
        public_url: str, scheme: str, app: Flask, roster: Roster, client: FlaskClient,
        user_of: UserOf) -> None:
    app.config["PUBLIC_URL"] = public_url
    _, headers = user_of(roster.ada)
    response = client.post("/api/v1/feeds", json={"kind": "person", "target_id": roster.ada},
                           headers=headers)
    assert response.status_code == 201
    links = response.get_json()
    host = public_url.split("://", 1)[1]
    assert links["url"].startswith(f"{public_url}/feeds/")
    assert links["webcal"] == scheme + links["url"].split("://", 1)[1]
    assert links["webcal"].startswith(scheme + host)
    if public_url.startswith("https"):
        assert not any(v.startswith(("http://", "webcal://")) for v in links.values()
                       if isinstance(v, str))

"""What a subscribed calendar shows, read through ``GET /feeds/<token>.ics`` by two parsers:
the icalendar package and Mozilla's ical.js (Thunderbird's parser) under Node. Every event's
UTC start and end must be the published session's, in a GMT week, a BST week and the days
either side of both 2027 clock changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from feeds.parsers import parse_icalendar, vevent_lines
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import FeedKind, Person, ProtectedSession, RosterStatus
from tests.feeds_db.calendars import events, iso, times
from tests.feeds_db.conftest import LOCATION, NOW, Roster, insert_session

LONDON = ZoneInfo("Europe/London")

# (slot, whose) for individual sessions: Jan (GMT), Good Friday before the spring change (GMT),
# Easter Monday after it (BST), July (BST), the Friday before the autumn change (BST) and the
# Monday after it (GMT).
INDIVIDUAL = [
    ("2027-01-12/AM", "ada"),
    ("2027-01-12/PM", "ben"),
    ("2027-03-26/AM", "ada"),
    ("2027-03-26/PM", "dan"),
    ("2027-03-29/AM", "ada"),
    ("2027-03-29/PM", "cara"),
    ("2027-07-13/PM", "ada"),
    ("2027-07-14/AM", "dan"),
    ("2027-10-29/AM", "ada"),
    ("2027-10-29/PM", "ben"),
    ("2027-11-01/AM", "ada"),
    ("2027-11-01/PM", "cara"),
]
# Team sessions on the Thursdays either side of each change: (slot, attendees).
TEAM = [
    ("2027-03-25/PM", ("ada", "ben", "cara")),
    ("2027-04-01/PM", ("ada", "cara")),
    ("2027-10-28/PM", ("ada", "ben", "cara")),
    ("2027-11-04/PM", ("ben", "cara")),
]
LOCAL_HOURS = {"AM": (9, 13), "PM": (13, 17)}


@pytest.fixture()
def sessions(roster: Roster) -> dict[str, ProtectedSession]:
    """The roster above, by slot (team sessions as ``team:<slot>``), plus two that must not
    show: one cancelled long ago and a draft plan session."""
    ids = {"ada": roster.ada, "ben": roster.ben, "cara": roster.cara, "dan": roster.dan}
    out = {}
    for slot, who in INDIVIDUAL:
        pid = ids[who]
        out[slot] = insert_session(slot, person_id=pid, assignment_id=roster.assignments[pid])
    for slot, who in TEAM:
        out[f"team:{slot}"] = insert_session(
            slot, team_id=roster.team, attendees=tuple(ids[w] for w in who)
        )
    old = insert_session(
        "2027-02-02/AM",
        person_id=roster.ada,
        assignment_id=roster.ada_assignment,
        status=RosterStatus.CANCELLED,
        sequence=1,
    )
    old.last_modified = NOW - timedelta(days=30)
    db.session.commit()
    return out


def expected(
    sessions: dict[str, ProtectedSession], people: set[int] | None
) -> dict[str, ProtectedSession]:
    """The sessions a feed of these people (None: everyone) should hold, by UID."""
    return {
        s.uid: s
        for s in sessions.values()
        if people is None
        or s.person_id in people
        or any(a.person_id in people for a in s.attendances)
    }


def test_slots_are_at_local_wall_clock_times_on_both_sides_of_each_change(
    sessions: dict[str, ProtectedSession],
) -> None:
    # The premise of the comparisons below: the published UTC times are 09:00-13:00 and
    # 13:00-17:00 London time whether it is GMT or BST that day.
    offsets = set()
    for s in sessions.values():
        start, end = (t.astimezone(LONDON) for t in times(s))
        assert (start.hour, end.hour) == LOCAL_HOURS[s.slot[-2:]], s.slot
        assert start.date().isoformat() == s.slot[:10]
        offsets.add(start.utcoffset())
    assert offsets == {timedelta(0), timedelta(hours=1)}


@pytest.mark.parametrize("kind", ["person", "team", "department", "organisation"])
def test_every_event_is_at_the_published_utc_times_in_both_parsers(
    kind: str,
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
    icaljs: Callable[[bytes], dict[str, Any]],
) -> None:
    target, people = {
        "person": (roster.ada, {roster.ada}),
        "team": (roster.team, None),
        "department": (roster.ed, {roster.ada, roster.ben}),
        "organisation": (roster.org, None),
    }[kind]
    want = expected(sessions, people)
    if kind == "team":
        want = {uid: s for uid, s in want.items() if s.team_id == roster.team}
    response = client.get(manager_link(FeedKind(kind), target))
    assert response.status_code == 200
    body = response.get_data()

    by_icalendar = parse_icalendar(body)
    assert set(by_icalendar) == set(want)
    for uid, s in want.items():
        assert by_icalendar[uid] == times(s), s.slot

    parsed = icaljs(body)
    assert parsed["calendar"]["version"] == "2.0"
    assert parsed["calendar"]["method"] is None  # a feed, not an invitation
    by_js = {e["uid"]: e for e in parsed["events"]}
    assert set(by_js) == set(want)
    for uid, s in want.items():
        start, end = times(s)
        event = by_js[uid]
        assert (event["start"], event["end"]) == (iso(start), iso(end)), s.slot
        assert event["start_zone"] in ("Europe/London", "UTC"), event  # never floating
        assert event["status"] == "CONFIRMED"
    # Written in London time except where the wall clock cannot say which hour is meant.
    assert b"DTSTART;TZID=Europe/London:20270329T090000" in body or kind == "team"


def test_only_published_sessions_appear(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    solve: Callable[..., Any],
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
) -> None:
    draft = solve()  # a draft for the autumn fortnight, never published
    assert draft.sessions
    body = client.get(manager_link(FeedKind.ORGANISATION, roster.org)).get_data()
    assert set(events(body)) == {s.uid for s in sessions.values()}
    assert b"20270202" not in body  # cancelled a month ago: gone, not shown as happening


def test_uids_are_stable_identities(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
) -> None:
    person = events(client.get(manager_link(FeedKind.PERSON, roster.ada)).get_data())
    org = events(client.get(manager_link(FeedKind.ORGANISATION, roster.org)).get_data())
    # The same session has the same UID in every feed it is in, and it is the roster's.
    assert set(person) <= set(org)
    assert set(org) == {s.uid for s in sessions.values()}
    assert all(uid.endswith("@sel-time") for uid in org)


def test_events_say_what_the_time_is_for(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
) -> None:
    individual, team = sessions["2027-07-13/PM"], sessions["team:2027-03-25/PM"]
    body = client.get(manager_link(FeedKind.PERSON, roster.ada)).get_data()
    mine = events(body)

    event = mine[individual.uid]
    assert str(event["SUMMARY"]) == "Protected time: Clinical Director, Emergency Care"
    description = str(event["DESCRIPTION"])
    assert "Ada Okafor as Clinical Director, Emergency Care" in description
    assert "Leads clinical director, emergency care across the trust." in description
    url = str(event["URL"])
    assert url.startswith("https://sel-time.example.nhs.uk/record/")
    assert f"Record whether this time was taken: {url}" in description
    assert "LOCATION" not in event

    event = mine[team.uid]
    assert str(event["SUMMARY"]) == "Team protected time: KCH leadership team"
    assert str(event["LOCATION"]) == LOCATION
    assert "Attending: Ada Okafor, Ben Adeyemi, Cara Mensah." in str(event["DESCRIPTION"])
    attendees = {a.params["CN"]: str(a) for a in event["ATTENDEE"]}
    assert attendees == {
        p.name: f"mailto:{p.email}"
        for p in (db.session.get(Person, pid) for pid in (roster.ada, roster.ben, roster.cara))
        if p is not None
    }
    assert len(attendees) == 3
    assert str(event["URL"]).startswith("https://sel-time.example.nhs.uk/record/")
    assert any(line.startswith("ORGANIZER") for line in vevent_lines(body, team.uid))

    # The department feed names whose time it is.
    dept = events(client.get(manager_link(FeedKind.DEPARTMENT, roster.ed)).get_data())
    assert str(dept[individual.uid]["SUMMARY"]) == (
        "Ada Okafor: protected time (Clinical Director, Emergency Care)"
    )
    assert "URL" not in dept[individual.uid]  # the record link is only in the leader's own feed


def test_calendar_is_named_and_coloured(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
    icaljs: Callable[[bytes], dict[str, Any]],
) -> None:
    body = client.get(manager_link(FeedKind.TEAM, roster.team)).get_data()
    calendar = icaljs(body)["calendar"]
    assert (
        calendar["name"] == calendar["x-wr-calname"] == "Team protected time – KCH leadership team"
    )
    assert calendar["prodid"] == "-//sel-time//protected time//EN"
    lines = body.decode().split("\r\n")
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in lines
    assert "X-PUBLISHED-TTL:PT6H" in lines
    assert any(line.startswith("COLOR:") for line in lines)
    assert not any(line.startswith("METHOD") for line in lines)


def test_window_keeps_four_weeks_back(
    roster: Roster, client: FlaskClient, manager_link: Callable[[FeedKind, int], str]
) -> None:
    recent = insert_session(
        "2026-11-10/AM", person_id=roster.ada, assignment_id=roster.ada_assignment
    )
    old = insert_session("2026-10-20/AM", person_id=roster.ada, assignment_id=roster.ada_assignment)
    assert NOW - recent.end_at < timedelta(weeks=4) < NOW - old.end_at
    got = events(client.get(manager_link(FeedKind.PERSON, roster.ada)).get_data())
    assert set(got) == {recent.uid}
    assert got[recent.uid].start.astimezone(UTC) == recent.start_at

"""``sel-time export-ics`` and ``feed-link``, and the one-click page a leader's calendar event
links to for recording whether the time was taken."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from icalendar import Calendar

from sel_time.core.extensions import db
from sel_time.models import Attendance, FeedKind, Outcome, Person, ProtectedSession, User
from tests.feeds_db.calendars import events
from tests.feeds_db.conftest import Roster, insert_session

UserOf = Callable[[int], tuple[User, dict[str, str]]]
Links = Callable[[dict[str, str], str, int], str]


@pytest.fixture()
def sessions(roster: Roster) -> dict[str, ProtectedSession]:
    return {
        "past": insert_session(
            "2026-11-24/AM", person_id=roster.ada, assignment_id=roster.ada_assignment
        ),
        "future": insert_session(
            "2027-07-13/PM", person_id=roster.ada, assignment_id=roster.ada_assignment
        ),
        "team": insert_session(
            "2026-11-26/PM", team_id=roster.team, attendees=(roster.ada, roster.cara)
        ),
        "ben": insert_session(
            "2027-03-29/AM", person_id=roster.ben, assignment_id=roster.ben_assignment
        ),
        "dan": insert_session(
            "2027-10-29/PM", person_id=roster.dan, assignment_id=roster.dan_assignment
        ),
    }


# -- export-ics ----------------------------------------------------------------------------------


def test_export_ics_writes_every_feed_with_findable_names(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    runner: FlaskCliRunner,
    client: FlaskClient,
    manager_link: Callable[[FeedKind, int], str],
    tmp_path: Path,
) -> None:
    out = tmp_path / "feeds"
    result = runner.invoke(args=["sel-time", "export-ics", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 8 feeds" in result.output

    people = {p.id: p for p in db.session.scalars(sa.select(Person))}
    expected = {
        f"people/{slug}-{pid}.ics": (FeedKind.PERSON, pid)
        for slug, pid in (
            ("ada-okafor", roster.ada),
            ("ben-adeyemi", roster.ben),
            ("cara-mensah", roster.cara),
            ("dan-o-neill", roster.dan),
        )
    }
    expected |= {
        "teams/kch-lt.ics": (FeedKind.TEAM, roster.team),
        "departments/kch-ed.ics": (FeedKind.DEPARTMENT, roster.ed),
        "departments/kch-med.ics": (FeedKind.DEPARTMENT, roster.med),
        "organisations/kch.ics": (FeedKind.ORGANISATION, roster.org),
    }
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert written == set(expected)

    for name, (kind, target_id) in expected.items():
        body = (out / name).read_bytes()
        calendar = Calendar.from_ical(body)
        assert calendar["VERSION"] == "2.0"
        if kind == FeedKind.PERSON:
            assert people[target_id].name in str(calendar["X-WR-CALNAME"])
        # The file is the feed a subscriber gets.
        assert client.get(manager_link(kind, target_id)).get_data() == body
    org = events((out / "organisations/kch.ics").read_bytes())
    assert set(org) == {s.uid for s in sessions.values()}


def test_export_ics_with_nothing_published(
    roster: Roster, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(args=["sel-time", "export-ics", "--out", str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    assert "Wrote 0 feeds" in result.output


def test_feed_link_command_prints_a_working_url(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    runner: FlaskCliRunner,
    client: FlaskClient,
    user_of: UserOf,
) -> None:
    user, _ = user_of(roster.ada)
    result = runner.invoke(args=["sel-time", "feed-link", "--user", user.email])
    assert result.exit_code == 0, result.output
    url = next(
        line for line in result.output.splitlines() if "/feeds/" in line and line.startswith("http")
    )
    response = client.get(url.removeprefix("https://sel-time.example.nhs.uk"))
    assert response.status_code == 200
    assert set(events(response.get_data())) == {sessions[k].uid for k in ("past", "future", "team")}
    result = runner.invoke(
        args=[
            "sel-time",
            "feed-link",
            "--user",
            user.email,
            "--kind",
            "team",
            "--target",
            str(roster.team + 100),
        ]
    )
    assert result.exit_code == 2


# -- the one-click record page -------------------------------------------------------------------


def record_paths(client: FlaskClient, path: str) -> dict[str, str]:
    """The record link of each event in a feed, by UID, as a path on this server."""
    out = {}
    for uid, event in events(client.get(path).get_data()).items():
        url = str(event["URL"])
        assert url in str(event["DESCRIPTION"])  # Outlook and Google do not show URL
        out[uid] = url.removeprefix("https://sel-time.example.nhs.uk")
    return out


def attendance(session: ProtectedSession, person_id: int) -> Attendance:
    db.session.expire_all()
    row = db.session.scalar(
        sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.person_id == person_id
        )
    )
    assert row is not None
    return row


def test_record_link_records_a_past_session(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
) -> None:
    user, headers = user_of(roster.ada)
    feed = feed_link(headers, "person", roster.ada)
    etag = client.get(feed).headers["ETag"]
    links = record_paths(client, feed)
    past = links[sessions["past"].uid]
    assert past.startswith("/record/")

    page = client.get(past)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Was this protected time taken?" in text
    assert "Clinical Director, Emergency Care" in text and "Tue 24 Nov AM" in text
    assert 'name="robots" content="noindex"' in text

    response = client.post(past, data={"outcome": "taken"})
    assert response.status_code == 200
    assert "Recorded: taken" in response.get_data(as_text=True)
    row = attendance(sessions["past"], roster.ada)
    assert (row.outcome, row.fraction_taken) == (Outcome.TAKEN, 1.0)
    assert row.recorded_by == f"link:{db.session.get(Person, roster.ada).email}"  # type: ignore[union-attr]

    # It can be corrected, to part of the session.
    response = client.post(past, data={"outcome": "partial", "percent": "40"})
    assert response.status_code == 200
    row = attendance(sessions["past"], roster.ada)
    assert (row.outcome, row.fraction_taken) == (Outcome.PARTIAL, 0.4)

    # Recording does not change the feed.
    assert client.get(feed).headers["ETag"] == etag


def test_record_link_of_a_team_session(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
) -> None:
    _, headers = user_of(roster.cara)
    link = record_paths(client, feed_link(headers, "person", roster.cara))[sessions["team"].uid]
    assert "Team: KCH leadership team" in client.get(link).get_data(as_text=True)
    assert client.post(link, data={"outcome": "lost_clinical_pressure"}).status_code == 200
    assert attendance(sessions["team"], roster.cara).outcome == Outcome.LOST_CLINICAL
    assert attendance(sessions["team"], roster.ada).outcome is None  # only hers


def test_record_link_refuses_a_future_session(
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
) -> None:
    _, headers = user_of(roster.ada)
    link = record_paths(client, feed_link(headers, "person", roster.ada))[sessions["future"].uid]
    assert client.get(link).status_code == 200
    response = client.post(link, data={"outcome": "taken"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text and "The session has not started yet" in text
    assert "starts Tue 13 Jul 13:00" in text  # London time, in BST
    assert attendance(sessions["future"], roster.ada).outcome is None


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, lambda t: "nope"],
)
def test_a_tampered_record_link_is_refused(
    mangle: Callable[[str], str],
    roster: Roster,
    sessions: dict[str, ProtectedSession],
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
) -> None:
    _, headers = user_of(roster.ada)
    link = record_paths(client, feed_link(headers, "person", roster.ada))[sessions["past"].uid]
    token = link.removeprefix("/record/")
    for method in ("GET", "POST"):
        response = client.open(f"/record/{mangle(token)}", method=method, data={"outcome": "taken"})
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)
    assert attendance(sessions["past"], roster.ada).outcome is None

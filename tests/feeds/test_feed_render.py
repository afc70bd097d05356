"""The rendered feed: required properties, stable bytes, event content and client quirks."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from icalendar import Calendar

from sel_time.feeds import render
from sel_time.feeds.render import (
    PRODID,
    FeedCalendar,
    FeedEvent,
    etag_for,
    render_feed,
)
from tests.feeds.parsers import parse_icalendar, unfold, utc, vevent_lines


@pytest.fixture
def feed(make_event) -> FeedCalendar:
    """A leader's feed with an individual session, a team session and a cancelled one."""
    return FeedCalendar(
        name="Protected time: Dr Amara Okafor",
        description="Published protected leadership time (sel-time)",
        colour="teal",
        events=(
            make_event(
                uid="session-101@sel-time",
                start=utc(2027, 1, 11, 9),
                end=utc(2027, 1, 11, 13),
                location="Laurence House, Catford",
                sequence=2,
                url="https://sel-time.example/sessions/101/taken",
                categories=("Protected time", "PCN"),
            ),
            make_event(
                uid="session-102@sel-time",
                start=utc(2027, 1, 13, 13),
                end=utc(2027, 1, 13, 17),
                summary="Team session: Lewisham frailty leads",
                attendees=(
                    ("Dr Amara Okafor", "amara.okafor@nhs.net"),
                    ('Siân "Sue" Ó Briain', "sian.obriain@nhs.net"),
                ),
                organizer=("sel-time rota", "rota@sel-time.example"),
            ),
            make_event(
                uid="session-103@sel-time",
                start=utc(2027, 1, 15, 9),
                end=utc(2027, 1, 15, 13),
                status="CANCELLED",
                sequence=1,
            ),
        ),
    )


def test_calendar_properties(feed: FeedCalendar, icaljs) -> None:
    lines = unfold(render_feed(feed))
    assert lines[:4] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
    ]
    for line in (
        "NAME:Protected time: Dr Amara Okafor",
        "X-WR-CALNAME:Protected time: Dr Amara Okafor",
        "DESCRIPTION:Published protected leadership time (sel-time)",
        "X-WR-CALDESC:Published protected leadership time (sel-time)",
        "COLOR:teal",
        "X-APPLE-CALENDAR-COLOR:#008080",
        "X-WR-TIMEZONE:Europe/London",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
    ):
        assert line in lines
    assert lines[-2:] == ["END:VCALENDAR", ""]
    assert not [line for line in lines if line.startswith("METHOD")]
    parsed = icaljs(render_feed(feed))["calendar"]
    assert parsed["method"] is None
    assert (parsed["version"], parsed["prodid"], parsed["name"]) == (
        "2.0",
        PRODID,
        "Protected time: Dr Amara Okafor",
    )


def test_refresh_hint_follows_refresh_minutes(make_event) -> None:
    lines = unfold(render_feed(FeedCalendar(name="x", refresh_minutes=90)))
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H30M" in lines
    assert "X-PUBLISHED-TTL:PT1H30M" in lines


def test_every_event_has_the_required_properties(feed: FeedCalendar) -> None:
    body = render_feed(feed)
    for event in feed.events:
        names = {line.split(":")[0].split(";")[0] for line in vevent_lines(body, event.uid)}
        assert {
            "UID",
            "DTSTAMP",
            "DTSTART",
            "DTEND",
            "SUMMARY",
            "SEQUENCE",
            "LAST-MODIFIED",
            "STATUS",
            "TRANSP",
        } <= names, event.uid
    lines = vevent_lines(body, "session-101@sel-time")
    assert "DTSTART;TZID=Europe/London:20270111T090000" in lines
    assert "DTEND;TZID=Europe/London:20270111T130000" in lines
    assert "TRANSP:OPAQUE" in lines
    assert "LOCATION:Laurence House\\, Catford" in lines
    assert "CATEGORIES:Protected time,PCN" in lines
    assert "URL:https://sel-time.example/sessions/101/taken" in lines


def test_dtstamp_and_last_modified_come_from_the_event(feed: FeedCalendar) -> None:
    lines = vevent_lines(render_feed(feed), "session-101@sel-time")
    assert "DTSTAMP:20261120T103000Z" in lines
    assert "LAST-MODIFIED:20261120T103000Z" in lines


def test_sequence_and_status_are_as_given(feed: FeedCalendar, icaljs) -> None:
    body = render_feed(feed)
    assert "SEQUENCE:2" in vevent_lines(body, "session-101@sel-time")
    assert "STATUS:CONFIRMED" in vevent_lines(body, "session-101@sel-time")
    assert "SEQUENCE:1" in vevent_lines(body, "session-103@sel-time")
    assert "STATUS:CANCELLED" in vevent_lines(body, "session-103@sel-time")
    parsed = {e["uid"]: e for e in icaljs(body)["events"]}
    assert (
        parsed["session-103@sel-time"]["status"],
        parsed["session-103@sel-time"]["sequence"],
    ) == ("CANCELLED", 1)
    assert parsed["session-101@sel-time"]["sequence"] == 2


def test_team_sessions_list_attendees(feed: FeedCalendar, icaljs) -> None:
    body = render_feed(feed)
    lines = vevent_lines(body, "session-102@sel-time")
    assert (
        'ATTENDEE;CN="Dr Amara Okafor";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:'
        "mailto:amara.okafor@nhs.net"
    ) in lines
    # A double quote cannot sit in a parameter value; it becomes an apostrophe.
    assert any("CN=\"Siân 'Sue' Ó Briain\"" in line for line in lines)
    assert 'ORGANIZER;CN="sel-time rota":mailto:rota@sel-time.example' in lines
    attendees = {e["uid"]: e["attendees"] for e in icaljs(body)["events"]}
    assert attendees["session-102@sel-time"] == [
        {"cn": "Dr Amara Okafor", "value": "mailto:amara.okafor@nhs.net"},
        {"cn": "Siân 'Sue' Ó Briain", "value": "mailto:sian.obriain@nhs.net"},
    ]
    assert attendees["session-101@sel-time"] == []


def test_record_link_is_also_in_the_description(feed: FeedCalendar) -> None:
    """Outlook and Google do not show URL, so the link goes into the description too."""
    calendar = Calendar.from_ical(render_feed(feed))
    event = next(e for e in calendar.events if str(e["UID"]) == "session-101@sel-time")
    assert str(event["DESCRIPTION"]) == (
        "Lewisham PCN 3 · leadership of the frailty pathway\n\n"
        "Record whether this time was taken: https://sel-time.example/sessions/101/taken"
    )


def test_same_input_gives_same_bytes_and_etag(feed: FeedCalendar) -> None:
    body = render_feed(feed)
    render._vevent_bytes.cache_clear()
    render._vtimezone_bytes.cache_clear()
    with time_machine.travel(datetime(2031, 6, 1, 12, 0), tick=False):
        later = render_feed(feed)
    shuffled = list(feed.events)
    random.Random(7).shuffle(shuffled)
    reordered = render_feed(replace(feed, events=tuple(reversed(shuffled))))
    assert body == later == reordered
    assert etag_for(body) == etag_for(later) == etag_for(reordered)


def test_a_moved_session_changes_bytes_and_etag(feed: FeedCalendar) -> None:
    body = render_feed(feed)
    moved_event = replace(
        feed.events[0],
        start=feed.events[0].start + timedelta(days=1),
        end=feed.events[0].end + timedelta(days=1),
        sequence=3,
        last_modified=utc(2026, 11, 25, 8),
    )
    moved = render_feed(replace(feed, events=(moved_event, *feed.events[1:])))
    assert moved != body
    assert etag_for(moved) != etag_for(body)
    lines = vevent_lines(moved, "session-101@sel-time")
    assert "SEQUENCE:3" in lines
    assert "DTSTART;TZID=Europe/London:20270112T090000" in lines
    assert "DTSTAMP:20261125T080000Z" in lines


def test_a_removed_session_leaves_the_feed(feed: FeedCalendar) -> None:
    body = render_feed(replace(feed, events=feed.events[1:]))
    assert b"session-101@sel-time" not in body
    assert set(parse_icalendar(body)) == {"session-102@sel-time", "session-103@sel-time"}


def test_etag_is_strong_and_quoted() -> None:
    etag = etag_for(b"BEGIN:VCALENDAR\r\n")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert etag != etag_for(b"BEGIN:VCALENDAR\r\n ")


def test_lines_end_in_crlf_and_fold_within_75_octets(make_event) -> None:
    long_text = "Leadership development — Ysgol Gymraeg, Ærøskøbing, 東京 " * 8
    event = make_event(summary=long_text, description=long_text, location=long_text)
    body = render_feed(FeedCalendar(name="Dr Ŝ " * 30, events=(event,)))
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    physical = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    for line in physical:
        line.decode("utf-8")  # folding never splits a multi-byte character
    assert str(Calendar.from_ical(body).events[0]["SUMMARY"]) == long_text


def test_empty_feed_is_valid(icaljs) -> None:
    body = render_feed(FeedCalendar(name="Nothing published yet"))
    assert b"BEGIN:VTIMEZONE" in body
    assert icaljs(body)["events"] == []
    assert Calendar.from_ical(body).events == []


@pytest.mark.parametrize(
    ("colour", "css", "hex_"),
    [
        ("teal", "teal", "#008080"),
        ("Teal", "teal", "#008080"),
        ("#008080", "teal", "#008080"),
        ("#00807F", "teal", "#00807f"),
        ("#f00", "red", "#ff0000"),
        ("#005EB8", "royalblue", "#005eb8"),  # NHS blue: no CSS3 name, the nearest one
    ],
)
def test_colour_maps_to_css3_name_and_hex(colour: str, css: str, hex_: str) -> None:
    lines = unfold(render_feed(FeedCalendar(name="x", colour=colour)))
    assert f"COLOR:{css}" in lines
    assert f"X-APPLE-CALENDAR-COLOR:{hex_}" in lines


@pytest.mark.parametrize("colour", ["", "blurple", "#12345", "rgb(0,0,0)"])
def test_unknown_colour_is_refused(colour: str) -> None:
    with pytest.raises(ValueError, match="colour"):
        FeedCalendar(name="x", colour=colour)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": datetime(2027, 1, 11, 9)}, "start must be a timezone-aware"),
        ({"last_modified": datetime(2027, 1, 1)}, "last_modified must be"),
        ({"end": utc(2027, 1, 11, 9)}, "before it starts"),
        ({"status": "TENTATIVE"}, "status must be"),
        ({"sequence": -1}, "sequence"),
        ({"uid": ""}, "uid"),
        ({"uid": "a\r\nMETHOD:REQUEST"}, "uid"),
    ],
)
def test_invalid_events_are_refused(make_event, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_event(**overrides)


def test_duplicate_uids_are_refused(make_event) -> None:
    with pytest.raises(ValueError, match="duplicate event uids"):
        FeedCalendar(name="x", events=(make_event(), make_event()))


def test_lists_are_accepted_and_stored_as_tuples(make_event) -> None:
    event = make_event(attendees=[["A", "a@example.org"]], categories=["x"])
    assert event.attendees == (("A", "a@example.org"),)
    assert event.categories == ("x",)
    assert hash(event) == hash(make_event(attendees=[("A", "a@example.org")], categories=("x",)))
    assert isinstance(FeedCalendar(name="x", events=[event]).events, tuple)


def test_feed_event_is_frozen(make_event) -> None:
    event: FeedEvent = make_event()
    with pytest.raises(AttributeError):
        event.sequence = 5  # type: ignore[misc]


def test_icalendar_reserialises_the_feed_byte_for_byte(feed: FeedCalendar) -> None:
    """The feed is assembled from memoised parts; it must equal icalendar's own output."""
    body = render_feed(feed)
    assert Calendar.from_ical(body).to_ical() == body


def test_an_event_shared_by_feeds_is_rendered_identically(feed: FeedCalendar) -> None:
    team = FeedCalendar(name="Lewisham frailty leads", events=feed.events[1:2])
    leader_block = vevent_lines(render_feed(feed), "session-102@sel-time")
    render._vevent_bytes.cache_clear()
    assert vevent_lines(render_feed(team), "session-102@sel-time") == leader_block


_RENDER_SCRIPT = """
import sys
from datetime import UTC, datetime
from sel_time.feeds.render import FeedCalendar, FeedEvent, render_feed
t = lambda *a: datetime(*a, tzinfo=UTC)
events = [
    FeedEvent(uid=f"s{i}@sel-time", start=t(2027, 3, 26 + i, 9), end=t(2027, 3, 26 + i, 13),
              summary="Protected time", last_modified=t(2026, 11, 20), categories=("a", "b"),
              attendees=(("A", "a@example.org"), ("B", "b@example.org")), url="https://x/1")
    for i in range(4)
]
sys.stdout.buffer.write(render_feed(FeedCalendar(name="Seeds", colour="#005eb8", events=events)))
"""


def test_bytes_do_not_depend_on_the_process(tmp_path) -> None:
    """Two fresh interpreters with different hash seeds give the same bytes."""
    bodies = []
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _RENDER_SCRIPT],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).resolve().parents[2],
            check=True,
        )
        bodies.append(result.stdout)
    assert bodies[0] == bodies[1]
    assert bodies[0].startswith(b"BEGIN:VCALENDAR\r\n")

"""Every parser must read every session at the UTC instant the plan says, in GMT, in BST and
across both clock changes: icalendar (by TZID name), dateutil (our VTIMEZONE), ical.js (our
VTIMEZONE, as Thunderbird and, for the definition, Outlook read it)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from sel_time.feeds.render import FeedCalendar, FeedEvent, render_feed, vtimezone
from tests.feeds.parsers import UTC, parse_dateutil, parse_icalendar, utc, vevent_lines

# (uid, UTC start, UTC end, DTSTART as written, DTEND as written). The UTC instants are typed
# by hand from the UK rule (clocks change at 01:00 UTC on the last Sundays of March and
# October), not computed, so the tests do not share a mistake with the code.
# fmt: off
SESSIONS = [
    # A GMT week: Mon 11 - Fri 15 January 2027, local time = UTC.
    ("gmt-mon-am", utc(2027, 1, 11, 9), utc(2027, 1, 11, 13),
     "TZID=Europe/London:20270111T090000", "TZID=Europe/London:20270111T130000"),
    ("gmt-wed-pm", utc(2027, 1, 13, 13), utc(2027, 1, 13, 17),
     "TZID=Europe/London:20270113T130000", "TZID=Europe/London:20270113T170000"),
    ("gmt-thu-eve", utc(2027, 1, 14, 18, 30), utc(2027, 1, 14, 20),
     "TZID=Europe/London:20270114T183000", "TZID=Europe/London:20270114T200000"),
    ("gmt-fri-gp", utc(2027, 1, 15, 9), utc(2027, 1, 15, 13, 10),
     "TZID=Europe/London:20270115T090000", "TZID=Europe/London:20270115T131000"),
    # A BST week: Mon 12 - Fri 16 July 2027, local time = UTC + 1.
    ("bst-mon-am", utc(2027, 7, 12, 8), utc(2027, 7, 12, 12),
     "TZID=Europe/London:20270712T090000", "TZID=Europe/London:20270712T130000"),
    ("bst-wed-pm", utc(2027, 7, 14, 12), utc(2027, 7, 14, 16),
     "TZID=Europe/London:20270714T130000", "TZID=Europe/London:20270714T170000"),
    ("bst-fri-eve", utc(2027, 7, 16, 17, 30), utc(2027, 7, 16, 19),
     "TZID=Europe/London:20270716T183000", "TZID=Europe/London:20270716T200000"),
    # Spring forward, Sunday 28 March 2027 at 01:00 UTC (01:00 GMT -> 02:00 BST).
    ("spring-fri-before", utc(2027, 3, 26, 9), utc(2027, 3, 26, 13),
     "TZID=Europe/London:20270326T090000", "TZID=Europe/London:20270326T130000"),
    ("spring-sun-across", utc(2027, 3, 28, 0), utc(2027, 3, 28, 2),
     "TZID=Europe/London:20270328T000000", "TZID=Europe/London:20270328T030000"),
    ("spring-sun-0230", utc(2027, 3, 28, 1, 30), utc(2027, 3, 28, 2, 30),
     "TZID=Europe/London:20270328T023000", "TZID=Europe/London:20270328T033000"),
    ("spring-sun-after", utc(2027, 3, 28, 8), utc(2027, 3, 28, 12),
     "TZID=Europe/London:20270328T090000", "TZID=Europe/London:20270328T130000"),
    ("spring-mon-after", utc(2027, 3, 29, 8), utc(2027, 3, 29, 12),
     "TZID=Europe/London:20270329T090000", "TZID=Europe/London:20270329T130000"),
    ("spring-mon-pm", utc(2027, 3, 29, 12), utc(2027, 3, 29, 16),
     "TZID=Europe/London:20270329T130000", "TZID=Europe/London:20270329T170000"),
    # Fall back, Sunday 31 October 2027 at 01:00 UTC (02:00 BST -> 01:00 GMT).
    ("autumn-fri-before", utc(2027, 10, 29, 8), utc(2027, 10, 29, 12),
     "TZID=Europe/London:20271029T090000", "TZID=Europe/London:20271029T130000"),
    ("autumn-sat-late", utc(2027, 10, 30, 22), utc(2027, 10, 30, 23, 30),
     "TZID=Europe/London:20271030T230000", "TZID=Europe/London:20271031T003000"),
    ("autumn-sun-across", utc(2027, 10, 30, 23, 59), utc(2027, 10, 31, 2),
     "TZID=Europe/London:20271031T005900", "TZID=Europe/London:20271031T020000"),
    ("autumn-sun-after", utc(2027, 10, 31, 9), utc(2027, 10, 31, 13),
     "TZID=Europe/London:20271031T090000", "TZID=Europe/London:20271031T130000"),
    ("autumn-mon-after", utc(2027, 11, 1, 9), utc(2027, 11, 1, 13),
     "TZID=Europe/London:20271101T090000", "TZID=Europe/London:20271101T130000"),
    ("autumn-mon-pm", utc(2027, 11, 1, 13), utc(2027, 11, 1, 17),
     "TZID=Europe/London:20271101T130000", "TZID=Europe/London:20271101T170000"),
    # 01:30 happens twice on 31 October; a TZID time cannot say which, so UTC is written.
    ("autumn-ambiguous-bst", utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 0, 45),
     ":20271031T003000Z", ":20271031T004500Z"),
    ("autumn-ambiguous-gmt", utc(2027, 10, 31, 1, 30), utc(2027, 10, 31, 1, 45),
     ":20271031T013000Z", ":20271031T014500Z"),
]
# fmt: on
EXPECTED = {uid: (start, end) for uid, start, end, _, _ in SESSIONS}


@pytest.fixture(scope="module")
def body() -> bytes:
    """One feed holding every session above."""
    events = [
        FeedEvent(
            uid=uid,
            start=start,
            end=end,
            summary=f"Protected time ({uid})",
            last_modified=utc(2026, 11, 20, 10, 30),
        )
        for uid, start, end, _, _ in SESSIONS
    ]
    return render_feed(FeedCalendar(name="Clock changes", events=tuple(events)))


def test_local_times_are_written_as_a_leader_reads_them(body: bytes) -> None:
    for uid, _, _, dtstart, dtend in SESSIONS:
        sep = ";" if dtstart.startswith("TZID") else ""
        lines = vevent_lines(body, uid)
        assert f"DTSTART{sep}{dtstart}" in lines, uid
        assert f"DTEND{sep}{dtend}" in lines, uid


def test_icalendar_reads_every_session_at_its_utc_time(body: bytes) -> None:
    assert parse_icalendar(body) == EXPECTED


def test_dateutil_reads_our_vtimezone_like_tzdata(body: bytes) -> None:
    assert parse_dateutil(body) == EXPECTED


def test_icaljs_reads_every_session_at_its_utc_time(body: bytes, icaljs) -> None:
    parsed = icaljs(body)
    got = {
        e["uid"]: (datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]))
        for e in parsed["events"]
    }
    assert got == EXPECTED
    for event in parsed["events"]:
        zone = "UTC" if event["uid"].startswith("autumn-ambiguous") else "Europe/London"
        assert (event["start_zone"], event["end_zone"]) == (zone, zone), event["uid"]


def test_events_come_out_in_start_order(body: bytes, icaljs) -> None:
    uids = [e["uid"] for e in icaljs(body)["events"]]
    assert uids == [uid for uid, *_ in sorted(SESSIONS, key=lambda s: (s[1], s[0]))]


def _transitions(year: int) -> list[datetime]:
    """The two UK clock changes of `year`: 01:00 UTC on the last Sundays of March, October."""
    result = []
    for month in (3, 10):
        day = max(d for d in range(25, 32) if datetime(year, month, d).weekday() == 6)
        result.append(utc(year, month, day, 1))
    return result


@pytest.mark.parametrize("year", range(1996, 2038))
def test_rrule_vtimezone_matches_tzdata(year: int) -> None:
    """Our RRULE VTIMEZONE, read by dateutil, gives tzdata's offset either side of every change
    (the UK has used the EU rule since 1996)."""
    component = vtimezone("Europe/London", range(year, year + 1))
    assert "RRULE" in component.subcomponents[0]
    text = "BEGIN:VCALENDAR\r\n" + component.to_ical().decode() + "END:VCALENDAR\r\n"
    ours = dateutil_tz.tzical(io.StringIO(text)).get("Europe/London")
    tzdata = ZoneInfo("Europe/London")
    moments = [utc(year, 1, 1), utc(year, 7, 1)]
    for change in _transitions(year):
        moments += [change - timedelta(seconds=1), change, change + timedelta(hours=1)]
    for moment in moments:
        local = moment.astimezone(tzdata).replace(tzinfo=None)
        expected = moment.astimezone(tzdata).utcoffset()
        # Round-trip a wall time through our zone, skipping the repeated autumn hour.
        if (
            local.replace(tzinfo=tzdata, fold=0).utcoffset()
            == local.replace(tzinfo=tzdata, fold=1).utcoffset()
        ):
            assert local.replace(tzinfo=ours).utcoffset() == expected, moment


def test_years_before_the_eu_rule_get_explicit_transitions(make_event) -> None:
    """1970 was British Standard Time all year: the RRULE would be wrong, so RDATEs are used."""
    event = make_event(start=utc(1970, 1, 5, 9), end=utc(1970, 1, 5, 13))
    body = render_feed(FeedCalendar(name="History", events=(event,)))
    assert b"RRULE" not in body
    assert parse_icalendar(body)[event.uid] == (event.start, event.end)
    assert parse_dateutil(body)[event.uid] == (event.start, event.end)


def test_another_zone_renders_and_reads_back(make_event, icaljs) -> None:
    events = (
        make_event(uid="winter", start=utc(2027, 1, 11, 14), end=utc(2027, 1, 11, 18)),
        make_event(uid="summer", start=utc(2027, 7, 12, 13), end=utc(2027, 7, 12, 17)),
    )
    body = render_feed(FeedCalendar(name="Visitors", events=events), tz="America/New_York")
    assert b"DTSTART;TZID=America/New_York:20270111T090000" in body
    assert b"DTSTART;TZID=America/New_York:20270712T090000" in body
    expected = {e.uid: (e.start, e.end) for e in events}
    assert parse_icalendar(body) == expected
    got = {
        e["uid"]: (datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]))
        for e in icaljs(body)["events"]
    }
    assert got == expected


def test_aware_non_utc_input_is_accepted(make_event) -> None:
    london = ZoneInfo("Europe/London")
    event = make_event(
        start=datetime(2027, 7, 12, 9, tzinfo=london), end=datetime(2027, 7, 12, 13, tzinfo=london)
    )
    body = render_feed(FeedCalendar(name="x", events=(event,)))
    assert parse_icalendar(body)[event.uid] == (utc(2027, 7, 12, 8), utc(2027, 7, 12, 12))
    assert event.start.astimezone(UTC) == utc(2027, 7, 12, 8)


def test_london_vtimezone_is_the_canonical_rrule_form(body: bytes) -> None:
    """The exact form Outlook handles best: onsets at 01:00 GMT and 02:00 BST, in the local
    time before each change, repeating on the last Sunday of March and October. Parsers do not
    all agree about an onset written in another local time (ical.js misreads the hour before)."""
    text = body.decode()
    vtimezone_text = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]
    assert vtimezone_text.split("\r\n") == [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/London",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T010000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "TZNAME:BST",
        "TZOFFSETFROM:+0000",
        "TZOFFSETTO:+0100",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:19701025T020000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        "TZNAME:GMT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0000",
        "END:STANDARD",
        "",
    ]
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert text.index("END:VTIMEZONE") < text.index("BEGIN:VEVENT")

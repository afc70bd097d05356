"""The faster serialisation behind rendering every feed gives icalendar's own bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar.parser.string import _foldline

from sel_time.core.extensions import db
from sel_time.feeds import render, service
from sel_time.models import FeedKind
from tests.feeds_db.conftest import Roster, insert_session

# ASCII, the two escape characters the fold must not split, and 2-, 3- and 4-byte UTF-8.
ALPHABET = st.sampled_from(list("ab ;,:\\^\"") + ["ś", "é", "€", "中", "😀"])


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=400) | st.text(st.sampled_from("xy\\^"), max_size=400))
def test_fold_is_icalendars(line: str) -> None:
    assert render._fold(line) == _foldline(line)


def test_fold_of_boundary_lengths() -> None:
    for n in range(60, 160):
        for tail in ("", "\\", "^", "\\;", "ś", "😀"):
            line = "D" * n + tail + "x" * (n % 7)
            assert render._fold(line) == _foldline(line), (n, tail)


def test_events_and_calendars_serialise_as_icalendar_does(
    roster: Roster, make: Callable[..., Any]
) -> None:
    wiśniewska = make(
        "people",
        organisation_id=roster.org,
        department_id=roster.ed,
        name="Thivya Wiśniewska-O'Connor; \"Tiv\"",
        profession="consultant",
    )
    insert_session("2027-03-29/AM", person_id=roster.ada, assignment_id=roster.ada_assignment)
    insert_session(
        "2027-10-28/PM",
        team_id=roster.team,
        attendees=(roster.ada, roster.ben, roster.cara, wiśniewska.id),
    )
    zone = ZoneInfo("Europe/London")
    for kind, target in ((FeedKind.PERSON, roster.ada), (FeedKind.ORGANISATION, roster.org)):
        calendar = service.build_calendar(kind, target)
        assert calendar.events
        for event in calendar.events:
            assert (
                render._vevent_bytes(event, "Europe/London")
                == render._vevent(event, zone).to_ical()
            )
    db.session.rollback()

"""Python readers of rendered feeds: UTC (start, end) by event UID, and content lines."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from dateutil import tz as dateutil_tz
from icalendar import Calendar


def utc(*args: int) -> datetime:
    """An aware UTC datetime, written like `datetime(...)`."""
    return datetime(*args, tzinfo=UTC)


def parse_icalendar(body: bytes) -> dict[str, tuple[datetime, datetime]]:
    """UTC (start, end) of each event by UID, as the `icalendar` package reads the feed.

    icalendar resolves TZID=Europe/London by name through tzdata, so this checks the local
    times and TZIDs we wrote, independently of our VTIMEZONE definition.
    """
    calendar = Calendar.from_ical(body)
    return {
        str(event["UID"]): (event.start.astimezone(UTC), event.end.astimezone(UTC))
        for event in calendar.events
    }


def parse_dateutil(body: bytes) -> dict[str, tuple[datetime, datetime]]:
    """UTC (start, end) of each event by UID, using only the feed's own VTIMEZONE definitions.

    dateutil's `tzical` is a second, independent reader of VTIMEZONE RRULEs (as Outlook uses
    them); the wall-clock times come from icalendar's parse, with their zone swapped for it.
    """
    zones = dateutil_tz.tzical(io.StringIO(body.decode("utf-8")))
    result = {}
    for event in Calendar.from_ical(body).events:
        times = []
        for prop in ("DTSTART", "DTEND"):
            value = event[prop]
            moment = value.dt
            tzid = value.params.get("TZID")
            if tzid is not None:
                moment = moment.replace(tzinfo=zones.get(tzid))
            times.append(moment.astimezone(UTC))
        result[str(event["UID"])] = (times[0], times[1])
    return result


def unfold(body: bytes) -> list[str]:
    """The content lines of a feed, unfolded (RFC 5545 3.1)."""
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def vevent_lines(body: bytes, uid: str) -> list[str]:
    """The unfolded content lines inside the VEVENT with this UID."""
    lines = unfold(body)
    index = lines.index(f"UID:{uid}")
    start = max(i for i in range(index) if lines[i] == "BEGIN:VEVENT")
    end = lines.index("END:VEVENT", index)
    return lines[start + 1 : end]

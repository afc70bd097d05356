"""Python readers of rendered feeds, each returning UTC (start, end) by event UID."""

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

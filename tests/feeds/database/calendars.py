"""Reading feeds back in the tests: events by UID as the icalendar package sees them."""
from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from sel_time.models import ProtectedSession


def events(body: bytes) -> dict[str, Event]:
    """Each VEVENT of a feed by UID (failing on a duplicate UID)."""
    out: dict[str, Event] = {}
    for event in Calendar.from_ical(body).events:
        uid = str(event["UID"])
        assert uid not in out, f"duplicate UID {uid}"
        out[uid] = event
    return out


def times(session: ProtectedSession) -> tuple[datetime, datetime]:
    """A published session's UTC start and end, as the database holds them."""
    return session.start_at.astimezone(UTC), session.end_at.astimezone(UTC)


def iso(moment: datetime) -> str:
    """UTC as ical.js's ``toJSDate().toISOString()`` writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

"""E-mail invitations (iMIP, RFC 6047): one session as a ``METHOD:REQUEST`` (or ``CANCEL``)
calendar for one leader, with the same UID and SEQUENCE as the event in their feed, so that
Outlook/NHSmail and Gmail hold it in the leader's own calendar, shown busy, and an update
replaces it rather than adding a second."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar

from ..core.clock import UTC
from ..models import FeedKind, Person, ProtectedSession, RosterStatus
from .render import DEFAULT_TZ, PRODID, _address, _vevent, vtimezone
from .service import _event, public_base

METHODS = ("REQUEST", "CANCEL")


def organizer() -> tuple[str, str]:
    """(name, address) of the organiser: the configured sender of sel-time's mail."""
    name, address = parseaddr(str(current_app.config.get("SMTP_FROM") or ""))
    return (name or "sel-time", address or "no-reply@sel-time.invalid")


def invitation(session: ProtectedSession, person: Person, method: str, now: datetime) -> str:
    """The VCALENDAR of ``session`` for ``person``: REQUEST while it is theirs, CANCEL when it
    was removed or they no longer attend (STATUS:CANCELLED)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    base = public_base()
    event = _event(FeedKind.PERSON, person.id, session, base)
    event = dataclasses.replace(
        event, organizer=organizer(), attendees=(),
        status="CANCELLED" if method == "CANCEL" or session.status != RosterStatus.CONFIRMED
        else "CONFIRMED")
    tz = DEFAULT_TZ
    vevent = _vevent(event, ZoneInfo(tz))
    # With a METHOD, DTSTAMP is when this message was made (RFC 5545 3.8.7.2).
    vevent.pop("DTSTAMP")
    vevent.add("DTSTAMP", now.astimezone(UTC))
    vevent.add("ATTENDEE", _address(person.name, person.email, ROLE="REQ-PARTICIPANT",
                                    PARTSTAT="ACCEPTED" if method == "REQUEST" else "DECLINED",
                                    RSVP="FALSE"))
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    year = session.start_at.astimezone(ZoneInfo(tz)).year
    calendar.add_component(vtimezone(tz, range(year, year + 1)))
    calendar.add_component(vevent)
    return str(calendar.to_ical().decode("utf-8"))

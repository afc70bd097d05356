"""The one clock: aware UTC datetimes everywhere, Europe/London only at the edges."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def now_utc() -> datetime:
    """The current time as an aware UTC datetime (tests freeze it with time-machine)."""
    return datetime.now(UTC)


def today_london() -> date:
    """Today's date on the wall clocks of the people being rostered."""
    return now_utc().astimezone(LONDON).date()


def next_monday(today: date | None = None) -> date:
    """The Monday after ``today`` (by default today in London): a new plan's first day."""
    day = today or today_london()
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def monday_on_or_after(day: date) -> date:
    """The Monday on or after ``day``."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


def as_utc(value: datetime) -> datetime:
    """Aware UTC for a value read back from a database that drops the zone (SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

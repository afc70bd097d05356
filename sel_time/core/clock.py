"""The one clock: aware UTC datetimes everywhere, Europe/London only at the edges."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


def now_utc() -> datetime:
    """The current time as an aware UTC datetime (tests freeze it with time-machine)."""
    return datetime.now(UTC)


def today_london() -> date:
    """Today's date on the wall clocks of the people being rostered."""
    return now_utc().astimezone(LONDON).date()


def as_utc(value: datetime) -> datetime:
    """Aware UTC for a value read back from a database that drops the zone (SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

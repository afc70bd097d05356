"""The session calendar: which half-days of a horizon are working sessions (bank holidays and
working days), and when each starts and ends in London and in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from flask import current_app

from ..core.clock import UTC
from ..core.errors import FieldError, ValidationError
from ..core.slots import Template, parse_templates


@dataclass(frozen=True)
class SlotInfo:
    id: str  # "2026-03-02/AM"
    day: date
    half: str
    start_local: datetime  # naive wall-clock
    end_local: datetime
    start_utc: datetime
    end_utc: datetime
    minutes: int


@lru_cache(maxsize=64)
def bank_holidays(year: int, subdiv: str = "ENG") -> frozenset[date]:
    """England (and Wales) bank holidays from the maintained ``holidays`` package."""
    return frozenset(holidays.country_holidays("GB", subdiv=subdiv, years=year).keys())


def is_working_day(day: date, working_days: frozenset[int], subdiv: str = "ENG") -> bool:
    return day.isoweekday() in working_days and day not in bank_holidays(day.year, subdiv)


@dataclass(frozen=True)
class Calendar:
    """Session templates, working days and bank holidays in one place."""

    templates: tuple[Template, ...]
    working_days: frozenset[int]
    tz: ZoneInfo
    subdiv: str = "ENG"

    @classmethod
    def from_config(cls) -> Calendar:
        cfg = current_app.config
        return cls(
            tuple(parse_templates(cfg["SESSION_TEMPLATES"])),
            frozenset(int(x) for x in str(cfg["WORKING_DAYS"]).split(",")),
            ZoneInfo(cfg["TIMEZONE"]),
            cfg.get("BANK_HOLIDAY_SUBDIV", "ENG"),
        )

    def working(self, day: date) -> bool:
        return is_working_day(day, self.working_days, self.subdiv)

    def working_days_between(self, first: date, last: date) -> int:
        n, day = 0, first
        while day <= last:
            n += self.working(day)
            day += timedelta(days=1)
        return n

    def slots(self, start: date, end: date) -> list[SlotInfo]:
        out = []
        day = start
        while day <= end:
            if self.working(day):
                for t in self.templates:
                    s_local = datetime.combine(day, t.start)
                    e_local = datetime.combine(day, t.end)
                    out.append(
                        SlotInfo(
                            f"{day.isoformat()}/{t.code}",
                            day,
                            t.code,
                            s_local,
                            e_local,
                            s_local.replace(tzinfo=self.tz).astimezone(UTC),
                            e_local.replace(tzinfo=self.tz).astimezone(UTC),
                            t.minutes,
                        )
                    )
            day += timedelta(days=1)
        return out

    @property
    def session_minutes(self) -> int:
        return self.templates[0].minutes


def slot_times(slot_id: str, cal: Calendar) -> tuple[datetime, datetime]:
    """UTC start and end of a slot id such as ``2026-03-02/AM``."""
    day_s, _, code = slot_id.partition("/")
    day = date.fromisoformat(day_s)
    for t in cal.templates:
        if t.code == code:
            return (
                datetime.combine(day, t.start).replace(tzinfo=cal.tz).astimezone(UTC),
                datetime.combine(day, t.end).replace(tzinfo=cal.tz).astimezone(UTC),
            )
    raise ValidationError("Unknown session", [FieldError("slot", f'no session template "{code}"')])

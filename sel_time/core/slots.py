"""Session slots: the session templates (``AM=09:00-13:00,PM=13:00-17:00``) and slot ids
(``2026-03-03/AM``: a London date and a session code) as people read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from ..models import WEEKDAYS


@dataclass(frozen=True)
class Template:
    code: str
    start: time
    end: time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


def parse_templates(spec: str) -> list[Template]:
    """``"AM=09:00-13:00,PM=13:00-17:00"`` → templates, in time order."""
    out = []
    for part in spec.split(","):
        code, _, span = part.strip().partition("=")
        start, _, end = span.partition("-")
        out.append(
            Template(
                code.strip(), time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
            )
        )
    out.sort(key=lambda t: t.start)
    return out


def slot_label(slot_id: str) -> str:
    """``2026-03-03/AM`` → ``Tue 3 Mar AM``."""
    day_s, _, code = slot_id.partition("/")
    day = date.fromisoformat(day_s)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%b} {code}"

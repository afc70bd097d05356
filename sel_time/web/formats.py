"""How pages write dates, half-days, money, months and stored codes for a reader: one place,
registered once as Jinja filters, so no page shows ``2027-01-18 AM``, ``£-213.70``, ``2026-12``
or ``afc_band_8a``."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import Flask, current_app

from ..core.clock import LONDON
from ..core.slots import parse_templates
from ..models import (
    AbsenceKind,
    Borough,
    CommitmentUnit,
    FeedKind,
    OrgKind,
    Outcome,
    Period,
    PlanStatus,
    Profession,
    RoleLevel,
    RosterStatus,
    RunStatus,
    SessionKind,
    TeamKind,
    UserRole,
    WhatIfStatus,
)

MINUS = "\u2212"  # a real minus sign, as GOV.UK and NHS style write negative amounts

# Every stored code a page may show, with the words a reader expects; written once, here.
LABELS: dict[str, str] = {
    **{p.value: p.value.replace("_", " ").capitalize() for p in Profession},
    Profession.SAS_DOCTOR: "SAS doctor", Profession.GP: "GP",
    Profession.AHP: "Allied health professional",
    **{k.value: k.value.replace("_", " ").capitalize() for k in OrgKind},
    OrgKind.GP_PRACTICE: "GP practice", OrgKind.ICB: "Integrated care board",
    **{b.value: b.value for b in Borough},
    Outcome.TAKEN: "Taken", Outcome.PARTIAL: "Partly taken",
    Outcome.LOST_CLINICAL: "Lost to clinical pressure", Outcome.LOST_SICKNESS: "Lost to sickness",
    Outcome.LOST_OTHER: "Lost for another reason",
    AbsenceKind.ANNUAL: "Annual leave", AbsenceKind.STUDY: "Study leave",
    AbsenceKind.SICKNESS: "Sickness", AbsenceKind.ON_CALL: "On call",
    AbsenceKind.THEATRE_LIST: "Theatre list", AbsenceKind.OTHER: "Other",
    **{r.value: r.value.capitalize() for r in RoleLevel},
    CommitmentUnit.PA: "Programmed activity (4 hours)",
    CommitmentUnit.GP_SESSION: "GP session (4 hours 10 minutes)",
    CommitmentUnit.SESSION: "Half-day session", CommitmentUnit.HOURS: "Hours",
    **{p.value: p.value.capitalize() for p in Period},
    **{t.value: t.value.replace("_", " ").capitalize() for t in TeamKind},
    SessionKind.CLINICAL: "Clinical", SessionKind.NON_CLINICAL: "Non-clinical",
    UserRole.ADMIN: "Administrator", UserRole.ROTA_MANAGER: "Rota manager",
    UserRole.FINANCE: "Finance", UserRole.LEADER: "Leader",
    **{s.value: s.value.replace("_", " ").capitalize()
       for e in (RosterStatus, RunStatus, PlanStatus, WhatIfStatus, FeedKind) for s in e},
    # staff groups of the rate card that are not professions
    "council_ot": "Council occupational therapist",
}
AFC_BAND = re.compile(r"afc_band_(\w+)")
MONTH = re.compile(r"(\d{4})-(\d{2})")


def label(code: Any) -> str:
    """The words for a stored code: ``afc_band_8a`` → ``AfC band 8a``; unknown codes read as
    words (``some_code`` → ``Some code``); ``None`` as an empty string."""
    if code is None:
        return ""
    text = str(getattr(code, "value", code))
    if text in LABELS:
        return LABELS[text]
    band = AFC_BAND.fullmatch(text)
    if band:
        return f"AfC band {band.group(1)}"
    if "_" in text or text.islower():
        return text.replace("_", " ").capitalize()
    return text


def money(value: float | Decimal | int | None) -> str:
    """Pounds with pence: ``1234.5`` → ``£1,234.50``; ``-213.7`` → ``−£213.70``; none → ``–``."""
    if value is None:
        return "–"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = MINUS if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def month(value: date | str | None) -> str:
    """``2026-12`` (or a date in it) → ``December 2026``; anything else unchanged."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%B %Y}"
    found = MONTH.fullmatch(str(value))
    if not found or not 1 <= int(found.group(2)) <= 12:
        return str(value)
    return f"{date(int(found.group(1)), int(found.group(2)), 1):%B %Y}"


def day(value: date | datetime | str | None) -> str:
    """``2027-01-18`` → ``Mon 18 Jan 2027``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return f"{value:%a} {value.day} {value:%b %Y}"


def half_day(code: str | None) -> str:
    """``AM`` → ``morning``, from the configured session templates' start times."""
    if not code:
        return ""
    spec = current_app.config.get("SESSION_TEMPLATES", "AM=09:00-13:00,PM=13:00-17:00")
    for template in parse_templates(spec):
        if template.code == str(code):
            if template.start < time(12):
                return "morning"
            return "afternoon" if template.start < time(17) else "evening"
    return str(code)


def day_half(value: date | datetime | str | None, code: str | None) -> str:
    """A day and its half: ``Mon 18 Jan 2027, morning``."""
    text = day(value)
    return f"{text}, {half_day(code)}" if code else text


def slot(slot_id: str) -> str:
    """A slot id ``2027-01-18/AM`` → ``Mon 18 Jan 2027, morning``."""
    day_text, _, code = str(slot_id).partition("/")
    return day_half(day_text, code)


def _london(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(LONDON)


def times(start: datetime | str | None, end: datetime | str | None) -> str:
    """A session's clock times in London, as its calendar event has them: ``09:00 to 13:00``."""
    if not start or not end:
        return ""
    return f"{_london(start):%H:%M} to {_london(end):%H:%M}"


def moment(value: datetime | str | None) -> str:
    """A moment in London, to the minute: ``Mon 18 Jan 2027 09:05``; empty if none."""
    if not value:
        return ""
    local = _london(value)
    return f"{day(local)} {local:%H:%M}"


def place(session: Any) -> str:
    """Where a session (published or in a plan) is held, where known: a team's location (the
    one its calendar event carries), else the organisation hosting the leadership role (the
    team's funding role for a team without a location); empty if unknown."""
    team = getattr(session, "team", None)
    if team is not None and team.location:
        return str(team.location)
    assignment = getattr(session, "assignment", None)
    role = assignment.role if assignment is not None else None
    if team is not None:
        role = team.funding_role
    host = role.host_organisation if role is not None else None
    return str(host.name) if host is not None else ""


def register_formats(app: Flask) -> None:
    """Make the formatters Jinja filters of ``app`` (called once by the web package)."""
    for name, function in (("label", label), ("money", money), ("month", month), ("day", day),
                           ("half_day", half_day), ("day_half", day_half), ("slot", slot),
                           ("times", times), ("moment", moment), ("place", place)):
        app.jinja_env.filters[name] = function

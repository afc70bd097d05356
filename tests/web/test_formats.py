"""The page formatters: dates with their half-day, money, months and stored codes in words."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sel_time.models import AbsenceKind, Outcome, Profession, UserRole
from sel_time.web import formats


def test_money_has_a_real_minus_before_the_pound_and_thousands() -> None:
    assert formats.money(-213.7) == "\u2212£213.70"
    assert formats.money(1234.5) == "£1,234.50"
    assert formats.money(Decimal("0")) == "£0.00"
    assert formats.money(None) == "–"


def test_months_in_words() -> None:
    assert formats.month("2026-12") == "December 2026"
    assert formats.month(date(2027, 1, 18)) == "January 2027"
    assert formats.month("Lambeth") == "Lambeth"


def test_codes_in_words() -> None:
    assert formats.label("afc_band_8a") == "AfC band 8a"
    assert formats.label(Profession.SAS_DOCTOR) == "SAS doctor"
    assert formats.label("consultant") == "Consultant"
    assert formats.label(UserRole.ROTA_MANAGER) == "Rota manager"
    assert formats.label(Outcome.LOST_CLINICAL) == "Lost to clinical pressure"
    assert formats.label(AbsenceKind.ANNUAL) == "Annual leave"
    assert formats.label("Lambeth") == "Lambeth"
    assert formats.label(None) == ""
    for enum in (Profession, Outcome, AbsenceKind, UserRole):
        assert all("_" not in formats.label(m) for m in enum)


def test_days_with_their_half_from_the_session_templates(app: Any) -> None:
    assert formats.day("2027-01-18") == "Mon 18 Jan 2027"
    assert formats.slot("2027-01-18/AM") == "Mon 18 Jan 2027, morning"
    assert formats.day_half(date(2027, 1, 18), "PM") == "Mon 18 Jan 2027, afternoon"
    app.config["SESSION_TEMPLATES"] = "EARLY=08:00-12:00,LATE=18:00-21:00"
    assert formats.half_day("EARLY") == "morning" and formats.half_day("LATE") == "evening"


def test_filters_are_registered_once_on_the_app(app: Any) -> None:
    for name in ("label", "money", "month", "day", "day_half", "slot", "half_day"):
        assert name in app.jinja_env.filters
    rendered = app.jinja_env.from_string("{{ -213.7|money }} {{ '2026-12'|month }}").render()
    assert rendered == "\u2212£213.70 December 2026"

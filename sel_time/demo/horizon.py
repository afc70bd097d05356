"""The demo's horizon: the weeks its leave and fixed commitments fall in."""
from __future__ import annotations

from datetime import date, timedelta

#: The first Monday of the demo horizon unless another is given.
DEFAULT_START = date(2026, 11, 30)
#: How far ahead of ``start`` leave and fixed commitments are generated.
HORIZON_WEEKS = 16


def monday_on_or_after(day: date) -> date:
    """The Monday on or after ``day``."""
    return day + timedelta(days=(7 - day.weekday()) % 7)

"""How big a commitment is, in half-day sessions a week and in hours a year: the gauges that
size the demo (service cover, quorums, load) and its role budgets.

Sessions come from the planner's own arithmetic,
:func:`sel_time.plans.scheduling.sessions_per_period`,
with the default session templates (AM 09:00-13:00, PM 13:00-17:00); the demo does not read the
configuration, so the same seed always gives the same data.
"""
from __future__ import annotations

from fractions import Fraction

from ..models import CommitmentUnit, Period
from ..plans.scheduling import sessions_per_period

#: The length of a half-day session under the default templates, in minutes.
SESSION_MINUTES = 240
# Hours in one unit of commitment, and periods of each kind in a year (for budgets).
UNIT_HOURS = {
    CommitmentUnit.PA: 4.0,
    CommitmentUnit.GP_SESSION: 25 / 6,
    CommitmentUnit.SESSION: 4.0,
    CommitmentUnit.HOURS: 1.0,
}
PERIOD_WEEKS = {Period.WEEK: Fraction(1), Period.FORTNIGHT: Fraction(2),
                Period.MONTH: Fraction(52, 12)}
PERIODS_PER_YEAR = {Period.WEEK: 46, Period.FORTNIGHT: 23, Period.MONTH: 12}


def sessions_per_week(
    amount: float, unit: CommitmentUnit, per: Period, share: float = 1.0
) -> Fraction:
    """Half-day sessions a week a commitment asks for (a rough gauge used to size the demo)."""
    sessions = sessions_per_period(amount, unit, SESSION_MINUTES)
    return sessions * Fraction(share).limit_denominator(1000) / PERIOD_WEEKS[per]


def annual_hours(amount: float, unit: CommitmentUnit, per: Period) -> float:
    """Hours a year a commitment takes, for its role's budget."""
    return amount * UNIT_HOURS[unit] * PERIODS_PER_YEAR[per]

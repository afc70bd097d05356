"""How a role's commitment becomes sessions: the policy rota managers and leaders must be able
to read. The README's "How commitments become sessions" section describes exactly what
:func:`commitment_windows` does."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from ..models import (
    CommitmentUnit,
    Period,
)
from .calendar import Calendar


@dataclass(frozen=True)
class WindowSpec:
    start: date
    end: date
    sessions: int
    demand: Fraction  # the exact, unrounded entitlement in this window


def sessions_per_period(amount: float, unit: CommitmentUnit, session_minutes: int) -> Fraction:
    """A commitment in sessions per period. A programmed activity, a GP session and a session
    are each one half-day session; hours are divided by the length of a session."""
    exact = Fraction(amount).limit_denominator(1000)
    if unit == CommitmentUnit.HOURS:
        return exact * 60 / session_minutes
    return exact


def _periods(per: Period, first: date, last: date, anchor: date) -> list[tuple[date, date]]:
    """The whole periods (weeks and fortnights counted from ``anchor``, calendar months) that
    cover ``first``..``last``, unclipped."""
    out = []
    if per == Period.MONTH:
        y, m = first.year, first.month
        while date(y, m, 1) <= last:
            out.append((date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    length = 7 if per == Period.WEEK else 14
    offset = (first - anchor).days // length
    start = anchor + timedelta(days=offset * length)
    while start <= last:
        out.append((start, start + timedelta(days=length - 1)))
        start += timedelta(days=length)
    return out


def commitment_windows(
    per_period: Fraction,
    per: Period,
    horizon: tuple[date, date],
    active: tuple[date, date | None],
    cal: Calendar,
) -> list[WindowSpec]:
    """Turn an entitlement of ``per_period`` sessions a ``per`` into solver windows.

    1. Periods are weeks and fortnights counted from the horizon's first Monday, or calendar
       months. Consecutive periods are grouped (up to four weeks) into the shortest window in
       which the entitlement is a whole number of sessions: 1.5 a week → 3 a fortnight.
    2. A window only partly inside the horizon or the assignment's dates is pro-rated by its
       working days (bank holidays are not working days) and clipped to those dates.
    3. Rounding is cumulative and half-up over the horizon, so the horizon's total is the
       exact total rounded half-up: a leader is never short by more than half a session.
    """
    first = max(horizon[0], active[0])
    last = min(horizon[1], active[1] or horizon[1])
    if first > last or per_period <= 0:
        return []
    group = 1
    if per != Period.MONTH:
        for m in (1, 2, 4) if per == Period.WEEK else (1, 2):
            if (per_period * m).denominator == 1:
                group = m
                break
    periods = _periods(per, first, last, horizon[0])
    windows: list[tuple[date, date, Fraction]] = []
    for i in range(0, len(periods), group):
        chunk = periods[i : i + group]
        w_start, w_end = chunk[0][0], chunk[-1][1]
        full_days = cal.working_days_between(w_start, w_end)
        c_start, c_end = max(w_start, first), min(w_end, last)
        inside = cal.working_days_between(c_start, c_end)
        if full_days == 0 or inside == 0:
            continue
        demand = per_period * len(chunk) * Fraction(inside, full_days)
        windows.append((c_start, c_end, demand))
    out, cum, given = [], Fraction(0), 0
    for w_start, w_end, demand in windows:
        cum += demand
        target = int(cum + Fraction(1, 2))  # floor(cum + 1/2): half-up
        out.append(WindowSpec(w_start, w_end, target - given, demand))
        given = target
    return [w for w in out if w.sessions > 0]

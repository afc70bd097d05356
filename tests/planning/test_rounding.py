"""The commitment → windows policy a leader relies on: fractional entitlements become whole
sessions without ever leaving them short by more than half a session over a horizon."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from sel_time.models import CommitmentUnit, Period
from sel_time.plans.scheduling import (
    Calendar,
    commitment_windows,
    parse_templates,
    sessions_per_period,
)

CAL = Calendar(
    tuple(parse_templates("AM=09:00-13:00,PM=13:00-17:00")),
    frozenset({1, 2, 3, 4, 5}),
    ZoneInfo("Europe/London"),
)
OPEN = (date(2020, 1, 1), None)


def horizon(start: date, weeks: int) -> tuple[date, date]:
    return start, start + timedelta(weeks=weeks, days=-1)


def half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2))


def assert_never_short(windows: list, exact_per_window: list[Fraction]) -> None:
    """Every prefix of the windows gives within half a session of the exact entitlement."""
    given, exact = 0, Fraction(0)
    for w, e in zip(windows, exact_per_window):
        given += w.sessions
        exact += e
        assert exact - Fraction(1, 2) <= given <= exact + Fraction(1, 2), (w, given, exact)


def test_units_become_half_day_sessions() -> None:
    assert sessions_per_period(1.5, CommitmentUnit.PA, 240) == Fraction(3, 2)
    assert sessions_per_period(1, CommitmentUnit.GP_SESSION, 240) == 1
    assert sessions_per_period(2, CommitmentUnit.SESSION, 240) == 2
    assert sessions_per_period(7.5, CommitmentUnit.HOURS, 240) == Fraction(15, 8)


def test_one_and_a_half_pa_a_week_is_three_sessions_a_fortnight() -> None:
    per = sessions_per_period(1.5, CommitmentUnit.PA, CAL.session_minutes)
    h = horizon(date(2026, 3, 2), 12)  # Good Friday and Easter Monday fall inside
    windows = commitment_windows(per, Period.WEEK, h, OPEN, CAL)
    assert [w.sessions for w in windows] == [3] * 6
    assert sum(w.sessions for w in windows) == 18
    assert windows[0].start == h[0] and windows[-1].end == h[1]
    for a, b in zip(windows, windows[1:]):
        assert (b.start - a.start).days == 14 and b.start == a.end + timedelta(days=1)


def test_seven_and_a_half_hours_a_week_is_spread_so_the_total_matches() -> None:
    per = sessions_per_period(7.5, CommitmentUnit.HOURS, CAL.session_minutes)
    assert per == Fraction(15, 8)  # 1.875 four-hour sessions a week
    h = horizon(date(2026, 3, 2), 12)
    windows = commitment_windows(per, Period.WEEK, h, OPEN, CAL)
    assert len(windows) == 12 and all((w.end - w.start).days == 6 for w in windows)
    assert {w.sessions for w in windows} <= {1, 2}
    assert sum(w.sessions for w in windows) == 23 == half_up(Fraction(45, 2))  # 22.5 → 23
    assert_never_short(windows, [per] * 12)


def test_one_session_a_month_uses_calendar_months_pro_rated_at_the_edges() -> None:
    h = horizon(date(2026, 3, 16), 12)  # 16 March to 7 June 2026
    windows = commitment_windows(Fraction(1), Period.MONTH, h, OPEN, CAL)
    assert [(w.start, w.end) for w in windows] == [
        (date(2026, 3, 16), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
    ]
    # March: 12 of its 22 working days are inside; April and May whole; June: 5 of 22.
    assert windows[0].demand == Fraction(12, 22)
    assert [w.demand for w in windows[1:]] == [1, 1]
    assert [w.sessions for w in windows] == [1, 1, 1]
    assert sum(w.sessions for w in windows) == half_up(Fraction(12, 22) + 2 + Fraction(5, 22))


def test_partial_months_are_pro_rated_by_working_days_without_bank_holidays() -> None:
    h = horizon(date(2026, 5, 18), 12)  # 18 May to 9 August 2026
    windows = commitment_windows(Fraction(3), Period.MONTH, h, OPEN, CAL)
    # May 2026 has 19 working days (4 and 25 May are bank holidays), 9 of them from the 18th.
    assert (windows[0].start, windows[0].end) == (date(2026, 5, 18), date(2026, 5, 31))
    assert windows[0].demand == 3 * Fraction(9, 19)
    # August 2026 has 20 working days (31 August is a bank holiday), 5 of them by the 9th.
    assert (windows[-1].start, windows[-1].end) == (date(2026, 8, 1), date(2026, 8, 9))
    assert windows[-1].demand == 3 * Fraction(5, 20)
    exact = 3 * Fraction(9, 19) + 6 + 3 * Fraction(5, 20)
    assert [w.sessions for w in windows] == [1, 3, 3, 1]
    assert sum(w.sessions for w in windows) == half_up(exact) == 8


def test_part_time_share_of_a_weekly_session_is_spread_over_the_horizon() -> None:
    per = sessions_per_period(1, CommitmentUnit.SESSION, CAL.session_minutes) * Fraction(
        0.6
    ).limit_denominator(1000)
    assert per == Fraction(3, 5)
    h = horizon(date(2026, 3, 2), 12)
    windows = commitment_windows(per, Period.WEEK, h, OPEN, CAL)
    assert sum(w.sessions for w in windows) == half_up(Fraction(3, 5) * 12) == 7
    assert all(w.sessions == 1 and (w.end - w.start).days == 6 for w in windows)
    # Spread out: never two sessions in one week, and never three weeks running without one.
    starts = [w.start for w in windows]
    assert all((b - a).days <= 14 for a, b in zip(starts, starts[1:]))
    # Weeks without a session have no window; after every week the total is within half.
    weeks = [h[0] + timedelta(weeks=i) for i in range(12)]
    given = 0
    for i, monday in enumerate(weeks):
        given += sum(w.sessions for w in windows if w.start == monday)
        assert abs(given - per * (i + 1)) <= Fraction(1, 2)


def test_an_assignment_starting_and_ending_mid_horizon_is_pro_rated_and_clipped() -> None:
    h = horizon(date(2026, 3, 2), 12)
    active = (date(2026, 3, 18), date(2026, 4, 7))  # Wed of week 3 to Tue after Easter Monday
    windows = commitment_windows(Fraction(1), Period.WEEK, h, active, CAL)
    assert windows[0].start == date(2026, 3, 18)  # clipped to the assignment
    assert windows[0].demand == Fraction(3, 5)  # Wed, Thu, Fri of a five-day week
    assert all(active[0] <= w.start <= w.end <= active[1] for w in windows)
    # Week 5 holds Good Friday: 4 working days, all inside, so a whole session.
    assert windows[2].demand == 1 and windows[2].start == date(2026, 3, 30)
    # Week 6: Easter Monday is a bank holiday, so Tuesday is 1 of its 4 working days.
    exact = Fraction(3, 5) + 1 + 1 + Fraction(1, 4)
    assert sum(w.sessions for w in windows) == half_up(exact) == 3
    assert windows[-1].end <= active[1]


def test_an_assignment_outside_the_horizon_gets_no_windows() -> None:
    h = horizon(date(2026, 3, 2), 4)
    assert commitment_windows(Fraction(1), Period.WEEK, h, (date(2026, 5, 1), None), CAL) == []
    assert (
        commitment_windows(Fraction(1), Period.WEEK, h, (date(2025, 1, 1), date(2026, 2, 27)), CAL)
        == []
    )


def test_christmas_bank_holidays_are_not_working_days() -> None:
    assert not CAL.working(date(2026, 12, 25))  # Christmas Day, a Friday
    assert not CAL.working(date(2026, 12, 28))  # substitute for Boxing Day (a Saturday)
    assert not CAL.working(date(2027, 1, 1))
    assert CAL.working(date(2026, 12, 24)) and CAL.working(date(2026, 12, 29))
    slots = CAL.slots(date(2026, 12, 21), date(2027, 1, 3))
    days = sorted({s.day for s in slots})
    assert days == [date(2026, 12, d) for d in (21, 22, 23, 24, 29, 30, 31)]
    assert len(slots) == 14
    assert CAL.working_days_between(date(2026, 12, 21), date(2026, 12, 27)) == 4


def test_christmas_week_pro_rates_an_assignment_by_working_days() -> None:
    h = horizon(date(2026, 12, 21), 2)
    # Starting on Thursday 24 December: 1 of the week's 4 working days.
    windows = commitment_windows(Fraction(2), Period.WEEK, h, (date(2026, 12, 24), None), CAL)
    assert windows[0].start == date(2026, 12, 24) and windows[0].demand == Fraction(2, 4)
    # Holding the role only over the holidays themselves asks for nothing.
    assert (
        commitment_windows(
            Fraction(1), Period.WEEK, h, (date(2026, 12, 25), date(2026, 12, 28)), CAL
        )
        == []
    )


@pytest.mark.parametrize("weeks", [1, 3, 5, 7, 12, 13])
@pytest.mark.parametrize(
    "per", [Fraction(3, 2), Fraction(15, 8), Fraction(3, 5), Fraction(1, 3), Fraction(5, 4)]
)
def test_never_short_by_more_than_half_a_session(per: Fraction, weeks: int) -> None:
    h = horizon(date(2026, 9, 7), weeks)
    windows = commitment_windows(per, Period.WEEK, h, OPEN, CAL)
    total = sum(w.sessions for w in windows)
    exact = per * weeks  # no bank holiday falls inside a partial window here
    assert total == half_up(exact)

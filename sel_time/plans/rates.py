"""Backfill rates as the planner prices a session: each staff group's rate on a day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

import sqlalchemy as sa

from ..core.extensions import db
from ..models import (
    Person,
    RateCardEntry,
)


class RateBook:
    """The rate card in force on each date, with per-person overrides."""

    def __init__(self) -> None:
        self._by_group: dict[str, list[tuple[date, int]]] = defaultdict(list)
        for row in db.session.scalars(
            sa.select(RateCardEntry).order_by(RateCardEntry.effective_from)
        ):
            self._by_group[row.staff_group].append((row.effective_from, row.rate_pence_per_hour))

    def pence_per_hour(self, person: Person, day: date) -> int | None:
        if person.backfill_rate_pence is not None:
            return person.backfill_rate_pence
        rate = None
        for since, pence in self._by_group.get(person.staff_group, []):
            if since <= day:
                rate = pence
        return rate


def slot_cost_pence(rate_pence_per_hour: int, minutes: int) -> int:
    """Backfill for one slot, rounded to the penny (half-up)."""
    return int(Fraction(rate_pence_per_hour * minutes, 60) + Fraction(1, 2))

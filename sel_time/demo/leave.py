"""Build steps: annual and study leave, on-call days, fixed lists, sickness and jury service
over the horizon."""
from __future__ import annotations

from datetime import date, timedelta

from ..models import Absence, AbsenceKind, Half, Profession, SessionKind
from .horizon import HORIZON_WEEKS
from .state import BuildState, Leader

P = Profession
AM, PM = Half.AM, Half.PM


class LeaveSteps(BuildState):
    """Leave and fixed commitments, none overlapping another of the same person."""

    # ---- leave and fixed commitments -----------------------------------------------------------

    def _absence(self, x: Leader, kind: AbsenceKind, first: date, first_half: Half,
                 last: date, last_half: Half, note: str | None = None) -> bool:
        """Add leave unless it would overlap leave the person already has."""
        halves: list[tuple[date, Half]] = []
        day = first
        while day <= last:
            for half in (AM, PM):
                if (day == first and first_half == PM and half == AM) or (
                        day == last and last_half == AM and half == PM):
                    continue
                halves.append((day, half))
            day += timedelta(days=1)
        if any(k in x.busy for k in halves):
            return False
        x.busy.update(halves)
        x.person.absences.append(Absence(kind=kind, start_date=first, start_half=first_half,
                                         end_date=last, end_half=last_half, note=note))
        self.counts["absences"] += 1
        return True

    def leave(self) -> None:
        """Leave and fixed commitments for everyone over the horizon."""
        weeks = list(range(HORIZON_WEEKS))
        christmas = [w for w in weeks if self._week(w).month == 12 and self._week(w).day >= 19]
        weights = [4 if w in christmas else 1 for w in weeks]
        for x in self.leaders:
            if self.rng.random() < 0.75:  # a week of annual leave
                monday = self._week(self.rng.choices(weeks, weights)[0])
                self._absence(x, AbsenceKind.ANNUAL, monday, AM, monday + timedelta(days=4), PM)
            if self.rng.random() < 0.3:  # a long weekend
                day = self._week(self.rng.randrange(HORIZON_WEEKS)) + timedelta(
                    days=self.rng.choice((0, 4)))
                self._absence(x, AbsenceKind.ANNUAL, day, AM, day, PM)
            if self.rng.random() < 0.35:  # study leave
                for _ in range(self.rng.choice((1, 2))):
                    day = self._day()
                    half = self.rng.choice((AM, PM, None))
                    self._absence(x, AbsenceKind.STUDY, day, half or AM, day, half or PM,
                                  self.rng.choice(("Conference", "Course", "Exam revision",
                                                   "Mandatory training")))
            doctor = x.person.profession in (P.CONSULTANT, P.SAS_DOCTOR)
            if doctor and x.dept.on_call:  # on call one day a fortnight
                offset = self.rng.randrange(14)
                while offset < HORIZON_WEEKS * 7:
                    day = self.start + timedelta(days=offset)
                    if day.weekday() < 5:
                        self._absence(x, AbsenceKind.ON_CALL, day, AM, day, PM, "On call")
                    offset += 14
            if x.person.profession == P.CONSULTANT and x.dept.lists:
                clinical = [k for k in x.person.pattern if k.kind == SessionKind.CLINICAL]
                slot = self.rng.choice(clinical)
                for w in weeks:
                    day = self._week(w) + timedelta(days=slot.weekday)
                    self._absence(x, AbsenceKind.THEATRE_LIST, day, slot.half, day, slot.half,
                                  x.dept.lists)
        order = self.leaders[:]
        self.rng.shuffle(order)
        sick = jury = 0
        for x in order:  # two off sick as the horizon opens, two on jury service
            if sick < 2:
                sick += self._absence(x, AbsenceKind.SICKNESS, self.start - timedelta(days=4),
                                      AM, self.start + timedelta(days=4), PM)
            elif jury < 2:
                monday = self._week(self.rng.randrange(6, HORIZON_WEEKS - 2))
                jury += self._absence(x, AbsenceKind.OTHER, monday, AM,
                                      monday + timedelta(days=11), PM, "Jury service")

    def _week(self, w: int) -> date:
        return self.start + timedelta(weeks=w)

    def _day(self) -> date:
        return self._week(self.rng.randrange(HORIZON_WEEKS)) + timedelta(
            days=self.rng.randrange(5))

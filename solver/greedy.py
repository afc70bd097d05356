"""The baseline a careful rota manager would make by hand, and the repair of a previous plan.

Teams first, each window at its best-attended slots; then each commitment window, most
constrained first, takes its cheapest free slots, always within caps and limits. The
result is a valid plan whenever the pins are consistent (it starts from them).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence

from solver.model import Commitment, PreviousEntry, Problem, Team
from solver.plan import Plan

__all__ = ["Ledger", "greedy", "repair"]


class Ledger:
    """A plan under construction with the running counts every hard rule needs."""

    def __init__(self, problem: Problem, base: Plan | None = None):
        self.problem = problem
        self.plan = Plan()
        self.busy: set[tuple[str, int]] = set()
        self.cap_load: dict[tuple[int, int], int] = defaultdict(int)
        self.day_count: dict[tuple[str, object], int] = defaultdict(int)
        self.week_count: dict[tuple[str, object], int] = defaultdict(int)
        self.window_count: dict[tuple[str, int], int] = defaultdict(int)
        self.team_window_count: dict[tuple[str, int], int] = defaultdict(int)
        self._avail = problem.available_idx
        self._days = problem.slot_days
        self._weeks = problem.slot_weeks
        self._slot_ids = [s.id for s in problem.slots]
        self._sorted: dict[str, list[int]] = {}
        if base is not None:
            for (t, s), attendees in base.meetings.items():
                self.add_meeting(t, s, attendees)
            for (p, s), c in base.sessions.items():
                self.add_session(p, c, s)

    # ---- queries ---------------------------------------------------------------
    def person_free(self, p: str, s: int, extra_load: dict[int, int] | None = None) -> bool:
        """p could take one more protected activity in slot s (caps and limits hold)."""
        if s not in self._avail[p] or (p, s) in self.busy:
            return False
        pr = self.problem
        person = pr.person[p]
        if (
            person.max_per_day is not None
            and self.day_count[(p, self._days[s])] >= person.max_per_day
        ):
            return False
        if (
            person.max_per_week is not None
            and self.week_count[(p, self._weeks[s])] >= person.max_per_week
        ):
            return False
        if person.department is not None:
            sid = self._slot_ids[s]
            for ci in pr.caps_of_department.get(person.department, ()):
                cap = pr.caps[ci]
                if cap.covers(sid):
                    load = self.cap_load[(ci, s)] + (extra_load.get(ci, 0) if extra_load else 0)
                    if load >= cap.max_away:
                        return False
        return True

    def windows_at(self, c: Commitment, s: int) -> list[int]:
        return [
            wi for wi, (lo, hi) in enumerate(self.problem.commitment_ranges[c.id]) if lo <= s < hi
        ]

    def window_room(self, c: Commitment, s: int) -> bool:
        for wi in self.windows_at(c, s):
            mx = c.windows[wi].max
            if mx is not None and self.window_count[(c.id, wi)] >= mx:
                return False
        return True

    def can_session(self, c: Commitment, s: int) -> bool:
        return self.person_free(c.person, s) and self.window_room(c, s)

    def team_windows_at(self, t: Team, s: int) -> list[int]:
        return [wi for wi, (lo, hi) in enumerate(self.problem.team_ranges[t.id]) if lo <= s < hi]

    def team_room(self, t: Team, s: int) -> bool:
        if (t.id, s) in self.plan.meetings:
            return False
        allowed = self.problem.team_allowed[t.id]
        if allowed is not None and s not in allowed:
            return False
        for wi in self.team_windows_at(t, s):
            mx = t.windows[wi].max
            if mx is not None and self.team_window_count[(t.id, wi)] >= mx:
                return False
        return True

    def attendable(self, t: Team, s: int) -> list[str]:
        """Members who could attend t in s together, cheapest first (caps counted jointly)."""
        pr = self.problem
        extra: dict[int, int] = defaultdict(int)
        out = []
        members = sorted(
            (m for m in t.members if s in self._avail[m]), key=lambda m: (self._cost(m, s), m)
        )
        for m in members:
            if self.person_free(m, s, extra):
                out.append(m)
                dept = pr.person[m].department
                if dept is not None:
                    sid = self._slot_ids[s]
                    for ci in pr.caps_of_department.get(dept, ()):
                        if pr.caps[ci].covers(sid):
                            extra[ci] += 1
        return out

    def available_in(self, p: str, lo: int, hi: int) -> list[int]:
        """p's available slot indexes in [lo, hi)."""
        a = self._sorted.get(p)
        if a is None:
            a = self._sorted[p] = sorted(self._avail[p])
        return a[bisect.bisect_left(a, lo) : bisect.bisect_left(a, hi)]

    def _cost(self, p: str, s: int) -> int:
        """Marginal price in pence of p taking slot s (backfill + avoid)."""
        c = self._avail[p].get(s, 0)
        if s in self.problem.avoid_idx[p]:
            c += self.problem.weights_pence["avoid"]
        return c

    # ---- changes ---------------------------------------------------------------
    def _occupy(self, p: str, s: int) -> None:
        self.busy.add((p, s))
        self.day_count[(p, self._days[s])] += 1
        self.week_count[(p, self._weeks[s])] += 1
        dept = self.problem.person[p].department
        if dept is not None:
            sid = self._slot_ids[s]
            for ci in self.problem.caps_of_department.get(dept, ()):
                if self.problem.caps[ci].covers(sid):
                    self.cap_load[(ci, s)] += 1

    def add_session(self, p: str, c: str, s: int) -> None:
        self._occupy(p, s)
        self.plan.sessions[(p, s)] = c
        com = self.problem.commitment[c]
        for wi in self.windows_at(com, s):
            self.window_count[(c, wi)] += 1

    def add_meeting(self, t: str, s: int, attendees: Iterable[str]) -> None:
        attendees = tuple(attendees)
        for p in attendees:
            self._occupy(p, s)
        self.plan.meetings[(t, s)] = attendees
        for wi in self.team_windows_at(self.problem.team[t], s):
            self.team_window_count[(t, wi)] += 1

    # ---- moves a rota manager makes --------------------------------------------
    def choose_attendees(self, t: Team, s: int) -> list[str] | None:
        """The quorum's cheapest members plus everyone whose cost is below an absence."""
        cands = self.attendable(t, s)
        if len(cands) < t.quorum:
            return None
        absence = self.problem.weights_pence["absence"]
        return cands[: t.quorum] + [m for m in cands[t.quorum :] if self._cost(m, s) <= absence]

    def meeting_price(self, t: Team, s: int, attendees: list[str]) -> int:
        absence = self.problem.weights_pence["absence"]
        att = set(attendees)
        absent = sum(1 for m in t.members if m not in att and s in self._avail[m])
        return sum(self._cost(m, s) for m in attendees) + absent * absence

    def place_team_window(self, t: Team, wi: int) -> None:
        lo, hi = self.problem.team_ranges[t.id][wi]
        need = t.windows[wi].sessions - self.team_window_count[(t.id, wi)]
        shortfall = self.problem.weights_pence["shortfall"]
        for _ in range(max(0, need)):
            best = None
            for s in range(lo, hi):
                if not self.team_room(t, s):
                    continue
                att = self.choose_attendees(t, s)
                if att is None:
                    continue
                price = self.meeting_price(t, s, att)
                key = (-len(att), price, s)
                if best is None or key < best[0]:
                    best = (key, s, att, price)
            if best is None or best[3] >= shortfall:
                return
            self.add_meeting(t.id, best[1], best[2])

    def place_window(self, c: Commitment, wi: int) -> None:
        lo, hi = self.problem.commitment_ranges[c.id][wi]
        need = c.windows[wi].sessions - self.window_count[(c.id, wi)]
        if need <= 0:
            return
        shortfall = self.problem.weights_pence["shortfall"]
        cands = sorted((self._cost(c.person, s), s) for s in self.available_in(c.person, lo, hi))
        for price, s in cands:
            if need <= 0 or price >= shortfall:
                break
            if self.can_session(c, s):
                self.add_session(c.person, c.id, s)
                need -= 1

    def fill(self) -> None:
        """Teams first, then the commitment windows with least slack first."""
        pr = self.problem
        for t in pr.teams:
            for wi in range(len(t.windows)):
                self.place_team_window(t, wi)
        order = []
        for c in pr.commitments:
            for wi, (lo, hi) in enumerate(pr.commitment_ranges[c.id]):
                if c.windows[wi].sessions <= 0:
                    continue
                n = len(self.available_in(c.person, lo, hi))
                order.append((n - c.windows[wi].sessions, c.id, wi))
        order.sort()
        for _, cid, wi in order:
            self.place_window(pr.commitment[cid], wi)

    def _remove_session(self, p: str, s: int) -> str:
        """Undo `add_session`; returns the commitment the session had."""
        c = self.plan.sessions.pop((p, s))
        self.busy.discard((p, s))
        self.day_count[(p, self._days[s])] -= 1
        self.week_count[(p, self._weeks[s])] -= 1
        dept = self.problem.person[p].department
        if dept is not None:
            sid = self._slot_ids[s]
            for ci in self.problem.caps_of_department.get(dept, ()):
                if self.problem.caps[ci].covers(sid):
                    self.cap_load[(ci, s)] -= 1
        for wi in self.windows_at(self.problem.commitment[c], s):
            self.window_count[(c, wi)] -= 1
        return c

    def _keep_session(self, p: str, s: int, commitment: str | None) -> bool:
        """Re-take a previous individual session if it fits and is worth keeping: for its
        own commitment (or another of the person's) where a window still needs it, else
        as a spare session when it costs no more than dropping it."""
        pr = self.problem
        if (p, s) in self.busy:
            return False
        coms = pr.commitments_of.get(p, [])
        if commitment is not None:
            coms = [pr.commitment[commitment]] + [c for c in coms if c.id != commitment]
        useful = spare = None
        for c in coms:
            if not self.can_session(c, s):
                continue
            wins = self.windows_at(c, s)
            if any(self.window_count[(c.id, wi)] < c.windows[wi].sessions for wi in wins):
                useful = c
                break
            if spare is None:
                spare = c
        if useful is not None:
            self.add_session(p, useful.id, s)
            return True
        if spare is not None and self._cost(p, s) <= pr.weights_pence["churn"]:
            self.add_session(p, spare.id, s)
            return True
        return False

    def _blocking(
        self,
        t: Team,
        s: int,
        kept: dict[tuple[str, int], str | None],
        by_person: dict[str, list[int]],
        by_slot: dict[int, list[str]],
    ) -> list[tuple[str, int, str | None]]:
        """Kept previous sessions that may stand between team t and its members in slot s:
        the members' own sessions that day or week (one activity, daily and weekly limits)
        and their departments' sessions in s (caps). `by_person` and `by_slot` index `kept`
        (they may hold entries since dropped from it)."""
        pr = self.problem
        members = [m for m in t.members if s in self._avail[m]]
        depts = {pr.person[m].department for m in members} - {None}
        day, week = self._days[s], self._weeks[s]
        found: list[tuple[str, int]] = []
        for m in members:
            person = pr.person[m]
            for s2 in by_person.get(m, ()):
                if (
                    s2 == s
                    or (person.max_per_day is not None and self._days[s2] == day)
                    or (person.max_per_week is not None and self._weeks[s2] == week)
                ):
                    found.append((m, s2))
        if depts:
            found.extend((p, s) for p in by_slot.get(s, ()) if pr.person[p].department in depts)
        out = []
        for key in dict.fromkeys(found):
            if key in kept and key in self.plan.sessions:
                out.append((key[0], key[1], kept[key]))
        return out

    def keep_previous(self, previous: Sequence[PreviousEntry]) -> None:
        """Re-take every previous entry that still fits the rules and is worth keeping.

        Individual sessions first, then each team meeting with the members they leave free:
        a previous plan that is still valid comes back as it was (its team meetings only
        name the team and slot, so attendees are chosen again, from the members who were
        free). A meeting that has no quorum that way takes precedence over the sessions in
        its way, which are taken again afterwards where they still fit."""
        pr = self.problem
        w = pr.weights_pence
        idx = pr.slot_index
        kept: dict[tuple[str, int], str | None] = {}
        by_person: dict[str, list[int]] = defaultdict(list)
        by_slot: dict[int, list[str]] = defaultdict(list)
        for e in previous:
            if e.person is None or e.team is not None:
                continue
            p, s = e.person, idx[e.slot]
            if self._keep_session(p, s, e.commitment):
                kept[(p, s)] = e.commitment
                by_person[p].append(s)
                by_slot[s].append(p)
        attended: dict[tuple[str, int], set[str]] = defaultdict(set)
        for e in previous:
            if e.team is not None and e.person is not None:
                attended[(e.team, idx[e.slot])].add(e.person)
        for e in previous:
            if e.team is None or e.person is not None:
                continue
            s, t = idx[e.slot], pr.team[e.team]
            if not self.team_room(t, s):
                continue
            att = self._previous_attendees(t, s, attended.get((t.id, s), set()))
            if att is not None and self.meeting_price(t, s, att) < w["shortfall"] + w["churn"]:
                self.add_meeting(t.id, s, att)
                continue
            evicted = self._blocking(t, s, kept, by_person, by_slot)
            if not evicted:
                continue
            for p, s2, _ in evicted:
                self._remove_session(p, s2)
            att = self._previous_attendees(t, s, attended.get((t.id, s), set()))
            if att is not None and self.meeting_price(t, s, att) < w["shortfall"] + w["churn"]:
                self.add_meeting(t.id, s, att)
            for p, s2, c in evicted:
                if not self._keep_session(p, s2, c):
                    kept.pop((p, s2), None)

    def _previous_attendees(self, t: Team, s: int, attended: set[str]) -> list[str] | None:
        """`choose_attendees`, plus the members the previous plan names as attending."""
        att = self.choose_attendees(t, s)
        if att is None or not attended:
            return att
        chosen = set(att)
        return att + [m for m in self.attendable(t, s) if m in attended and m not in chosen]


def _pinned(problem: Problem, base: Plan | None) -> Plan:
    """`base`, or the pinned entries worked out (ValueError when they cannot all hold)."""
    if base is not None:
        return base
    from solver.conflicts import check_pins  # conflicts builds on plan, not on greedy

    pins = check_pins(problem)
    if pins.plan is None:
        raise ValueError("; ".join(pins.conflicts))
    return pins.plan


def greedy(problem: Problem, base: Plan | None = None) -> Plan:
    """The hand-made baseline, starting from `base` (the pinned entries; worked out from
    the problem when not given)."""
    ledger = Ledger(problem, _pinned(problem, base))
    ledger.fill()
    return ledger.plan


def repair(previous: Sequence[PreviousEntry], problem: Problem, base: Plan | None = None) -> Plan:
    """The previous plan made valid (entries that now break a rule dropped), then completed
    the greedy way: a hint that moves as little as possible."""
    ledger = Ledger(problem, _pinned(problem, base))
    ledger.keep_previous(previous)
    ledger.fill()
    return ledger.plan

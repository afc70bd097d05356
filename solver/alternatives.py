"""Alternatives for one session (shared/spec/solver-io.md): every other slot of its window,
each judged as a move of that one session with everything else unchanged.

No model is built. The plan is held once as a `solver.rules.Roster`; each candidate move is
applied, judged by the hard rules looking only at what it touched, priced by the soft
terms it can change, and undone. A move stays within one window, so every window's count
is unchanged and so are the shortfall and fairness terms of commitments; team windows may
overlap, so those are recounted. The delta is what `check` would recompute for the whole
plan after the move, less before it (the tests hold it to that).

A team's move keeps its attendees who are available in the new slot and, if fewer than
its quorum remain, adds other members available and free there (in member order) up to
the quorum; it is allowed only if quorum holds and no hard rule breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from solver.io import ProblemError, parse_solution
from solver.model import Problem, Solution, gbp
from solver.reader import JSONObject
from solver.rules import Breach, Focus, Roster, already_meets, breaches

__all__ = [
    "ALTERNATIVES_FORMAT",
    "Alternative",
    "Alternatives",
    "Mover",
    "SessionNotFound",
    "alternatives_to_dict",
]

ALTERNATIVES_FORMAT = "sel-time/alternatives@1"


class SessionNotFound(LookupError):
    """The session asked about is not in the solution."""


@dataclass(frozen=True)
class Alternative:
    slot: str
    allowed: bool
    objective_delta: float | None  # GBP; negative is cheaper; None when not allowed
    reasons: tuple[str, ...] = ()
    attendees: tuple[str, ...] | None = None  # a team's move: who would attend there
    rules: tuple[int, ...] = ()  # the numbers of the rules broken, parallel to `reasons`


@dataclass(frozen=True)
class Alternatives:
    session: Mapping[str, str]
    alternatives: tuple[Alternative, ...]


def alternatives_to_dict(result: Alternatives) -> dict[str, Any]:
    return {
        "format": ALTERNATIVES_FORMAT,
        "session": dict(result.session),
        "alternatives": [
            {
                "slot": a.slot,
                "allowed": a.allowed,
                "objective_delta": a.objective_delta,
                "reasons": list(a.reasons),
            }
            for a in result.alternatives
        ],
    }


class Mover:
    """A problem and one of its plans, ready to judge single-session moves."""

    def __init__(self, problem: Problem, solution: Solution | JSONObject | Roster) -> None:
        self.problem = pr = problem
        idx = pr.slot_index
        self.roster = solution if isinstance(solution, Roster) else self._roster(solution)
        self._avail = pr.available_idx
        self._avoid = pr.avoid_idx
        self._w = pr.weights_pence
        self._prev_cell: dict[tuple[str, int], int] = defaultdict(int)  # person entries
        self._prev_team: dict[tuple[str, int], list[str | None]] = defaultdict(list)
        for e in pr.previous:
            s = idx[e.slot]
            if e.team is not None:
                self._prev_team[(e.team, s)].append(e.person)
            elif e.person is not None:  # a person entry (the problem names one or the other)
                self._prev_cell[(e.person, s)] += 1

    def _roster(self, solution: Solution | JSONObject) -> Roster:
        if isinstance(solution, dict):
            solution = parse_solution(solution)
        pr = self.problem
        idx = pr.slot_index
        errors: list[str] = []
        sessions: dict[tuple[str, int], str] = {}
        for i, s in enumerate(solution.sessions):
            if s.person not in pr.person:
                errors.append(f"sessions[{i}].person: unknown person {s.person!r}")
            elif s.slot not in idx:
                errors.append(f"sessions[{i}].slot: unknown slot {s.slot!r}")
            elif s.commitment not in pr.commitment:
                errors.append(f"sessions[{i}].commitment: unknown commitment {s.commitment!r}")
            else:
                sessions[(s.person, idx[s.slot])] = s.commitment
        meetings: dict[tuple[str, int], tuple[str, ...]] = {}
        for i, t in enumerate(solution.team_sessions):
            if t.team not in pr.team:
                errors.append(f"team_sessions[{i}].team: unknown team {t.team!r}")
            elif t.slot not in idx:
                errors.append(f"team_sessions[{i}].slot: unknown slot {t.slot!r}")
            elif any(p not in pr.person for p in t.attendees):
                errors.append(f"team_sessions[{i}].attendees: unknown person")
            else:
                meetings[(t.team, idx[t.slot])] = tuple(t.attendees)
        if errors:
            raise ProblemError(errors)
        return Roster.of(pr, sessions, meetings)

    # ---- pricing what a move touches (pence), as `check` counts it --------------------
    def _price(
        self,
        cells: Iterable[tuple[str, int]],
        meetings: Iterable[tuple[str, int]],
        commitments: Iterable[str],
        teams: Iterable[str],
    ) -> int:
        pr, r, w = self.problem, self.roster, self._w
        total = 0
        for p, s in cells:
            acts = r.activities.get((p, s), ())
            avoid = w["avoid"] if s in self._avoid[p] else 0
            total += len(acts) * (self._avail[p].get(s, 0) + avoid)
            if self._prev_cell.get((p, s)) and (p, s) not in r.sessions:
                total += self._prev_cell[(p, s)] * w["churn"]
        for t, s in meetings:
            att = r.meetings.get((t, s))
            if att is not None:
                here = set(att)
                total += w["absence"] * sum(
                    1 for m in pr.team[t].members if m not in here and s in self._avail[m]
                )
            for person in self._prev_team.get((t, s), ()):
                if att is None or (person is not None and person not in att):
                    total += w["churn"]
        for c in commitments:
            for wi, win in enumerate(pr.commitment[c].windows):
                total += w["shortfall"] * max(0, win.sessions - r.window.get((c, wi), 0))
        for t in teams:
            for wi, win in enumerate(pr.team[t].windows):
                total += w["shortfall"] * max(0, win.sessions - r.team_window.get((t, wi), 0))
        return total

    @staticmethod
    def _new(after: list[Breach], before: list[Breach]) -> tuple[str, ...]:
        return tuple(b.reason for b in Mover._new_breaches(after, before))

    @staticmethod
    def _new_breaches(after: list[Breach], before: list[Breach]) -> list[Breach]:
        """The breaches in `after` not in `before`, one per reason."""
        old = {b.text for b in before}
        first: dict[str, Breach] = {}
        for b in after:
            if b.text not in old:
                first.setdefault(b.reason, b)
        return list(first.values())

    # ---- moves -----------------------------------------------------------------------
    def for_person(self, person: str, slot: str, commitment: str | None = None) -> Alternatives:
        """Every other slot of the session's commitment window, judged as a move."""
        pr, r = self.problem, self.roster
        s = pr.slot_index.get(slot)
        c = r.sessions.get((person, s)) if s is not None else None
        if c is None or (commitment is not None and c != commitment):
            what = f" for {commitment}" if commitment else ""
            raise SessionNotFound(f"no session{what} for {person} in {slot} in the solution")
        assert s is not None
        ranges = [(lo, hi) for lo, hi in pr.commitment_ranges[c] if lo <= s < hi]
        out = [
            self.judge_session(person, c, s2, s)
            for s2 in (x for lo, hi in ranges for x in range(lo, hi) if x != s)
        ]
        return Alternatives(
            {"person": person, "commitment": c, "slot": slot}, self._sorted(out)
        )

    def judge_session(self, person: str, c: str, to: int, frm: int | None = None) -> Alternative:
        """Moving `person`'s session for `c` from slot index `frm` to `to` (adding it when
        `frm` is None), everything else unchanged: allowed or the new breaches' reasons, and
        the change in the objective. The roster is left as it was."""
        r = self.roster
        cells = [(person, to)] if frm is None else [(person, frm), (person, to)]
        focus = Focus(cells=set(cells), commitments={c}, meetings=set(), teams=set())
        before_b = breaches(r, focus)
        before = self._price(cells, (), (c,), ())
        if frm is not None:
            r.remove_session(person, frm)
        r.add_session(person, c, to)
        try:
            focus.arrived = {(person, to)}
            new = self._new_breaches(breaches(r, focus), before_b)
            after = self._price(cells, (), (c,), ())
        finally:
            r.remove_session(person, to)
            if frm is not None:
                r.add_session(person, c, frm)
        return self._alternative(
            to, tuple(b.reason for b in new), after - before, rules=tuple(b.rule for b in new)
        )

    def ordered(self, found: list[Alternative]) -> tuple[Alternative, ...]:
        """Allowed first, cheapest first, then in slot order."""
        return self._sorted(found)

    def for_team(self, team: str, slot: str) -> Alternatives:
        """Every other slot of the team session's window(s), judged as a move."""
        pr, r = self.problem, self.roster
        s = pr.slot_index.get(slot)
        if team not in pr.team or s is None or (team, s) not in r.meetings:
            raise SessionNotFound(f"no session of team {team} in {slot} in the solution")
        t = pr.team[team]
        old = r.meetings[(team, s)]
        candidates = sorted(
            {x for lo, hi in pr.team_ranges[team] if lo <= s < hi for x in range(lo, hi)} - {s}
        )
        out = []
        for s2 in candidates:
            if (team, s2) in r.meetings:
                out.append(self._alternative(s2, (already_meets(pr, team, s2).reason,), 0))
                continue
            new = [m for m in old if s2 in self._avail[m]]
            for m in t.members:
                if len(new) >= t.quorum:
                    break
                if m not in new and s2 in self._avail[m] and (m, s2) not in r.activities:
                    new.append(m)
            new = [m for m in t.members if m in new]  # member order, as the solver writes it
            cells = [(m, s) for m in old] + [(m, s2) for m in new]
            keys = [(team, s), (team, s2)]
            focus = Focus(cells=set(cells), commitments=set(), meetings=set(keys), teams={team})
            before_b = breaches(r, focus)
            before = self._price(cells, keys, (), (team,))
            r.remove_meeting(team, s)
            r.add_meeting(team, s2, new)
            focus.arrived = {(m, s2) for m in new}
            reasons = self._new(breaches(r, focus), before_b)
            after = self._price(cells, keys, (), (team,))
            r.remove_meeting(team, s2)
            r.add_meeting(team, s, old)
            out.append(self._alternative(s2, reasons, after - before, tuple(new)))
        return Alternatives({"team": team, "slot": slot}, self._sorted(out))

    def _alternative(
        self,
        s: int,
        reasons: tuple[str, ...],
        delta: int,
        attendees: tuple[str, ...] | None = None,
        rules: tuple[int, ...] = (),
    ) -> Alternative:
        sid = self.problem.slots[s].id
        if reasons:
            return Alternative(sid, False, None, reasons, attendees, rules)
        return Alternative(sid, True, gbp(delta) + 0.0, (), attendees)

    def _sorted(self, out: list[Alternative]) -> tuple[Alternative, ...]:
        pos = self.problem.slot_index
        return tuple(
            sorted(
                out,
                key=lambda a: (not a.allowed, a.objective_delta or 0.0, pos[a.slot]),
            )
        )

"""The spec's hard rules, each written once: how a plan breaks it, in two voices.

A `Roster` is a plan held with the running counts every hard rule needs (who is busy in a
slot, how many of a department are away, a person's load per day and per ISO week, each
window's sessions). Each rule is one function ``rule(roster, focus)`` yielding a `Breach`
for every place the plan breaks it, looking only at the keys in `focus`: everything for
`check`, only what one move touched for `alternatives` (so a move is judged in
microseconds, without a model). A breach carries `text`, the checker's line (ids and the
rule's number), and `reason`, the sentence a rota manager reads.

The CP-SAT model states the same rules as constraints (`solver.constraints`); the tests
check the two agree on random problems.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from solver.model import Problem

__all__ = ["RULES", "Breach", "Focus", "Roster", "already_meets", "breaches", "when"]


@dataclass(frozen=True)
class Breach:
    """One place a plan breaks a hard rule."""

    rule: int  # the spec's number, 1-6
    text: str  # the checker's line: ids and "(rule N)"
    reason: str  # the same, in words a rota manager understands


def when(problem: Problem, s: int) -> str:
    """A slot as a rota manager says it: "Wed 4 Mar AM"."""
    start = problem.slots[s].start
    return f"{start:%a} {start.day} {start:%b} {'AM' if start.hour < 12 else 'PM'}"


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _who(problem: Problem, p: str) -> str:
    person = problem.person.get(p)
    return person.label if person is not None else p


def _team(problem: Problem, t: str, capital: bool = False) -> str:
    label = problem.team[t].label
    return label[0].upper() + label[1:] if capital else label


class Roster:
    """A plan (slot indexes) with the counts the hard rules read, kept up to date by
    `add_*` and `remove_*`. `where` maps an entry to its path in a solution document, so
    that the checker's lines can name it; `department_names` the names a rota manager knows
    departments by (the problem holds only their ids)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.sessions: dict[tuple[str, int], str] = {}  # (person, slot) -> commitment
        self.stacked: dict[tuple[str, int], list[str]] = defaultdict(list)  # more sessions there
        self.meetings: dict[tuple[str, int], tuple[str, ...]] = {}  # (team, slot) -> attendees
        self.where: dict[tuple[str, str, int], str] = {}  # ("session"|"team", id, slot) -> path
        self.activities: dict[tuple[str, int], list[str]] = defaultdict(list)  # "c:<id>"/"t:<id>"
        self.away: dict[tuple[str, int], int] = defaultdict(int)  # (department, slot)
        self.per_day: dict[tuple[str, date], int] = defaultdict(int)
        self.per_week: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
        self.window: dict[tuple[str, int], int] = defaultdict(int)  # (commitment, window)
        self.team_window: dict[tuple[str, int], int] = defaultdict(int)
        self.department_names: dict[str, str] = {}
        self._days = problem.slot_days
        self._weeks = problem.slot_weeks

    @classmethod
    def of(
        cls,
        problem: Problem,
        sessions: dict[tuple[str, int], str],
        meetings: dict[tuple[str, int], tuple[str, ...]],
    ) -> Roster:
        roster = cls(problem)
        for (p, s), c in sessions.items():
            roster.add_session(p, c, s)
        for (t, s), attendees in meetings.items():
            roster.add_meeting(t, s, attendees)
        return roster

    # ---- changes -------------------------------------------------------------
    def _occupy(self, p: str, s: int, what: str, step: int) -> None:
        if step > 0:
            self.activities[(p, s)].append(what)
        else:
            acts = self.activities[(p, s)]
            acts.remove(what)
            if not acts:
                del self.activities[(p, s)]
        person = self.problem.person.get(p)
        if person is None:
            return
        if person.department is not None:
            self.away[(person.department, s)] += step
        self.per_day[(p, self._days[s])] += step
        self.per_week[(p, self._weeks[s])] += step

    def _windows(self, ranges: list[tuple[int, int]], s: int) -> Iterator[int]:
        for wi, (lo, hi) in enumerate(ranges):
            if lo <= s < hi:
                yield wi

    def add_session(self, p: str, c: str, s: int) -> None:
        """A session; one added where the person already has one is held on top of it
        (a plan that breaks rule 1) and is the first `remove_session` takes away."""
        if (p, s) in self.sessions:
            self.stacked[(p, s)].append(c)
        else:
            self.sessions[(p, s)] = c
        self._occupy(p, s, f"c:{c}", 1)
        for wi in self._windows(self.problem.commitment_ranges.get(c, []), s):
            self.window[(c, wi)] += 1

    def remove_session(self, p: str, s: int) -> str:
        above = self.stacked.get((p, s))
        if above:
            c = above.pop()
            if not above:
                del self.stacked[(p, s)]
        else:
            c = self.sessions.pop((p, s))
        self._occupy(p, s, f"c:{c}", -1)
        for wi in self._windows(self.problem.commitment_ranges.get(c, []), s):
            self.window[(c, wi)] -= 1
        return c

    def add_meeting(self, t: str, s: int, attendees: Iterable[str]) -> None:
        attendees = tuple(attendees)
        self.meetings[(t, s)] = attendees
        for p in attendees:
            self._occupy(p, s, f"t:{t}", 1)
        for wi in self._windows(self.problem.team_ranges[t], s):
            self.team_window[(t, wi)] += 1

    def remove_meeting(self, t: str, s: int) -> tuple[str, ...]:
        attendees = self.meetings.pop((t, s))
        for p in attendees:
            self._occupy(p, s, f"t:{t}", -1)
        for wi in self._windows(self.problem.team_ranges[t], s):
            self.team_window[(t, wi)] -= 1
        return attendees

    # ---- reading ---------------------------------------------------------------
    def describe(self, what: str) -> tuple[str, str]:
        """An activity key as the checker names it and as a rota manager does."""
        kind, ident = what.split(":", 1)
        if kind == "c":
            c = self.problem.commitment.get(ident)
            return f"session for {ident}", f"a {c.label if c else ident} session"
        return f"team {ident}", _team(self.problem, ident)


@dataclass
class Focus:
    """Which parts of a roster to judge: None means all of that kind. `arrived` are the
    (person, slot) activities a move just added (so a cap can say who was there before)."""

    cells: set[tuple[str, int]] | None = None  # (person, slot)
    commitments: set[str] | None = None
    meetings: set[tuple[str, int]] | None = None  # (team, slot), present or just removed
    teams: set[str] | None = None  # their windows
    arrived: set[tuple[str, int]] = field(default_factory=set)

    @staticmethod
    def everything() -> Focus:
        return Focus()


def _cells(roster: Roster, focus: Focus) -> Iterable[tuple[str, int]]:
    if focus.cells is None:
        return list(roster.activities)
    return [k for k in focus.cells if k in roster.activities]


def _path(roster: Roster, kind: str, ident: str, s: int, suffix: str = "") -> str:
    path = roster.where.get((kind, ident, s))
    return f"{path}{suffix}: " if path else ""


# ---- the rules --------------------------------------------------------------------


def one_activity_per_slot(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 1: a person does at most one protected activity per slot."""
    pr = roster.problem
    for p, s in _cells(roster, focus):
        acts = roster.activities[(p, s)]
        if len(acts) > 1:
            ids = [roster.describe(a) for a in acts]
            yield Breach(
                1,
                f"{p} has {len(acts)} protected activities in {pr.slots[s].id}: "
                f"{', '.join(i for i, _ in ids)} (rule 1)",
                f"{_who(pr, p)} would have {len(acts)} protected activities on {when(pr, s)}: "
                f"{' and '.join(w for _, w in ids)}",
            )


def availability(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 2: sessions and team attendances only in slots the person has in `available`."""
    pr = roster.problem
    avail = pr.available_idx
    for p, s in _cells(roster, focus):
        if p in avail and s not in avail[p]:
            for what in roster.activities[(p, s)]:
                kind, ident = what.split(":", 1)
                where = (
                    _path(roster, "session", p, s)
                    if kind == "c"
                    else _path(roster, "team", ident, s, ".attendees")
                )
                yield Breach(
                    2,
                    f"{where}{p} is not available in {pr.slots[s].id} (rule 2)",
                    f"{_who(pr, p)} is not available on {when(pr, s)} "
                    "(on leave, not working or a fixed commitment)",
                )


def team_meetings(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 3: a team meets only in its `slots` if given, with at least `quorum`
    attendees, all of them members."""
    pr = roster.problem
    keys = roster.meetings if focus.meetings is None else focus.meetings
    for t, s in list(keys):
        attendees = roster.meetings.get((t, s))
        if attendees is None:
            continue
        team = pr.team[t]
        sid = pr.slots[s].id
        if team.slots is not None and sid not in team.slots:
            yield Breach(
                3,
                f"{_path(roster, 'team', t, s)}{t} may not meet in {sid} (rule 3)",
                f"{_team(pr, t, True)} may not meet on {when(pr, s)} (not one of its slots)",
            )
        for p in attendees:
            if p not in team.members:
                yield Breach(
                    3,
                    f"{_path(roster, 'team', t, s, '.attendees')}{p!r} is not a member of {t} "
                    "(rule 3)",
                    f"{_who(pr, p)} is not a member of {_team(pr, t)}",
                )
        if len(set(attendees)) < team.quorum:
            yield Breach(
                3,
                f"{_path(roster, 'team', t, s)}{len(set(attendees))} attendees, below {t}'s quorum "
                f"of {team.quorum} (rule 3)",
                f"{_team(pr, t, True)} would have {len(set(attendees))} members attending on "
                f"{when(pr, s)}, below its quorum of {team.quorum}",
            )


def caps(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 4: in each slot a cap covers, at most `max_away` of its department away."""
    pr = roster.problem
    if not pr.caps:
        return
    if focus.cells is None:
        keys = [k for k, n in roster.away.items() if n > 0]
    else:
        keys = []
        for p, s in focus.cells:
            dept = pr.person[p].department if p in pr.person else None
            if dept is not None and (dept, s) not in keys:
                keys.append((dept, s))
    for dept, s in keys:
        n = roster.away.get((dept, s), 0)
        sid = pr.slots[s].id
        for ci in pr.caps_of_department.get(dept, ()):
            cap = pr.caps[ci]
            if cap.covers(sid) and n > cap.max_away:
                new = sum(
                    1
                    for p, s2 in focus.arrived
                    if s2 == s and p in pr.person and pr.person[p].department == dept
                )
                name = roster.department_names.get(dept, dept)
                if new:
                    words = (
                        f"{name} already has {n - new} of {cap.max_away} people away on "
                        f"{when(pr, s)}"
                    )
                else:
                    words = (
                        f"{name} would have {n} people away on {when(pr, s)}, "
                        f"above its cap of {cap.max_away}"
                    )
                yield Breach(
                    4,
                    f"{n} of {dept} away in {sid}, above its cap of {cap.max_away} (rule 4)",
                    words,
                )


def limits(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 5: max_per_day, max_per_week and each window's max."""
    pr = roster.problem
    if focus.cells is None:
        days = [k for k, n in roster.per_day.items() if n > 0]
        weeks = [k for k, n in roster.per_week.items() if n > 0]
    else:
        days = list(dict.fromkeys((p, pr.slot_days[s]) for p, s in focus.cells))
        weeks = list(dict.fromkeys((p, pr.slot_weeks[s]) for p, s in focus.cells))
    for p, d in days:
        n, mx = roster.per_day.get((p, d), 0), pr.person[p].max_per_day
        if mx is not None and n > mx:
            yield Breach(
                5,
                f"{p} has {n} protected activities on {d}, above max_per_day {mx} (rule 5)",
                f"{_who(pr, p)} would have {n} protected activities on {_day(d)}, "
                f"more than their limit of {mx} a day",
            )
    for p, wk in weeks:
        n, mx = roster.per_week.get((p, wk), 0), pr.person[p].max_per_week
        if mx is not None and n > mx:
            monday = date.fromisocalendar(wk[0], wk[1], 1)
            yield Breach(
                5,
                f"{p} has {n} protected activities in ISO week {wk[1]} of {wk[0]}, above "
                f"max_per_week {mx} (rule 5)",
                f"{_who(pr, p)} would have {n} protected activities in the week of "
                f"{_day(monday)}, more than their limit of {mx} a week",
            )
    commitments = pr.commitments if focus.commitments is None else [
        pr.commitment[c] for c in sorted(focus.commitments)
    ]
    for c in commitments:
        for wi, w in enumerate(c.windows):
            n = roster.window.get((c.id, wi), 0)
            if w.max is not None and n > w.max:
                yield Breach(
                    5,
                    f"commitment {c.id} window {wi} has {n} sessions, above its max {w.max} "
                    "(rule 5)",
                    f"{_who(pr, c.person)} would have {n} {c.label} sessions from "
                    f"{_day(w.start)} to {_day(w.end)}, more than its maximum of {w.max}",
                )
    teams = pr.teams if focus.teams is None else [pr.team[t] for t in sorted(focus.teams)]
    for t in teams:
        for wi, w in enumerate(t.windows):
            n = roster.team_window.get((t.id, wi), 0)
            if w.max is not None and n > w.max:
                yield Breach(
                    5,
                    f"team {t.id} window {wi} has {n} sessions, above its max {w.max} (rule 5)",
                    f"{_team(pr, t.id, True)} would meet {n} times from {_day(w.start)} to "
                    f"{_day(w.end)}, more than its maximum of {w.max}",
                )


def pins(roster: Roster, focus: Focus) -> Iterator[Breach]:
    """Rule 6: every pinned entry is in the plan (a session with its commitment if named;
    a team meeting, with the pinned member attending if named)."""
    pr = roster.problem
    idx = pr.slot_index
    for i, pin in enumerate(pr.pinned):
        s = idx[pin.slot]
        if pin.team is not None:
            if focus.meetings is not None and (pin.team, s) not in focus.meetings:
                continue
            att = roster.meetings.get((pin.team, s))
            ok = att is not None and (pin.person is None or pin.person in att)
            if pin.person is None:
                words = (
                    f"{_team(pr, pin.team, True)} is pinned to meet on {when(pr, s)} by a manager"
                )
            else:
                words = (
                    f"{_who(pr, pin.person)} is pinned to attend {_team(pr, pin.team)} on "
                    f"{when(pr, s)} by a manager"
                )
        else:
            assert pin.person is not None
            if focus.cells is not None and (pin.person, s) not in focus.cells:
                continue
            c = roster.sessions.get((pin.person, s))
            ok = c is not None and (pin.commitment is None or c == pin.commitment)
            words = f"{_who(pr, pin.person)}'s session on {when(pr, s)} is pinned by a manager"
        if not ok:
            yield Breach(
                6,
                f"pinned[{i}] ({pin.person or pin.team} in {pin.slot}) is not in the plan (rule 6)",
                words,
            )


def already_meets(problem: Problem, t: str, s: int) -> Breach:
    """Rule 3, the part a roster cannot hold twice: a team meets at most once per slot."""
    return Breach(
        3,
        f"{t} meets twice in {problem.slots[s].id} (rule 3)",
        f"{_team(problem, t, True)} already meets on {when(problem, s)}",
    )


RULES: tuple[Callable[[Roster, Focus], Iterator[Breach]], ...] = (
    one_activity_per_slot,
    availability,
    team_meetings,
    caps,
    limits,
    pins,
)


def breaches(roster: Roster, focus: Focus | None = None) -> list[Breach]:
    """Every hard-rule breach within `focus` (everything by default), rule by rule."""
    focus = focus or Focus.everything()
    return [b for rule in RULES for b in rule(roster, focus)]

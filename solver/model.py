"""Domain of the solver: frozen dataclasses for a problem and its solution.

Money is held in GBP as floats at the edges and in pence (integers) inside the
optimiser; `pence()` is the one conversion.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

PROBLEM_FORMAT = "sel-time/problem@1"
SOLUTION_FORMAT = "sel-time/solution@1"

STATUSES = ("optimal", "feasible", "infeasible", "unknown")
REASONS = ("unavailable", "constrained", "cost")
TERMS = ("cost", "shortfall", "absence", "churn", "avoid")
FAIRNESS = "fairness"  # the sixth term, present only when the problem names groups


def per_thousand(short: int, entitled: int) -> int:
    """A group's shortfall in sessions per thousand entitled, rounded up (0 when entitled
    is 0): the quantity the fairness term takes the worst of."""
    return -(-1000 * short // entitled) if entitled > 0 else 0


def pence(gbp: float) -> int:
    """GBP to whole pence (half away from zero), the unit the optimiser works in."""
    return round(gbp * 100 + (1e-9 if gbp >= 0 else -1e-9))


def gbp(p: float) -> float:
    """Pence to GBP rounded to 2 dp."""
    return round(p / 100.0, 2)


@dataclass(frozen=True)
class Slot:
    """A schedulable session: local wall-clock start and end (no offset)."""

    id: str
    start: datetime
    end: datetime

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def week(self) -> tuple[int, int]:
        iso = self.start.isocalendar()
        return (iso[0], iso[1])


@dataclass(frozen=True)
class Window:
    """Dates inclusive; asks for `sessions`, at most `max` when given."""

    start: date
    end: date
    sessions: int
    max: int | None = None


@dataclass(frozen=True)
class Person:
    id: str
    available: Mapping[str, float]
    department: str | None = None
    avoid: frozenset[str] = frozenset()
    max_per_day: int | None = None
    max_per_week: int | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Commitment:
    id: str
    person: str
    windows: tuple[Window, ...]
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Team:
    id: str
    members: tuple[str, ...]
    quorum: int
    windows: tuple[Window, ...]
    slots: frozenset[str] | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return f"team {self.name or self.id}"


@dataclass(frozen=True)
class Cap:
    department: str
    max_away: int
    slots: frozenset[str] | None = None

    def covers(self, slot: str) -> bool:
        return self.slots is None or slot in self.slots


@dataclass(frozen=True)
class Pin:
    """A fixed entry: an individual session (person, optional commitment), a team
    meeting (team), or one member's attendance at a team meeting (team and person)."""

    slot: str
    person: str | None = None
    commitment: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class PreviousEntry:
    """An entry of the published plan, matched on (person, slot) or (team, slot)."""

    slot: str
    person: str | None = None
    commitment: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Weights:
    shortfall: float = 5000.0
    absence: float = 200.0
    churn: float = 50.0
    avoid: float = 25.0
    fairness: float = 0.0  # GBP per session short per thousand entitled, of the worst group


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated problem with precomputed indexes (built lazily, once)."""

    slots: tuple[Slot, ...]
    people: tuple[Person, ...]
    commitments: tuple[Commitment, ...] = ()
    teams: tuple[Team, ...] = ()
    caps: tuple[Cap, ...] = ()
    pinned: tuple[Pin, ...] = ()
    previous: tuple[PreviousEntry, ...] = ()
    weights: Weights = field(default_factory=Weights)
    timezone: str = "Europe/London"

    # ---- indexes -----------------------------------------------------------
    @cached_property
    def slot_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.slots)}

    @cached_property
    def slot_days(self) -> list[date]:
        return [s.day for s in self.slots]

    @cached_property
    def slot_weeks(self) -> list[tuple[int, int]]:
        return [s.week for s in self.slots]

    @cached_property
    def person(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @cached_property
    def commitment(self) -> dict[str, Commitment]:
        return {c.id: c for c in self.commitments}

    @cached_property
    def team(self) -> dict[str, Team]:
        return {t.id: t for t in self.teams}

    @cached_property
    def commitments_of(self) -> dict[str, list[Commitment]]:
        out: dict[str, list[Commitment]] = defaultdict(list)
        for c in self.commitments:
            out[c.person].append(c)
        return out

    @cached_property
    def teams_of(self) -> dict[str, list[Team]]:
        out: dict[str, list[Team]] = defaultdict(list)
        for t in self.teams:
            for m in t.members:
                out[m].append(t)
        return out

    @cached_property
    def department_people(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for p in self.people:
            if p.department is not None:
                out[p.department].append(p.id)
        return out

    @cached_property
    def caps_of_department(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.caps):
            out[c.department].append(i)
        return out

    @cached_property
    def available_idx(self) -> dict[str, dict[int, int]]:
        """person id -> {slot index: cost in pence}."""
        idx = self.slot_index
        return {
            p.id: {idx[s]: pence(c) for s, c in p.available.items() if s in idx}
            for p in self.people
        }

    @cached_property
    def avoid_idx(self) -> dict[str, frozenset[int]]:
        idx = self.slot_index
        return {p.id: frozenset(idx[s] for s in p.avoid if s in idx) for p in self.people}

    @cached_property
    def weights_pence(self) -> dict[str, int]:
        w = self.weights
        return {
            "shortfall": pence(w.shortfall),
            "absence": pence(w.absence),
            "churn": pence(w.churn),
            "avoid": pence(w.avoid),
            "fairness": pence(w.fairness),
        }

    # ---- fairness ------------------------------------------------------------
    @cached_property
    def group_members(self) -> dict[str, tuple[str, ...]]:
        """group name -> its members' ids, groups in name order (empty: no groups named)."""
        out: dict[str, list[str]] = defaultdict(list)
        for p in self.people:
            for g in p.groups:
                out[g].append(p.id)
        return {g: tuple(out[g]) for g in sorted(out)}

    @property
    def has_groups(self) -> bool:
        return bool(self.group_members)

    @cached_property
    def group_entitled(self) -> dict[str, int]:
        """group -> the sum of `sessions` over the windows of its members' commitments."""
        return {
            g: sum(
                w.sessions
                for p in members
                for c in self.commitments_of.get(p, ())
                for w in c.windows
            )
            for g, members in self.group_members.items()
        }

    def window_range(self, window: Window) -> tuple[int, int]:
        """Slot indexes [lo, hi) whose day falls in the window."""
        days = self.slot_days
        return (bisect.bisect_left(days, window.start), bisect.bisect_right(days, window.end))

    @cached_property
    def commitment_ranges(self) -> dict[str, list[tuple[int, int]]]:
        return {c.id: [self.window_range(w) for w in c.windows] for c in self.commitments}

    @cached_property
    def team_ranges(self) -> dict[str, list[tuple[int, int]]]:
        return {t.id: [self.window_range(w) for w in t.windows] for t in self.teams}

    @cached_property
    def team_allowed(self) -> dict[str, frozenset[int] | None]:
        idx = self.slot_index
        return {
            t.id: None if t.slots is None else frozenset(idx[s] for s in t.slots if s in idx)
            for t in self.teams
        }

    @cached_property
    def horizon(self) -> tuple[date, date]:
        return (self.slots[0].day, self.slots[-1].day)


# ---- solution ----------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    person: str
    commitment: str
    slot: str
    cost: float


@dataclass(frozen=True)
class TeamSession:
    team: str
    slot: str
    attendees: tuple[str, ...]
    absent: tuple[str, ...]
    cost: float


@dataclass(frozen=True)
class Shortfall:
    """One commitment window (`commitment`) or team window (`team`) short of its sessions."""

    window: int
    required: int
    scheduled: int
    reason: str
    commitment: str | None = None
    team: str | None = None
    explanation: str = ""


@dataclass(frozen=True)
class GroupShare:
    """One fairness group: sessions its members' windows ask for and how many are short."""

    group: str
    entitled: int
    short: int


@dataclass(frozen=True)
class Solution:
    status: str
    objective: float | None
    bound: float | None
    wall_seconds: float
    sessions: tuple[Session, ...] = ()
    team_sessions: tuple[TeamSession, ...] = ()
    shortfalls: tuple[Shortfall, ...] = ()
    conflicts: tuple[str, ...] = ()
    totals: Mapping[str, float] = field(default_factory=dict)
    objective_terms: Mapping[str, float] = field(default_factory=dict)
    solver: Mapping[str, object] = field(default_factory=dict)
    breakdown: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    team_breakdown: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    groups: tuple[GroupShare, ...] = ()

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

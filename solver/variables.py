"""The model's variables: one boolean per person, available slot and activity (and per team
meeting), only where the person is available, within a `Scope` (a block of slots and a group
of people; the whole problem is the widest scope); and the named penalty terms rules return."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.model import Commitment, Pin, PreviousEntry, Problem, Team


@dataclass(frozen=True)
class Scope:
    """Slots [lo, hi) and the people (None: everyone) one model covers. With
    `fixed_teams`, team meetings are not decided here: those given (team, slot) ->
    attendees simply occupy their attendees (one activity, caps and limits count them).
    With `fairness_held` (group -> sessions short outside this scope, held as planned), a
    scope that is not the whole problem carries the fairness term as well."""

    lo: int
    hi: int
    people: frozenset[str] | None = None
    fixed_teams: Mapping[tuple[str, int], tuple[str, ...]] | None = field(
        default=None, compare=False
    )
    fairness_held: Mapping[str, int] | None = field(default=None, compare=False)

    @staticmethod
    def whole(problem: Problem) -> Scope:
        return Scope(0, len(problem.slots), None)

    def has_person(self, p: str) -> bool:
        return self.people is None or p in self.people

    def has_slot(self, s: int) -> bool:
        return self.lo <= s < self.hi


@dataclass(frozen=True)
class PenaltyTerm:
    """coefficient * (constant + sum(sign * literal)): one priced unit of a soft rule."""

    name: str  # cost, shortfall, absence, churn, avoid
    owner: str  # person id, or team id for team shortfall and churn
    coefficient: int  # pence
    literals: tuple[tuple[cp_model.IntVar, int], ...] = ()
    constant: int = 0


@dataclass
class Vars:
    scope: Scope
    x: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)  # (commitment, slot)
    meet: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)  # (team, slot)
    attend: dict[tuple[str, str, int], cp_model.IntVar] = field(
        default_factory=dict
    )  # (team, person, slot)
    sessions_at: dict[tuple[str, int], list[cp_model.IntVar]] = field(
        default_factory=lambda: defaultdict(list)
    )
    activity: dict[tuple[str, int], list[cp_model.IntVar]] = field(
        default_factory=lambda: defaultdict(list)
    )
    shortfall: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)
    fixed: set[tuple[str, int]] = field(default_factory=set)  # (person, slot) held by a fixed team
    worst: cp_model.IntVar | None = None  # the fairness term's worst group, per thousand
    # Each group's row of the fairness term: (entitled, short held outside the model, the
    # model's shortfall of its members' windows), so that a hint can price `worst`.
    fairness_rows: list[tuple[int, int, list[int | cp_model.IntVar]]] = field(
        default_factory=list
    )
    commitments: list[Commitment] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.x) + len(self.meet) + len(self.attend)


def create_variables(model: cp_model.CpModel, problem: Problem, scope: Scope) -> Vars:
    """Decision literals: a session x[c, s] only where c's person is available in s and s is
    in one of c's windows (or pinned, or in the previous plan); a meeting m[t, s] where the
    team may meet and enough members are available; an attendance a[t, p, s] for each
    member available in s."""
    v = Vars(scope)
    avail = problem.available_idx
    lo, hi = scope.lo, scope.hi
    extra: dict[str, set[int]] = defaultdict(set)  # person -> pinned/previous slots
    extra_c: dict[str, set[int]] = defaultdict(set)  # commitment -> pinned/previous slots
    team_extra: dict[str, set[int]] = defaultdict(set)
    entries: tuple[Pin | PreviousEntry, ...] = (*problem.pinned, *problem.previous)
    for e in entries:
        s = problem.slot_index[e.slot]
        if not scope.has_slot(s):
            continue
        if e.team is not None:
            team_extra[e.team].add(s)
        elif e.person is not None and scope.has_person(e.person):
            if e.commitment is None:
                extra[e.person].add(s)
            else:
                extra_c[e.commitment].add(s)
    if scope.fixed_teams is not None:
        for (_, s), attendees in scope.fixed_teams.items():
            if scope.has_slot(s):
                v.fixed.update((p, s) for p in attendees if scope.has_person(p))
    people = (
        problem.people
        if scope.people is None
        else [problem.person[p] for p in sorted(scope.people)]
    )
    for person in people:
        p = person.id
        av = avail[p]
        for c in problem.commitments_of.get(p, ()):
            v.commitments.append(c)
            slots: set[int] = set()
            for wlo, whi in problem.commitment_ranges[c.id]:
                for s in range(max(wlo, lo), min(whi, hi)):
                    if s in av:
                        slots.add(s)
            slots.update(s for s in extra.get(p, ()) if s in av)
            slots.update(s for s in extra_c.get(c.id, ()) if s in av)
            for s in sorted(slots):
                if (p, s) in v.fixed:
                    continue
                var = model.new_bool_var(f"x[{c.id},{s}]")
                v.x[(c.id, s)] = var
                v.sessions_at[(p, s)].append(var)
                v.activity[(p, s)].append(var)
    for t in problem.teams if scope.fixed_teams is None else ():
        if scope.people is not None and t.members[0] not in scope.people:
            continue
        v.teams.append(t)
        allowed = problem.team_allowed[t.id]
        slots = set()
        for wlo, whi in problem.team_ranges[t.id]:
            slots.update(range(max(wlo, lo), min(whi, hi)))
        slots.update(team_extra.get(t.id, ()))
        for s in sorted(slots):
            if allowed is not None and s not in allowed:
                continue
            members = [p for p in t.members if s in avail[p]]
            if len(members) < t.quorum:
                continue
            m = model.new_bool_var(f"m[{t.id},{s}]")
            v.meet[(t.id, s)] = m
            for p in members:
                a = model.new_bool_var(f"a[{t.id},{p},{s}]")
                v.attend[(t.id, p, s)] = a
                v.activity[(p, s)].append(a)
    return v

"""Do the pins hold together? The pinned entries alone decide it (commitments and team
windows are elastic), so a small model of just the pins, with one assumption literal per
pin, cap, limit and clash, either yields the pinned part of every plan or names a small
set of pins and rules that cannot all hold, in words a rota manager understands.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ortools.sat.python import cp_model

from solver.model import Pin, Problem
from solver.plan import Plan

__all__ = ["PinCheck", "check_pins"]


@dataclass
class PinCheck:
    """`plan` holds the pinned entries (attributed, with quorum attendees) when they are
    consistent; otherwise `conflicts` says why not."""

    plan: Plan | None
    conflicts: list[str] = field(default_factory=list)
    decided: bool = True  # False: the check ran out of time (no plan, but no proof either)

    @property
    def ok(self) -> bool:
        return self.plan is not None


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%B %Y}"


def _join(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# What an assumption literal stands for: a tag, then its key: ("pin", i), ("one", p, s),
# ("cap", ci, s), ("day", p, date), ("week", p, (year, week)), ("window", c, wi), ...
Assumed = tuple[Any, ...]


class _PinModel:
    def __init__(self, problem: Problem):
        self.pr = problem
        self.m = cp_model.CpModel()
        self.x: dict[tuple[str, int], cp_model.IntVar] = {}
        self.meet: dict[tuple[str, int], cp_model.IntVar] = {}
        self.attend: dict[tuple[str, str, int], cp_model.IntVar] = {}
        self.activity: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
        self.pins_of_var: dict[int, set[int]] = defaultdict(set)
        self.assumptions: list[cp_model.IntVar] = []
        self.what: list[Assumed] = []  # parallel to assumptions
        self.impossible: dict[int, str] = {}  # pin index -> why it cannot hold alone
        self.position: dict[int, int] = {}  # assumption var index -> position in assumptions

    def lit(self, what: Assumed) -> cp_model.IntVar:
        v = self.m.new_bool_var(str(what))
        self.position[v.index] = len(self.assumptions)
        self.assumptions.append(v)
        self.what.append(what)
        return v

    def x_var(self, c: str, p: str, s: int, pin: int) -> cp_model.IntVar:
        v = self.x.get((c, s))
        if v is None:
            v = self.x[(c, s)] = self.m.new_bool_var(f"x[{c},{s}]")
            self.activity[(p, s)].append(v)
        self.pins_of_var[v.index].add(pin)
        return v

    def meet_var(self, t: str, s: int, pin: int) -> cp_model.IntVar:
        v = self.meet.get((t, s))
        if v is None:
            v = self.meet[(t, s)] = self.m.new_bool_var(f"m[{t},{s}]")
            team = self.pr.team[t]
            avail = self.pr.available_idx
            atts = []
            for p in team.members:
                if s in avail[p]:
                    a = self.attend[(t, p, s)] = self.m.new_bool_var(f"a[{t},{p},{s}]")
                    self.m.add_implication(a, v)
                    self.activity[(p, s)].append(a)
                    atts.append(a)
            self.m.add(sum(atts) >= team.quorum * v)
        self.pins_of_var[v.index].add(pin)
        for p in self.pr.team[t].members:
            att = self.attend.get((t, p, s))
            if att is not None:
                self.pins_of_var[att.index].add(pin)
        return v

    def add_pin(self, i: int, pin: Pin) -> None:
        pr = self.pr
        s = pr.slot_index[pin.slot]
        lit = self.lit(("pin", i))
        avail = pr.available_idx
        why = None
        if pin.team is not None:
            team = pr.team[pin.team]
            allowed = pr.team_allowed[team.id]
            n_avail = sum(1 for p in team.members if s in avail[p])
            if allowed is not None and s not in allowed:
                why = f"{pin.slot} is not one of the slots {team.label} may meet in"
            elif n_avail < team.quorum:
                why = (
                    f"only {n_avail} of its members are available then and its quorum is "
                    f"{team.quorum}"
                )
            elif pin.person is not None and pin.person not in team.members:
                why = f"{pr.person[pin.person].label} is not a member of {team.label}"
            elif pin.person is not None and s not in avail[pin.person]:
                why = (
                    f"{pr.person[pin.person].label} is not available then "
                    "(on leave, not working or a fixed commitment)"
                )
            else:
                self.m.add_implication(lit, self.meet_var(team.id, s, i))
                if pin.person is not None:
                    a = self.attend[(team.id, pin.person, s)]
                    self.pins_of_var[a.index].add(i)
                    self.m.add_implication(lit, a)
        else:
            p = pin.person
            assert p is not None
            coms = (
                [pr.commitment[pin.commitment]] if pin.commitment else pr.commitments_of.get(p, [])
            )
            if s not in avail[p]:
                why = "they are not available then (on leave, not working or a fixed commitment)"
            elif not coms:
                why = "they have no commitment to attribute the session to"
            else:
                self.m.add_bool_or([self.x_var(c.id, p, s, i) for c in coms]).only_enforce_if(lit)
        if why is not None:
            self.impossible[i] = why
            self.m.add_bool_or([lit.Not()])

    def add_rules(self) -> None:
        pr = self.pr
        for (p, s), lits in self.activity.items():
            if len(lits) > 1:
                self.m.add(sum(lits) <= 1).only_enforce_if(self.lit(("one", p, s)))
        by_dept: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
        per_person: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (p, s), lits in self.activity.items():
            dept = pr.person[p].department
            if dept is not None:
                by_dept[(dept, s)].extend(lits)
            per_person[p].extend((s, v) for v in lits)
        for ci, cap in enumerate(pr.caps):
            for (dept, s), lits in by_dept.items():
                if (
                    dept == cap.department
                    and cap.covers(pr.slots[s].id)
                    and len(lits) > cap.max_away
                ):
                    self.m.add(sum(lits) <= cap.max_away).only_enforce_if(self.lit(("cap", ci, s)))
        for p, items in per_person.items():
            person = pr.person[p]
            for limit, key, kind in (
                (person.max_per_day, pr.slot_days, "day"),
                (person.max_per_week, pr.slot_weeks, "week"),
            ):
                if limit is None:
                    continue
                groups: dict[object, list[cp_model.IntVar]] = defaultdict(list)
                for s, v in items:
                    groups[key[s]].append(v)
                for g, lits in groups.items():
                    if len(lits) > limit:
                        self.m.add(sum(lits) <= limit).only_enforce_if(self.lit((kind, p, g)))
        by_com: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (c, s), v in self.x.items():
            by_com[c].append((s, v))
        for c, items in by_com.items():
            com = pr.commitment[c]
            for wi, (lo, hi) in enumerate(pr.commitment_ranges[c]):
                mx = com.windows[wi].max
                lits = [v for s, v in items if lo <= s < hi]
                if mx is not None and len(lits) > mx:
                    self.m.add(sum(lits) <= mx).only_enforce_if(self.lit(("window", c, wi)))
        by_team: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (t, s), v in self.meet.items():
            by_team[t].append((s, v))
        for t, items in by_team.items():
            team = pr.team[t]
            for wi, (lo, hi) in enumerate(pr.team_ranges[t]):
                mx = team.windows[wi].max
                lits = [v for s, v in items if lo <= s < hi]
                if mx is not None and len(lits) > mx:
                    self.m.add(sum(lits) <= mx).only_enforce_if(self.lit(("team_window", t, wi)))

    def solve(
        self, assumptions: list[cp_model.IntVar], seconds: float
    ) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        self.m.clear_assumptions()
        self.m.add_assumptions(assumptions)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.catch_sigint_signal = False  # the caller handles Ctrl-C (see solve)
        solver.parameters.max_time_in_seconds = max(0.1, seconds)
        return solver.solve(self.m), solver


def check_pins(problem: Problem, time_limit: float = 10.0, max_cores: int = 5) -> PinCheck:
    """Solve the pins-only model; return the pinned plan or the conflicts in words."""
    if not problem.pinned:
        return PinCheck(Plan())
    pm = _PinModel(problem)
    for i, pin in enumerate(problem.pinned):
        pm.add_pin(i, pin)
    pm.add_rules()
    start = time.monotonic()
    status, solver = pm.solve(pm.assumptions, time_limit)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        plan = Plan()
        for (c, s), v in pm.x.items():
            if solver.boolean_value(v):
                plan.sessions[(problem.commitment[c].person, s)] = c
        for (t, s), v in pm.meet.items():
            if solver.boolean_value(v):
                team = problem.team[t]
                plan.meetings[(t, s)] = tuple(
                    p
                    for p in team.members
                    if (t, p, s) in pm.attend and solver.boolean_value(pm.attend[(t, p, s)])
                )
        return PinCheck(plan)
    if status != cp_model.INFEASIBLE:
        return PinCheck(
            None,
            ["The pinned sessions could not be checked in time; try fewer pins."],
            decided=False,
        )
    # Report up to `max_cores` independent clashes: after each one, set its pins aside.
    conflicts: list[str] = []
    active = list(pm.assumptions)
    for _ in range(max_cores):
        core = _shrink(pm, solver, active, start, time_limit)
        conflicts.extend(_describe(problem, pm, [pm.what[pm.position[v.index]] for v in core]))
        dropped = {v.index for v in core if pm.what[pm.position[v.index]][0] == "pin"}
        if not dropped:
            break
        active = [v for v in active if v.index not in dropped]
        left = time_limit - (time.monotonic() - start)
        if left <= 0:
            break
        status, solver = pm.solve(active, left)
        if status != cp_model.INFEASIBLE:
            break
    return PinCheck(None, conflicts)


def _shrink(
    pm: _PinModel,
    solver: cp_model.CpSolver,
    active: list[cp_model.IntVar],
    start: float,
    time_limit: float,
) -> list[cp_model.IntVar]:
    """A small infeasible subset of `active`: CP-SAT's core, then each literal dropped
    whose removal keeps the rest infeasible."""
    keep = {v.index for v in active}
    core = [
        pm.assumptions[pm.position[i]]
        for i in solver.sufficient_assumptions_for_infeasibility()
        if i in pm.position and i in keep
    ]
    if not core:
        core = list(active)
    if len(core) <= 60:
        for lit in list(core):
            left = time_limit - (time.monotonic() - start)
            if left <= 0 or len(core) == 1:
                break
            trial = [v for v in core if v.index != lit.index]
            st, _ = pm.solve(trial, min(left, 2.0))
            if st == cp_model.INFEASIBLE:
                core = trial
    return core


def _pin_text(problem: Problem, pin: Pin) -> str:
    if pin.team is not None:
        team = problem.team[pin.team]
        if pin.person is not None:
            return (
                f"{problem.person[pin.person].label} is pinned to attend {team.label} on {pin.slot}"
            )
        return f"{team.label[0].upper()}{team.label[1:]} is pinned to meet on {pin.slot}"
    who = problem.person[pin.person].label  # type: ignore[index]  # no team: a person's pin
    if pin.commitment is not None:
        return (
            f"{who} is pinned to a {problem.commitment[pin.commitment].label} session on {pin.slot}"
        )
    return f"{who} is pinned to a session on {pin.slot}"


def _pin_owner(problem: Problem, pin: Pin) -> str:
    if pin.person is not None:
        return problem.person[pin.person].label
    return problem.team[pin.team].label  # type: ignore[index]  # no person: a team's pin


def _describe(problem: Problem, pm: _PinModel, core: list[Assumed]) -> list[str]:
    pins = [w[1] for w in core if w[0] == "pin"]
    covered: set[int] = set()
    out: list[str] = []

    def pins_touching(var_lists: list[cp_model.IntVar]) -> list[int]:
        found = []
        for v in var_lists:
            for i in sorted(pm.pins_of_var.get(v.index, ())):
                if i in pins and i not in found:
                    found.append(i)
        return found

    for w in core:
        kind = w[0]
        if kind == "pin":
            continue
        if kind == "cap":
            _, ci, s = w
            cap = problem.caps[ci]
            lits = [
                v
                for p in problem.department_people[cap.department]
                for v in pm.activity.get((p, s), [])
            ]
            involved = pins_touching(lits)
            names = [_pin_owner(problem, problem.pinned[i]) for i in involved]
            out.append(
                f"Pinned sessions for {_join(names) or 'several people'} on {problem.slots[s].id} "
                f"exceed the {cap.department} cap of {cap.max_away} away"
            )
        elif kind == "one":
            _, p, s = w
            involved = pins_touching(pm.activity[(p, s)])
            what = [
                problem.team[tid].label
                if (tid := problem.pinned[i].team)
                else "an individual session"
                for i in involved
            ]
            out.append(
                f"{problem.person[p].label} is pinned to more than one activity on "
                f"{problem.slots[s].id} ({_join(what)})"
            )
        elif kind in ("day", "week"):
            _, p, g = w
            person = problem.person[p]
            keys = problem.slot_days if kind == "day" else problem.slot_weeks
            lits = [v for (q, s), vs in pm.activity.items() if q == p and keys[s] == g for v in vs]
            involved = pins_touching(lits)
            if kind == "day":
                out.append(
                    f"{len(involved)} pinned sessions for {person.label} on {_day(g)} exceed "
                    f"their limit of {person.max_per_day} a day"
                )
            else:
                out.append(
                    f"{len(involved)} pinned sessions for {person.label} in ISO week {g[1]} "
                    f"of {g[0]} exceed their limit of {person.max_per_week} a week"
                )
        elif kind == "window":
            _, c, wi = w
            com = problem.commitment[c]
            win = com.windows[wi]
            lo, hi = problem.commitment_ranges[c][wi]
            involved = pins_touching([v for (cc, s), v in pm.x.items() if cc == c and lo <= s < hi])
            out.append(
                f"{len(involved)} pinned {com.label} sessions for "
                f"{problem.person[com.person].label} from {win.start} to {win.end} exceed its "
                f"maximum of {win.max}"
            )
        elif kind == "team_window":
            _, t, wi = w
            team = problem.team[t]
            win = team.windows[wi]
            lo, hi = problem.team_ranges[t][wi]
            involved = pins_touching(
                [v for (tt, s), v in pm.meet.items() if tt == t and lo <= s < hi]
            )
            out.append(
                f"{len(involved)} pinned meetings of {team.label} from {win.start} to {win.end} "
                f"exceed its maximum of {win.max}"
            )
        else:  # pragma: no cover - every literal kind is described above
            out.append(str(w))
            involved = []
        covered.update(involved)
    for i in pins:
        if i in pm.impossible:
            out.append(f"{_pin_text(problem, problem.pinned[i])}, but {pm.impossible[i]}")
        elif i not in covered:
            out.append(f"{_pin_text(problem, problem.pinned[i])}, which clashes with the above")
    return out

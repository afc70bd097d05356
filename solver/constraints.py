"""The CP-SAT model: variables only where a person is available, one function per rule
family, and every soft rule as named penalty terms (so the objective can be explained).

All money is in pence. A `Scope` restricts the model to a block of slots and a group of
people (see `solver.decompose`); the whole problem is the widest scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.model import Problem, per_thousand
from solver.plan import Plan
from solver.soft_rules import (
    _window_literals,
    add_absence,
    add_avoid,
    add_churn,
    add_cost,
    add_fairness,
    add_shortfall,
)
from solver.variables import PenaltyTerm, Scope, Vars, create_variables

__all__ = [
    "RULES",
    "Built",
    "PenaltyTerm",
    "Scope",
    "Vars",
    "build",
    "create_variables",
    "hint_values",
    "minimize_terms",
    "term_value",
]


# ---- hard rules ------------------------------------------------------------------


def add_one_activity_per_slot(
    model: cp_model.CpModel, v: Vars, problem: Problem
) -> list[PenaltyTerm]:
    """Rule 1: at most one protected activity per person per slot."""
    for lits in v.activity.values():
        if len(lits) > 1:
            model.add_at_most_one(lits)
    return []


def add_availability(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 2: holds by construction, as literals exist only where a person is available."""
    return []


def add_team_meetings(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 3: attendees only when the team meets, at least quorum of them (members only
    and allowed slots by construction; one literal per team and slot)."""
    by_meet: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for (t, p, s), a in v.attend.items():
        by_meet[(t, s)].append(a)
        model.add_implication(a, v.meet[(t, s)])
    for (t, s), m in v.meet.items():
        model.add(cp_model.LinearExpr.sum(by_meet[(t, s)]) >= problem.team[t].quorum * m)
    return []


def add_caps(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 4: at most max_away people of a department on protected time in each covered slot."""
    if not problem.caps:
        return []
    by_dept: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for (p, s), lits in v.activity.items():
        dept = problem.person[p].department
        if dept is not None and dept in problem.caps_of_department:
            by_dept[(dept, s)].extend(lits)
    held: dict[tuple[str, int], int] = defaultdict(int)  # fixed team attendances
    for p, s in v.fixed:
        dept = problem.person[p].department
        if dept is not None:
            held[(dept, s)] += 1
    for (dept, s), lits in by_dept.items():
        sid = problem.slots[s].id
        for ci in problem.caps_of_department[dept]:
            cap = problem.caps[ci]
            room = cap.max_away - held.get((dept, s), 0)
            if cap.covers(sid) and len(lits) > room:
                if room == 1:
                    model.add_at_most_one(lits)
                else:
                    model.add(cp_model.LinearExpr.sum(lits) <= room)
    return []


def add_limits(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 5: max_per_day, max_per_week and each window's max."""
    per_person: dict[str, list[tuple[int, list[cp_model.IntVar]]]] = defaultdict(list)
    for (p, s), lits in v.activity.items():
        per_person[p].append((s, lits))
    held: dict[str, list[int]] = defaultdict(list)  # fixed team attendances
    for p, s in v.fixed:
        held[p].append(s)
    for p, items in per_person.items():
        person = problem.person[p]
        for limit, keys in (
            (person.max_per_day, problem.slot_days),
            (person.max_per_week, problem.slot_weeks),
        ):
            if limit is None:
                continue
            groups: dict[object, list[cp_model.IntVar]] = defaultdict(list)
            for s, lits in items:
                groups[keys[s]].extend(lits)
            busy: dict[object, int] = defaultdict(int)
            for s in held.get(p, ()):
                busy[keys[s]] += 1
            for key, lits in groups.items():
                room = limit - busy.get(key, 0)
                if len(lits) > room:
                    model.add(cp_model.LinearExpr.sum(lits) <= room)
    for kind, owners, ranges in (
        ("c", v.commitments, problem.commitment_ranges),
        ("t", v.teams, problem.team_ranges),
    ):
        for o in owners:
            for wi, lits in _window_literals(v, kind, o.id, ranges[o.id]):
                mx = o.windows[wi].max
                if mx is not None and len(lits) > mx:
                    model.add(cp_model.LinearExpr.sum(lits) <= mx)
    return []


def add_pins(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 6a: every pinned entry is in the plan."""
    team_ids = {t.id for t in v.teams}
    for pin in problem.pinned:
        s = problem.slot_index[pin.slot]
        if not v.scope.has_slot(s):
            continue
        if pin.team is not None:
            if pin.team not in team_ids:
                continue
            if pin.person is not None:
                lits = [lit] if (lit := v.attend.get((pin.team, pin.person, s))) is not None else []
            else:
                lits = [lit] if (lit := v.meet.get((pin.team, s))) is not None else []
        # a person's pin (parse_problem gives every pin a person or a team)
        elif pin.person is None or not v.scope.has_person(pin.person):
            continue
        elif pin.commitment is not None:
            lits = [lit] if (lit := v.x.get((pin.commitment, s))) is not None else []
        else:
            lits = list(v.sessions_at.get((pin.person, s), ()))
        # An empty clause cannot hold: such a pin makes the model infeasible (and the
        # pin check in `solver.conflicts` says why).
        model.add_bool_or(lits or [model.new_constant(0)])
    return []


def add_attribution(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Rule 6b: each session literal belongs to exactly one commitment; together with rule 1
    a person's session in a slot is attributed once."""
    return []


# ---- the whole model -------------------------------------------------------------


RULES: tuple[Callable[[cp_model.CpModel, Vars, Problem], list[PenaltyTerm]], ...] = (
    add_one_activity_per_slot,
    add_availability,
    add_team_meetings,
    add_caps,
    add_limits,
    add_pins,
    add_attribution,
    add_shortfall,
    add_fairness,
    add_absence,
    add_churn,
    add_avoid,
    add_cost,
)


@dataclass
class Built:
    model: cp_model.CpModel
    vars: Vars
    terms: list[PenaltyTerm]
    constant: int  # pence, the part of the objective no decision changes

    @property
    def floor(self) -> int:
        """A bound no plan of this scope beats (pence): each term at its least."""
        total = 0
        for t in self.terms:
            least = t.constant
            for lit, sign in t.literals:
                lo, hi = lit.proto.domain[0], lit.proto.domain[-1]
                least += sign * (lo if sign > 0 else hi)
            total += t.coefficient * max(0, least)
        return total


def build(problem: Problem, scope: Scope | None = None) -> Built:
    """The model of one scope with its objective (pence) set."""
    scope = scope or Scope.whole(problem)
    model = cp_model.CpModel()
    v = create_variables(model, problem, scope)
    terms: list[PenaltyTerm] = []
    for rule in RULES:
        terms.extend(rule(model, v, problem))
    constant = minimize_terms(model, terms)
    return Built(model, v, terms, constant)


def minimize_terms(model: cp_model.CpModel, terms: list[PenaltyTerm]) -> int:
    """Set the model's objective to the sum of `terms` (pence); returns its constant part."""
    coefs: dict[int, int] = defaultdict(int)
    var_of: dict[int, cp_model.IntVar] = {}
    constant = 0
    for t in terms:
        constant += t.coefficient * t.constant
        for lit, sign in t.literals:
            coefs[lit.index] += t.coefficient * sign
            var_of[lit.index] = lit
    keys = [k for k, c in coefs.items() if c]
    model.minimize(
        cp_model.LinearExpr.weighted_sum([var_of[k] for k in keys], [coefs[k] for k in keys])
        + constant
    )
    return constant


def hint_values(problem: Problem, built: Built, plan: Plan) -> dict[int, int]:
    """A value for every variable of the model from a plan (var index -> value)."""
    v = built.vars
    values: dict[int, int] = {}
    for (cid, s), x in v.x.items():
        values[x.index] = int(plan.sessions.get((problem.commitment[cid].person, s)) == cid)
    attendees = {k: set(a) for k, a in plan.meetings.items()}
    for (t, s), m in v.meet.items():
        values[m.index] = int((t, s) in attendees)
    for (t, p, s), a in v.attend.items():
        values[a.index] = int(p in attendees.get((t, s), ()))
    for (kind, o, wi), sf in v.shortfall.items():
        if kind == "c":
            lo, hi = problem.commitment_ranges[o][wi]
            n = sum(values[xv.index] for s in range(lo, hi) if (xv := v.x.get((o, s))) is not None)
            need = problem.commitment[o].windows[wi].sessions
        else:
            lo, hi = problem.team_ranges[o][wi]
            n = sum(
                values[mv.index] for s in range(lo, hi) if (mv := v.meet.get((o, s))) is not None
            )
            need = problem.team[o].windows[wi].sessions
        values[sf.index] = max(0, need - n)
    if v.worst is not None:
        values[v.worst.index] = max(
            (
                per_thousand(
                    outside + sum(x if isinstance(x, int) else values[x.index] for x in shorts),
                    entitled,
                )
                for entitled, outside, shorts in v.fairness_rows
            ),
            default=0,
        )
    return values


def term_value(term: PenaltyTerm, value: Callable[[cp_model.IntVar], int]) -> int:
    """The term's penalty in pence, given a way to read each literal."""
    return term.coefficient * (
        term.constant + sum(sign * value(lit) for lit, sign in term.literals)
    )


def plan_from(problem: Problem, built: Built, value: Callable[[cp_model.IntVar], int]) -> Plan:
    """Read a plan back from solved (or hinted) values."""
    v = built.vars
    plan = Plan()
    for (c, s), x in v.x.items():
        if value(x):
            plan.sessions[(problem.commitment[c].person, s)] = c
    att: dict[tuple[str, int], list[str]] = defaultdict(list)
    for (t, p, s), a in v.attend.items():
        if value(a):
            att[(t, s)].append(p)
    for (t, s), m in v.meet.items():
        if value(m):
            order = problem.team[t].members
            plan.meetings[(t, s)] = tuple(p for p in order if p in att[(t, s)])
    return plan


def values_reader(values: Mapping[int, int]) -> Callable[[cp_model.IntVar], int]:
    return lambda lit: values[lit.index]

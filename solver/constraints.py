"""The CP-SAT model: variables only where a person is available, one function per rule
family, and every soft rule as named penalty terms (so the objective can be explained).

All money is in pence. A `Scope` restricts the model to a block of slots and a group of
people (see `solver.decompose`); the whole problem is the widest scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.model import FAIRNESS, Commitment, Pin, PreviousEntry, Problem, Team, per_thousand
from solver.plan import Plan

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


@dataclass(frozen=True)
class Scope:
    """Slots [lo, hi) and the people (None: everyone) one model covers. With
    `fixed_teams`, team meetings are not decided here: those given (team, slot) ->
    attendees simply occupy their attendees (one activity, caps and limits count them)."""

    lo: int
    hi: int
    people: frozenset[str] | None = None
    fixed_teams: Mapping[tuple[str, int], tuple[str, ...]] | None = field(
        default=None, compare=False
    )

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


# ---- soft rules ------------------------------------------------------------------


def _window_literals(
    v: Vars, kind: str, owner: str, ranges: list[tuple[int, int]]
) -> Iterator[tuple[int, list[cp_model.IntVar]]]:
    lo, hi = v.scope.lo, v.scope.hi
    for wi, (wlo, whi) in enumerate(ranges):
        if whi <= lo or wlo >= hi or wlo == whi:
            continue
        if kind == "c":
            lits = [v.x[(owner, s)] for s in range(max(wlo, lo), min(whi, hi)) if (owner, s) in v.x]
        else:
            lits = [
                v.meet[(owner, s)]
                for s in range(max(wlo, lo), min(whi, hi))
                if (owner, s) in v.meet
            ]
        yield wi, lits


def add_shortfall(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Each session a window asks for and does not get: weights.shortfall. Windows without a
    slot in the horizon are priced outside the model (see `solver.solve`)."""
    w = problem.weights_pence["shortfall"]
    terms = []
    for kind, owners, ranges in (
        ("c", v.commitments, problem.commitment_ranges),
        ("t", v.teams, problem.team_ranges),
    ):
        for o in owners:
            owner = o.person if isinstance(o, Commitment) else o.id
            for wi, lits in _window_literals(v, kind, o.id, ranges[o.id]):
                need = o.windows[wi].sessions
                if need <= 0:
                    continue
                if not lits:
                    terms.append(PenaltyTerm("shortfall", owner, w, (), need))
                    continue
                # Fewer candidate slots than sessions: that much shortfall is certain.
                floor = max(0, need - len(lits))
                sf = model.new_int_var(floor, need, f"short[{kind},{o.id},{wi}]")
                v.shortfall[(kind, o.id, wi)] = sf
                model.add(cp_model.LinearExpr.sum(lits) + sf >= need)
                terms.append(PenaltyTerm("shortfall", owner, w, ((sf, 1),)))
    return terms


def _window_shortfall(v: Vars, o_id: str, wi: int, need: int) -> int | cp_model.IntVar:
    """A commitment window's shortfall in the whole-problem model: its variable, or, where
    `add_shortfall` made none, the constant it must be (no candidate slot, or no slot in
    the horizon)."""
    if need <= 0:
        return 0
    sf = v.shortfall.get(("c", o_id, wi))
    return need if sf is None else sf


def add_fairness(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """The worst group's shortfall per thousand entitled sessions: weights.fairness each.

    `worst` is an integer with entitled_g * worst >= 1000 * short_g for every group with
    entitled sessions, which for an integer is worst >= ceil(1000 * short_g / entitled_g);
    minimising prices exactly the spec's max of ceilings. The max couples every group over
    the whole horizon, so the term exists only in the whole problem's model (`solve` keeps
    such a problem in one part; pieces solved for a hint leave it out)."""
    w = problem.weights_pence[FAIRNESS]
    scope = v.scope
    whole = (
        scope.lo == 0
        and scope.hi == len(problem.slots)
        and scope.people is None
        and scope.fixed_teams is None
    )
    if w == 0 or not problem.has_groups or not whole:
        return []
    worst = model.new_int_var(0, 1000, "fairness_worst")
    v.worst = worst
    short_of: dict[str, list[int | cp_model.IntVar]] = defaultdict(list)  # person -> windows
    for c in problem.commitments:
        for wi, win in enumerate(c.windows):
            short_of[c.person].append(_window_shortfall(v, c.id, wi, win.sessions))
    for g, members in problem.group_members.items():
        entitled = problem.group_entitled[g]
        if entitled <= 0:
            continue
        shorts = [x for p in members for x in short_of.get(p, ())]
        model.add(1000 * cp_model.LinearExpr.sum(shorts) <= entitled * worst)
    return [PenaltyTerm(FAIRNESS, "", w, ((worst, 1),))]


def add_absence(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Each member available in a team session's slot who does not attend: weights.absence."""
    w = problem.weights_pence["absence"]
    if w == 0:
        return []
    return [
        PenaltyTerm("absence", p, w, ((v.meet[(t, s)], 1), (a, -1)))
        for (t, p, s), a in v.attend.items()
    ]


def add_churn(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Each previous entry the plan drops: weights.churn."""
    w = problem.weights_pence["churn"]
    team_ids = {t.id for t in v.teams}
    terms = []
    for e in problem.previous:
        s = problem.slot_index[e.slot]
        if not v.scope.has_slot(s):
            continue
        lits: tuple[tuple[cp_model.IntVar, int], ...]
        if e.team is not None:
            if e.team not in team_ids:
                continue
            lit = (
                v.meet.get((e.team, s)) if e.person is None else v.attend.get((e.team, e.person, s))
            )
            lits = () if lit is None else ((lit, -1),)
            owner = e.team if e.person is None else e.person
        else:
            # a person's entry (parse_problem gives every entry a person or a team)
            if e.person is None or not v.scope.has_person(e.person):
                continue
            lits = tuple((x, -1) for x in v.sessions_at.get((e.person, s), ()))
            owner = e.person
        terms.append(PenaltyTerm("churn", owner, w, lits, 1))
    return terms


def add_avoid(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Each activity in a slot its person avoids: weights.avoid."""
    w = problem.weights_pence["avoid"]
    avoid = problem.avoid_idx
    return [
        PenaltyTerm("avoid", p, w, tuple((lit, 1) for lit in lits))
        for (p, s), lits in v.activity.items()
        if s in avoid[p]
    ]


def add_cost(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """Backfill: the `available` cost of every session and team attendance."""
    avail = problem.available_idx
    terms = []
    for (p, s), lits in v.activity.items():
        cost = avail[p][s]
        if cost:
            terms.append(PenaltyTerm("cost", p, cost, tuple((lit, 1) for lit in lits)))
    return terms


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
        short_of: dict[str, int] = defaultdict(int)
        for c in problem.commitments:
            for wi, win in enumerate(c.windows):
                short = _window_shortfall(v, c.id, wi, win.sessions)
                short_of[c.person] += short if isinstance(short, int) else values[short.index]
        values[v.worst.index] = max(
            (
                per_thousand(sum(short_of[p] for p in members), problem.group_entitled[g])
                for g, members in problem.group_members.items()
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

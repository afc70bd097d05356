"""The soft rules, each as named penalty terms in pence: shortfall, fairness, absence, churn,
half-days people would rather avoid, and backfill cost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ortools.sat.python import cp_model

from solver.model import FAIRNESS, Commitment, Problem
from solver.variables import PenaltyTerm, Vars


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
    """A commitment window's shortfall in a model: its variable, or, where `add_shortfall`
    made none, the constant it must be (no candidate slot, or no slot in the horizon)."""
    if need <= 0:
        return 0
    sf = v.shortfall.get(("c", o_id, wi))
    return need if sf is None else sf


def add_fairness(model: cp_model.CpModel, v: Vars, problem: Problem) -> list[PenaltyTerm]:
    """The worst group's shortfall per thousand entitled sessions: weights.fairness each.

    `worst` is an integer with entitled_g * worst >= 1000 * short_g for every group with
    entitled sessions, which for an integer is worst >= ceil(1000 * short_g / entitled_g);
    minimising prices exactly the spec's max of ceilings. The max couples every group over
    the whole horizon, so the term exists in the whole problem's model, and in a part's only
    when the rest of the plan is held (`Scope.fairness_held`: each group's shortfall outside
    the part); pieces solved for a hint leave it out."""
    w = problem.weights_pence[FAIRNESS]
    scope = v.scope
    whole = (
        scope.lo == 0
        and scope.hi == len(problem.slots)
        and scope.people is None
        and scope.fixed_teams is None
    )
    held = scope.fairness_held
    if w == 0 or not problem.has_groups or not (whole or held is not None):
        return []
    worst = model.new_int_var(0, 1000, "fairness_worst")
    v.worst = worst
    short_of: dict[str, list[int | cp_model.IntVar]] = defaultdict(list)  # person -> windows
    for c in problem.commitments if whole else v.commitments:
        for wi, (wlo, whi) in enumerate(problem.commitment_ranges[c.id]):
            if whole or (wlo < whi and wlo < scope.hi and whi > scope.lo):
                short_of[c.person].append(_window_shortfall(v, c.id, wi, c.windows[wi].sessions))
    for g, members in problem.group_members.items():
        entitled = problem.group_entitled[g]
        if entitled <= 0:
            continue
        shorts = [x for p in members for x in short_of.get(p, ())]
        outside = 0 if held is None else held.get(g, 0)
        v.fairness_rows.append((entitled, outside, shorts))
        model.add(1000 * (cp_model.LinearExpr.sum(shorts) + outside) <= entitled * worst)
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

"""Which commitment each session counts for, chosen after the slots are decided.

The objective sees a session's commitment only through window counts (shortfall, `max`), so
a solver is free to label a person's sessions either way when the counts come out the same.
The web app, though, identifies a published session by (commitment, slot): a relabelled
session is a cancelled entry and a new one on someone's calendar. So once the slots are
fixed, each person's sessions are re-attributed:

1. a session in a slot the previous plan had for commitment c keeps c whenever the counts
   allow it (as many as possible, exactly, by a min-cost flow);
2. the others get a deterministic attribution (earlier-listed commitments take earlier
   slots, in-window first), so that the same slots give the same labels whatever labels
   the solver happened to return.

Provably objective-neutral: for every commitment window, a window that had at least
`sessions` keeps at least `sessions` and at most `max`; a short window keeps its count
exactly. Shortfall is therefore identical window by window, and cost, absence, churn and
avoid do not depend on attribution at all. Pinned sessions with a commitment keep it.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.graph.python import min_cost_flow

from solver.model import Problem
from solver.plan import Plan

__all__ = ["attribute"]


def _window_of(problem: Problem, cid: str, s: int) -> int:
    """The index of c's window holding slot s, or -1 (windows of one commitment are disjoint)."""
    for wi, (lo, hi) in enumerate(problem.commitment_ranges[cid]):
        if lo <= s < hi:
            return wi
    return -1


def attribute(problem: Problem, plan: Plan) -> Plan:
    """`plan` with its sessions re-attributed (see the module docstring); the same slots,
    meetings and objective. Returns a new plan; `plan` is not changed."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for (p, s), _c in plan.sessions.items():
        if len(problem.commitments_of.get(p, ())) > 1:
            by_person[p].append(s)
    if not by_person:
        return plan.copy()
    idx = problem.slot_index
    prev: dict[tuple[str, int], str] = {}
    for e in problem.previous:
        if e.person is not None and e.team is None and e.commitment is not None:
            prev[(e.person, idx[e.slot])] = e.commitment
    pinned: dict[tuple[str, int], str] = {}
    for pin in problem.pinned:
        if pin.person is not None and pin.team is None and pin.commitment is not None:
            pinned[(pin.person, idx[pin.slot])] = pin.commitment
    n_slots = len(problem.slots)
    k_max = max(len(problem.commitments_of[p]) for p in by_person)
    n_max = max(len(v) for v in by_person.values())
    # Keeping one previous label outweighs every tie-break cost of a person together.
    bonus = (n_max + 1) * (k_max + 1) * (n_slots + 2)

    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    supply: list[int] = []
    session_arcs: list[tuple[tuple[str, int], list[tuple[int, str]]]] = []

    def node(value: int) -> int:
        supply.append(value)
        return len(supply) - 1

    for p in sorted(by_person):
        coms = problem.commitments_of[p]
        slots = sorted(by_person[p])
        count: dict[tuple[str, int], int] = defaultdict(int)
        for s in slots:
            c = plan.sessions[(p, s)]
            count[(c, _window_of(problem, c, s))] += 1
        sink = node(0)
        buckets: dict[tuple[str, int], int] = {}
        demand = 0
        for rank, c in enumerate(coms):
            for wi in range(-1, len(c.windows)):
                n = count.get((c.id, wi), 0)
                if wi < 0:
                    lo, hi = 0, len(slots)
                else:
                    w = c.windows[wi]
                    if n >= w.sessions:
                        lo = w.sessions
                        hi = max(n, w.max) if w.max is not None else len(slots)
                    else:
                        lo = hi = n
                b = node(-lo)
                demand += lo
                buckets[(c.id, wi)] = b
                if hi > lo:
                    tails.append(b)
                    heads.append(sink)
                    caps.append(hi - lo)
                    costs.append(0)
        supply[sink] = -(len(slots) - demand)
        for s in slots:
            key = (p, s)
            u = node(1)
            arcs = []
            fixed = pinned.get(key)
            for rank, c in enumerate(coms):
                if fixed is not None and c.id != fixed:
                    continue
                wi = _window_of(problem, c.id, s)
                cost = rank * (n_slots - s) if wi >= 0 else (k_max + 1) * (n_slots + 1)
                if prev.get(key) == c.id:
                    cost -= bonus
                arcs.append((len(tails), c.id))
                tails.append(u)
                heads.append(buckets[(c.id, wi)])
                caps.append(1)
                costs.append(cost)
            session_arcs.append((key, arcs))

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    for i, value in enumerate(supply):
        if value:
            flow.set_node_supply(i, value)
    out = plan.copy()
    if flow.solve() != flow.OPTIMAL:  # cannot happen: the plan's own labels are a flow
        return out
    for key, arcs in session_arcs:
        for arc, cid in arcs:
            if flow.flow(arc):
                out.sessions[key] = cid
                break
    return out

"""Which commitment each session counts for, chosen after the slots are decided.

The objective sees a session's commitment only through window counts (shortfall, `max`), so
a solver is free to label a person's sessions either way when the counts come out the same.
The web app, though, identifies a published session by (commitment, slot): a relabelled
session is a cancelled entry and a new one on someone's calendar. So once the slots are
fixed, each person's sessions are re-attributed:

1. a session in a slot the previous plan had for commitment c keeps c whenever that costs
   nothing (as many as possible, exactly, by one min-cost flow);
2. the others get a deterministic attribution (earlier-listed commitments take earlier
   slots, in-window first), so that the same slots give the same labels whatever labels
   the solver happened to return.

Provably objective-neutral. Cost, absence, churn and avoid do not depend on attribution;
shortfall depends on it only through each person's *coverage*: the sum over their windows
of min(sessions scheduled, sessions asked). The flow never puts a window above its `max`
and first maximises coverage, so coverage cannot fall; when it would rise (the plan left a
relabelling gain on the table) that person is attributed under the strict rule instead: a
window that had its `sessions` keeps at least that many, a short window keeps its count
exactly. Either way every person's shortfall, hence the objective term by term, is
unchanged (a shortfall may move between two windows of the same person). Pinned sessions
with a commitment keep it.
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


def _coverage(problem: Problem, labels: dict[int, str]) -> int:
    """Sessions that count towards what the person's windows ask for (never above
    `sessions` per window): the shortfall is what the windows ask for minus this."""
    count: dict[tuple[str, int], int] = defaultdict(int)
    for s, c in labels.items():
        count[(c, _window_of(problem, c, s))] += 1
    return sum(
        min(n, problem.commitment[c].windows[wi].sessions)
        for (c, wi), n in count.items()
        if wi >= 0
    )


def _flow(
    problem: Problem,
    plan: Plan,
    by_person: dict[str, list[int]],
    strict: bool,
) -> dict[str, dict[int, str]]:
    """The attribution of every listed person's sessions: one min-cost flow, sessions to
    (commitment, window) buckets. Relaxed: a bucket takes up to its `max` and a person's
    sessions cover as much as they can (never less than now), then keep as many previous
    commitments as possible. Strict: a window that has its `sessions` keeps at least that
    many, a short window keeps its count exactly. Empty if the flow cannot be solved."""
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
    # Keeping one previous label outweighs every tie-break cost of a person together, and
    # covering one more session outweighs every previous label.
    bonus = (n_max + 1) * (k_max + 1) * (n_slots + 2)
    reward = (n_max + 1) * (bonus + (k_max + 1) * (n_slots + 2))

    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    supply: list[int] = []
    session_arcs: list[tuple[str, int, list[tuple[int, str]]]] = []

    def node(value: int) -> int:
        supply.append(value)
        return len(supply) - 1

    def arc(a: int, b: int, cap: int, cost: int) -> int:
        tails.append(a)
        heads.append(b)
        caps.append(cap)
        costs.append(cost)
        return len(tails) - 1

    for p in sorted(by_person):
        coms = problem.commitments_of[p]
        slots = sorted(by_person[p])
        n_p = len(slots)
        count: dict[tuple[str, int], int] = defaultdict(int)
        for s in slots:
            cid = plan.sessions[(p, s)]
            count[(cid, _window_of(problem, cid, s))] += 1
        sink = node(0)
        buckets: dict[tuple[str, int], int] = {}
        demand = 0
        for c in coms:
            for wi in range(-1, len(c.windows)):
                n = count.get((c.id, wi), 0)
                if wi < 0:
                    lo, hi, need = 0, n_p, 0
                else:
                    w = c.windows[wi]
                    hi = max(n, w.max) if w.max is not None else n_p
                    need = min(w.sessions, hi)
                    lo = 0
                    if strict:
                        lo, need = (w.sessions, 0) if n >= w.sessions else (n, 0)
                        hi = hi if n >= w.sessions else n
                b = node(-lo)
                demand += lo
                buckets[(c.id, wi)] = b
                if need > 0:
                    arc(b, sink, need, -reward)
                if hi - lo - need > 0:
                    arc(b, sink, hi - lo - need, 0)
        supply[sink] = -(n_p - demand)
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
                arcs.append((arc(u, buckets[(c.id, wi)], 1, cost), c.id))
            session_arcs.append((p, s, arcs))

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    for i, value in enumerate(supply):
        if value:
            flow.set_node_supply(i, value)
    if flow.solve() != flow.OPTIMAL:  # cannot happen: the plan's own labels are a flow
        return {}
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for p, s, arcs in session_arcs:
        for a, cid in arcs:
            if flow.flow(a):
                out[p][s] = cid
                break
    return out


def attribute(problem: Problem, plan: Plan) -> Plan:
    """`plan` with its sessions re-attributed (see the module docstring); the same slots,
    meetings and objective. Returns a new plan; `plan` is not changed."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for (p, s), _c in plan.sessions.items():
        if len(problem.commitments_of.get(p, ())) > 1:
            by_person[p].append(s)
    out = plan.copy()
    if not by_person:
        return out
    relaxed = _flow(problem, plan, by_person, strict=False)
    strict_people: dict[str, list[int]] = {}
    for p, slots in by_person.items():
        now = {s: plan.sessions[(p, s)] for s in slots}
        new = relaxed.get(p)
        if new is None or len(new) != len(slots) or _coverage(problem, new) != _coverage(
            problem, now
        ):
            # Relabelling alone would cover more (a plan that was not optimal): keep the
            # objective as it is and only move labels window by window.
            strict_people[p] = slots
            continue
        for s, c in new.items():
            out.sessions[(p, s)] = c
    if strict_people:
        strict = _flow(problem, plan, strict_people, strict=True)
        for p, labels in strict.items():
            if len(labels) == len(strict_people[p]):
                for s, c in labels.items():
                    out.sessions[(p, s)] = c
    return out

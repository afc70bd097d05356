"""Split a problem into independent parts whose optima add up to the whole optimum.

Horizon blocks: slots are tied together only by a window that spans them (and by a
day or an ISO week when someone has max_per_day or max_per_week). Caps, pins, previous
entries and the one-activity rule are per slot, so runs of slots no window crosses are
independent. People groups: people are tied only by teams (members) and caps (a
department). A block of slots and a bundle of groups is one `Scope`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from solver.model import Commitment, Problem, Team
from solver.variables import Scope

__all__ = ["FAIRNESS_WHOLE_LIMIT", "blocks", "fairness_couples", "groups", "scopes"]

# Candidate literals up to which a problem with the fairness term on is solved as one model
# (south-east London's 600 people are about 55,000; London's 6,000 about 430,000, a model
# of several GB that CP-SAT cannot close in minutes). Above it the parts are solved apart
# and then evened out across groups one part at a time (`solver.solve._even_out`).
FAIRNESS_WHOLE_LIMIT = 150_000


def blocks(problem: Problem, min_slots: int = 4, teams: bool = True) -> list[tuple[int, int]]:
    """Independent runs of slots [lo, hi), in time order; runs shorter than `min_slots`
    are merged with the next (merging independent runs keeps them exact). With
    teams=False, team windows are ignored (for when team meetings are held fixed)."""
    n = len(problem.slots)
    reach = [i + 1 for i in range(n)]

    def link(lo: int, hi: int) -> None:
        if hi - lo > 1 and reach[lo] < hi:
            reach[lo] = hi

    linked: list[tuple[Sequence[Commitment | Team], dict[str, list[tuple[int, int]]]]] = [
        (problem.commitments, problem.commitment_ranges)
    ]
    if teams:
        linked.append((problem.teams, problem.team_ranges))
    for owners, ranges in linked:
        for o in owners:
            for w, (lo, hi) in zip(o.windows, ranges[o.id]):
                if w.sessions > 0 or w.max is not None:
                    link(lo, hi)
    for key, wanted in (
        (problem.slot_days, any(p.max_per_day is not None for p in problem.people)),
        (problem.slot_weeks, any(p.max_per_week is not None for p in problem.people)),
    ):
        if wanted:
            start = 0
            for i in range(1, n + 1):
                if i == n or key[i] != key[start]:
                    link(start, i)
                    start = i
    out: list[tuple[int, int]] = []
    start, cur = 0, 0
    for i in range(n):
        cur = max(cur, reach[i])
        if cur == i + 1:
            if out and out[-1][1] - out[-1][0] < min_slots:
                out[-1] = (out[-1][0], i + 1)
            else:
                out.append((start, i + 1))
            start = i + 1
    if len(out) > 1 and out[-1][1] - out[-1][0] < min_slots:
        last = out.pop()
        out[-1] = (out[-1][0], last[1])
    return out


def groups(problem: Problem, teams: bool = True) -> list[list[str]]:
    """Independent groups of people (union of team members and capped departments), in the
    order people are listed. With teams=False only caps tie people (teams held fixed)."""
    parent = {p.id: p.id for p in problem.people}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(members: list[str] | tuple[str, ...]) -> None:
        if not members:
            return
        root = find(members[0])
        for m in members[1:]:
            r = find(m)
            if r != root:
                parent[r] = root

    for t in problem.teams if teams else ():
        union(t.members)
    for cap in problem.caps:
        union(problem.department_people.get(cap.department, []))
    out: dict[str, list[str]] = {}
    for p in problem.people:
        out.setdefault(find(p.id), []).append(p.id)
    return list(out.values())


def bundle(
    problem: Problem,
    runs: list[tuple[int, int]],
    people_groups: list[list[str]],
    chunk: int,
) -> Iterator[tuple[tuple[int, int, frozenset[str]], int]]:
    """Every run of slots crossed with bundles of whole groups of about `chunk` candidate
    literals: ((lo, hi, people), estimated size)."""
    avail_sorted = {
        p: sorted(problem.available_idx[p])
        for g in people_groups
        for p in g
    }
    weight = {
        p: len(problem.commitments_of.get(p, ())) + len(problem.teams_of.get(p, ()))
        for g in people_groups
        for p in g
    }
    for lo, hi in runs:
        members: list[str] = []
        size = 0
        for g in people_groups:
            g_size = 0
            for p in g:
                a = avail_sorted[p]
                g_size += weight[p] * (bisect.bisect_left(a, hi) - bisect.bisect_left(a, lo))
            if members and size + g_size > chunk:
                yield (lo, hi, frozenset(members)), size
                members, size = [], 0
            members.extend(g)
            size += g_size
        if members:
            yield (lo, hi, frozenset(members)), size


def fairness_couples(problem: Problem) -> bool:
    """True when the fairness term is on: its max over groups of their whole-horizon
    shortfall ties every slot and every person together, so no part is independent."""
    return problem.weights_pence["fairness"] > 0 and problem.has_groups


def scopes(
    problem: Problem, chunk: int = 6000, whole_limit: int | None = None
) -> Iterator[tuple[Scope, int]]:
    """Every block crossed with bundles of groups of about `chunk` candidate literals,
    with each scope's estimated size. Bundles never split a group. With fairness on, the
    whole problem is one scope (of the summed size): parts solved apart could not price
    the worst group, and their optima would not add up to the whole one; unless the whole
    is bigger than `whole_limit` literals, when the parts are still solved apart (their
    bounds, summed, stay a valid bound: the fairness term is never negative)."""
    if whole_limit is None:
        whole_limit = FAIRNESS_WHOLE_LIMIT
    parts = list(bundle(problem, blocks(problem), groups(problem), chunk))
    total = sum(size for _, size in parts)
    if fairness_couples(problem) and (total <= whole_limit or len(parts) == 1):
        yield Scope.whole(problem), total
        return
    for (lo, hi, members), size in parts:
        yield Scope(lo, hi, members), size

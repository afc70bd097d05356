"""A plan in the solver's own terms and its price under the spec's soft rules (in pence)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from solver.model import FAIRNESS, TERMS, Problem, per_thousand


@dataclass
class Plan:
    """Individual sessions keyed by (person, slot index) -> commitment id, and team
    meetings keyed by (team id, slot index) -> attendee ids."""

    sessions: dict[tuple[str, int], str] = field(default_factory=dict)
    meetings: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)

    def copy(self) -> Plan:
        return Plan(dict(self.sessions), dict(self.meetings))

    def update(self, other: Plan) -> None:
        self.sessions.update(other.sessions)
        self.meetings.update(other.meetings)


@dataclass
class WindowCount:
    """How many sessions one window got."""

    kind: str  # "commitment" or "team"
    owner: str
    window: int
    required: int
    scheduled: int

    @property
    def short(self) -> int:
        return max(0, self.required - self.scheduled)


@dataclass
class Evaluation:
    terms: dict[str, int]  # pence per soft rule
    totals: dict[str, int]  # backfill_cost in pence, the others are counts
    people: dict[str, dict[str, int]]  # person -> term -> pence
    teams: dict[str, dict[str, int]]  # team -> term -> pence
    windows: list[WindowCount]
    groups: list[tuple[str, int, int]] = field(default_factory=list)  # (group, entitled, short)

    @property
    def objective(self) -> int:
        return sum(self.terms.values())


def window_counts(problem: Problem, plan: Plan) -> list[WindowCount]:
    """Sessions scheduled in every commitment and team window."""
    by_commitment: dict[str, list[int]] = defaultdict(list)
    for (_, s), cid in plan.sessions.items():
        by_commitment[cid].append(s)
    by_team: dict[str, list[int]] = defaultdict(list)
    for tid, s in plan.meetings:
        by_team[tid].append(s)
    out = []
    for c in problem.commitments:
        slots = by_commitment.get(c.id, [])
        for wi, (lo, hi) in enumerate(problem.commitment_ranges[c.id]):
            n = sum(1 for s in slots if lo <= s < hi)
            out.append(WindowCount("commitment", c.id, wi, c.windows[wi].sessions, n))
    for t in problem.teams:
        slots = by_team.get(t.id, [])
        for wi, (lo, hi) in enumerate(problem.team_ranges[t.id]):
            n = sum(1 for s in slots if lo <= s < hi)
            out.append(WindowCount("team", t.id, wi, t.windows[wi].sessions, n))
    return out


def evaluate(problem: Problem, plan: Plan) -> Evaluation:
    """Price a plan under the soft rules, per rule, per person and per team (pence)."""
    w = problem.weights_pence
    avail = problem.available_idx
    avoid = problem.avoid_idx
    people: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TERMS, 0))
    teams: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TERMS, 0))
    backfill = absences = churned = avoided = short = 0

    def activity(p: str, s: int) -> None:
        nonlocal backfill, avoided
        cost = avail[p].get(s, 0)
        backfill += cost
        people[p]["cost"] += cost
        if s in avoid[p]:
            avoided += 1
            people[p]["avoid"] += w["avoid"]

    for p, s in plan.sessions:
        activity(p, s)
    for (t, s), attendees in plan.meetings.items():
        att = set(attendees)
        for p in attendees:
            activity(p, s)
        for m in problem.team[t].members:
            if m not in att and s in avail[m]:
                absences += 1
                people[m]["absence"] += w["absence"]
    for e in problem.previous:
        s = problem.slot_index[e.slot]
        if e.team is not None:
            kept = (e.team, s) in plan.meetings
            if e.person is not None:
                kept = kept and e.person in plan.meetings[(e.team, s)]
            owner = teams[e.team] if e.person is None else people[e.person]
        else:
            kept = (e.person, s) in plan.sessions
            owner = people[e.person]  # type: ignore[index]  # no team: a person's entry
        if not kept:
            churned += 1
            owner["churn"] += w["churn"]
    counts = window_counts(problem, plan)
    for wc in counts:
        if wc.short:
            short += wc.short
            owner_id = problem.commitment[wc.owner].person if wc.kind == "commitment" else wc.owner
            (people if wc.kind == "commitment" else teams)[owner_id]["shortfall"] += (
                wc.short * w["shortfall"]
            )
    groups = group_shares(problem, counts)
    terms = {
        "cost": backfill,
        "shortfall": short * w["shortfall"],
        "absence": absences * w["absence"],
        "churn": churned * w["churn"],
        "avoid": avoided * w["avoid"],
    }
    if problem.has_groups:
        terms[FAIRNESS] = fairness_term(problem, groups)
    totals = {
        "backfill_cost": backfill,
        "shortfall_sessions": short,
        "absences": absences,
        "churn": churned,
        "avoided": avoided,
    }
    return Evaluation(terms, totals, dict(people), dict(teams), counts, groups)


def group_shares(problem: Problem, counts: list[WindowCount]) -> list[tuple[str, int, int]]:
    """(group, entitled, short) for every group the problem names, in name order."""
    if not problem.has_groups:
        return []
    short_of: dict[str, int] = defaultdict(int)  # person -> sessions short over all windows
    for wc in counts:
        if wc.kind == "commitment" and wc.short:
            short_of[problem.commitment[wc.owner].person] += wc.short
    return [
        (g, problem.group_entitled[g], sum(short_of.get(p, 0) for p in members))
        for g, members in problem.group_members.items()
    ]


def fairness_term(problem: Problem, groups: list[tuple[str, int, int]]) -> int:
    """Pence: weights.fairness x the worst group's shortfall per thousand entitled."""
    worst = max((per_thousand(short, entitled) for _, entitled, short in groups), default=0)
    return problem.weights_pence[FAIRNESS] * worst

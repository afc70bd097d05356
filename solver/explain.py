"""Turn a plan into a `Solution`: priced totals, per-person breakdown, and shortfalls with
the spec's reason codes and a concrete sentence for a rota manager."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from solver.greedy import Ledger
from solver.model import (
    TERMS,
    Commitment,
    GroupShare,
    Problem,
    Session,
    Shortfall,
    Solution,
    Team,
    TeamSession,
    gbp,
)
from solver.plan import Plan, WindowCount, evaluate

__all__ = ["build_solution", "explain_shortfall"]


def _d(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def _span(a: date, b: date) -> str:
    if a == b:
        return f"{a.day} {a:%B}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{b.day} {a:%B}"
    return f"{a.day} {a:%B}–{b.day} {b:%B}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _unavailable_days(problem: Problem, avail: Mapping[int, int], lo: int, hi: int) -> list[str]:
    """Runs of consecutive working days in [lo, hi) on which the person has no slot."""
    days: list[date] = []
    free: set[date] = set()
    for s in range(lo, hi):
        d = problem.slot_days[s]
        if not days or days[-1] != d:
            days.append(d)
        if s in avail:
            free.add(d)
    runs: list[str] = []
    start: date | None = None
    prev: date | None = None
    for day in [*days, None]:
        if day is not None and day not in free:
            start = start or day
            prev = day
            continue
        if start is not None and prev is not None:
            runs.append(_span(start, prev))
        start = prev = None
    return runs


def _commitment_reason(
    problem: Problem, ledger: Ledger, c: Commitment, wc: WindowCount
) -> tuple[str, str]:
    person = problem.person[c.person]
    win = c.windows[wc.window]
    lo, hi = problem.commitment_ranges[c.id][wc.window]
    avail = problem.available_idx[c.person]
    slots = [s for s in range(lo, hi) if s in avail]
    when = f"from {_d(win.start)} to {_d(win.end)}"
    label = f"{person.label} ({c.label})" if c.name else person.label
    if hi == lo:
        return "unavailable", (
            f"The window {when} for {label} has no schedulable slot; "
            f"0 of {wc.required} sessions possible"
        )
    if len(slots) < wc.required:
        runs = _unavailable_days(problem, avail, lo, hi)
        off = f" (not available {', '.join(runs)})" if runs else ""
        return "unavailable", (
            f"{label} is on leave or not working in {hi - lo - len(slots)} of the window's "
            f"{_plural(hi - lo, 'slot')} {when}{off}; "
            f"{len(slots)} of {wc.required} sessions possible"
        )
    possible = [
        s for s in slots if (c.person, s) not in ledger.plan.sessions and ledger.can_session(c, s)
    ]
    if possible:
        s = min(possible, key=lambda s: (avail[s], s))
        return "cost", (
            f"{label} had {_plural(len(possible), 'free slot')} {when} "
            f"(cheapest {problem.slots[s].id} at "
            f"£{avail[s] / 100:.2f} backfill) but a further session was priced above the shortfall "
            f"weight of £{problem.weights.shortfall:.2f}; "
            f"{wc.scheduled} of {wc.required} sessions scheduled"
        )
    mine = other = capped = limited = 0
    for s in slots:
        key = (c.person, s)
        if ledger.plan.sessions.get(key) == c.id:
            mine += 1
        elif key in ledger.busy:
            other += 1
        elif not ledger.person_free(c.person, s):
            if _at_cap(problem, ledger, c.person, s):
                capped += 1
            else:
                limited += 1
        else:
            limited += 1
    parts = []
    if other:
        parts.append(f"{other} went to other protected time")
    if capped:
        dept = person.department
        parts.append(f"{capped} {'was' if capped == 1 else 'were'} at the {dept} cap")
    if limited:
        parts.append(
            f"{limited} {'was' if limited == 1 else 'were'} blocked by a daily, weekly or "
            "window limit"
        )
    return "constrained", (
        f"{label} is available in {_plural(len(slots), 'slot')} {when}, "
        f"but {', '.join(parts) or 'none was free'}; "
        f"{wc.scheduled} of {wc.required} sessions scheduled"
    )


def _at_cap(problem: Problem, ledger: Ledger, p: str, s: int) -> bool:
    dept = problem.person[p].department
    if dept is None:
        return False
    sid = problem.slots[s].id
    return any(
        problem.caps[ci].covers(sid) and ledger.cap_load[(ci, s)] >= problem.caps[ci].max_away
        for ci in problem.caps_of_department.get(dept, ())
    )


def _team_reason(problem: Problem, ledger: Ledger, t: Team, wc: WindowCount) -> tuple[str, str]:
    win = t.windows[wc.window]
    lo, hi = problem.team_ranges[t.id][wc.window]
    allowed = problem.team_allowed[t.id]
    avail = problem.available_idx
    slots = [s for s in range(lo, hi) if allowed is None or s in allowed]
    quorate = [s for s in slots if sum(1 for m in t.members if s in avail[m]) >= t.quorum]
    when = f"from {_d(win.start)} to {_d(win.end)}"
    name = t.label[0].upper() + t.label[1:]
    if len(quorate) < wc.required:
        return "unavailable", (
            f"{name} has a quorum of {t.quorum} of its {len(t.members)} members available in only "
            f"{len(quorate)} of the {_plural(len(slots), 'slot')} it may meet in {when}; "
            f"{len(quorate)} of {wc.required} sessions possible"
        )
    possible = [
        s for s in quorate if ledger.team_room(t, s) and len(ledger.attendable(t, s)) >= t.quorum
    ]
    if possible:
        return "cost", (
            f"{name} could still have met {when} (e.g. {problem.slots[possible[0]].id}) "
            "but a further "
            f"meeting was priced above the shortfall weight of £{problem.weights.shortfall:.2f}; "
            f"{wc.scheduled} of {wc.required} sessions scheduled"
        )
    return "constrained", (
        f"{name} has a quorum available in {_plural(len(quorate), 'slot')} {when}, "
        "but in each of them other "
        f"protected time, caps or limits left fewer than {t.quorum} members free; "
        f"{wc.scheduled} of {wc.required} sessions scheduled"
    )


def explain_shortfall(problem: Problem, ledger: Ledger, wc: WindowCount) -> Shortfall:
    """The spec's reason code for one short window, and a sentence saying why."""
    if wc.kind == "commitment":
        reason, text = _commitment_reason(problem, ledger, problem.commitment[wc.owner], wc)
        return Shortfall(
            wc.window, wc.required, wc.scheduled, reason, commitment=wc.owner, explanation=text
        )
    reason, text = _team_reason(problem, ledger, problem.team[wc.owner], wc)
    return Shortfall(wc.window, wc.required, wc.scheduled, reason, team=wc.owner, explanation=text)


def build_solution(
    problem: Problem,
    plan: Plan,
    status: str,
    bound: float | None,
    wall_seconds: float,
    solver_info: Mapping[str, object],
) -> Solution:
    """The solution document's content for a plan (objective recomputed from the plan)."""
    ev = evaluate(problem, plan)
    avail = problem.available_idx
    slot_ids = [s.id for s in problem.slots]
    sessions = tuple(
        Session(p, c, slot_ids[s], gbp(avail[p][s]))
        for (p, s), c in sorted(plan.sessions.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    )
    team_sessions = []
    for (t, s), attendees in sorted(plan.meetings.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        att = set(attendees)
        absent = tuple(m for m in problem.team[t].members if m not in att and s in avail[m])
        team_sessions.append(
            TeamSession(
                t, slot_ids[s], tuple(attendees), absent, gbp(sum(avail[m][s] for m in attendees))
            )
        )
    ledger = Ledger(problem, plan)
    shortfalls = tuple(explain_shortfall(problem, ledger, wc) for wc in ev.windows if wc.short)
    objective = gbp(ev.objective)
    if bound is not None:
        bound = min(round(bound, 2), objective)
    return Solution(
        status=status,
        objective=objective,
        bound=bound,
        wall_seconds=wall_seconds,
        sessions=sessions,
        team_sessions=tuple(team_sessions),
        shortfalls=shortfalls,
        conflicts=(),
        totals={k: (gbp(v) if k == "backfill_cost" else v) for k, v in ev.totals.items()},
        objective_terms={k: gbp(v) for k, v in ev.terms.items()},
        solver=dict(solver_info),
        breakdown={p: {k: gbp(d[k]) for k in TERMS} for p, d in sorted(ev.people.items())},
        team_breakdown={t: {k: gbp(d[k]) for k in TERMS} for t, d in sorted(ev.teams.items())},
        groups=tuple(GroupShare(g, entitled, short) for g, entitled, short in ev.groups),
    )

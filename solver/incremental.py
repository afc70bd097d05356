"""Incremental re-solve: only the people and teams a change touches are decided again; the
rest of the published plan stays exactly as it was.

    resolve(problem, previous=None, people=(...), teams=(...), options=SolveOptions(...))

The published plan is `previous` when given (a solution, its document or a `Plan`: sessions
and team sessions *with their attendees*), else the problem's own `previous` entries (whose
team entries name no attendees unless the problem lists ``{"team", "person", "slot"}``
attendance entries). Churn is always priced on the problem's `previous`.

What is free (decided again), and why:

1. the **touched** people and teams (the caller's, plus any whose published entries now
   break a hard rule: a session in a slot the person no longer has, a meeting short of
   quorum, a pin not met, a limit or cap exceeded by the fixed entries alone; found by a
   check of the fixed part and added until it holds);
2. every **team of a touched person** (a leader on leave may leave a meeting short of
   quorum, and the meeting has to move or someone else attend);
3. every **member of a free team**: their individual sessions and their attendance there
   (to attend a moved meeting someone may have to move a session out of its way);
4. with `departments` (the default), every person sharing a **capped department** with a
   free person: their individual sessions only (their teams stay fixed, so this does not
   spread further). A cap is where people of one department compete for slots: without
   them a re-placed session or meeting may have to take a dearer slot, or move a meeting,
   where a full re-solve would move a department-mate's session instead.

A free person's sessions over the whole horizon are decided (each published one kept unless
dropping it pays for its churn). Everything else is fixed: an untouched person keeps exactly
their published sessions (slot and commitment) and attendances, and a fixed team keeps its
meetings. The fixed part's use of caps, day and week limits and time slots is counted in
the model as a constant. A fixed meeting whose attendees the published plan does not name
stays where it is (team and slot), and its attendees are chosen in the model from its
members who are free in that slot (their individual sessions stay fixed).

When the local model has no plan (say a pin of a touched person in a slot whose cap fixed
people fill) and department-mates were not freed, they are freed and it is solved again;
if that still has no plan, or the assembled plan would break a hard rule (it is
re-verified with `solver.rules`), the whole problem is solved again with `solver.solve`
(with `previous`), so a broken plan is never returned; an infeasible problem then reports
its conflicts.

The result is a full solution of the whole problem, priced by `solver.plan.evaluate` and
valid under `python -m solver check`. Its status is `feasible` (the local model may be
proved optimal, but that is not a proof for the whole problem) and its bound the trivial
one; ``solver.incremental`` says what was freed and how the local model ended.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ortools.sat.python import cp_model

from solver.attribute import attribute
from solver.constraints import (
    Built,
    add_caps,
    add_limits,
    add_one_activity_per_slot,
    add_pins,
    add_team_meetings,
    minimize_terms,
    plan_from,
)
from solver.explain import build_solution
from solver.free_set import Published, _departments, _free_set, _Split
from solver.io import parse_solution
from solver.model import FAIRNESS, Pin, PreviousEntry, Problem, Solution
from solver.plan import Plan
from solver.rules import Roster, breaches
from solver.soft_rules import (
    _window_shortfall,
    add_absence,
    add_avoid,
    add_churn,
    add_cost,
    add_shortfall,
)
from solver.solve import (
    SolveOptions,
    _info,
    _trivial_bound,
    _tune,
    solve,
    status_name,
    stoppable,
)
from solver.variables import PenaltyTerm, Scope, Vars, create_variables

__all__ = ["Published", "resolve", "published_plan"]

log = logging.getLogger(__name__)





def published_plan(
    problem: Problem, previous: Solution | Mapping[str, Any] | Plan | None = None
) -> Published:
    """The published plan: `previous` when given, else the problem's `previous` entries."""
    idx = problem.slot_index
    out = Published()
    if previous is None:
        attendance: dict[tuple[str, int], list[str]] = defaultdict(list)
        for e in problem.previous:
            s = idx[e.slot]
            if e.team is not None and e.person is not None:
                attendance[(e.team, s)].append(e.person)
        for e in problem.previous:
            s = idx[e.slot]
            if e.team is None:
                if e.person is not None:  # parse_problem gives every entry a person or a team
                    out.sessions.setdefault((e.person, s), e.commitment)
            elif e.person is None:
                named = attendance.get((e.team, s))
                out.meetings[(e.team, s)] = tuple(dict.fromkeys(named)) if named else None
        return out
    if isinstance(previous, Plan):
        out.sessions.update(previous.sessions)
        out.meetings.update(previous.meetings)
        return out
    if isinstance(previous, Mapping):
        previous = parse_solution(previous)
    for sess in previous.sessions:
        if sess.person in problem.person and sess.slot in idx:
            c = sess.commitment if sess.commitment in problem.commitment else None
            out.sessions.setdefault((sess.person, idx[sess.slot]), c)
    for ts in previous.team_sessions:
        if ts.team in problem.team and ts.slot in idx:
            out.meetings[(ts.team, idx[ts.slot])] = tuple(ts.attendees)
    return out


# ---- the free set ---------------------------------------------------------------------


# ---- the local model ------------------------------------------------------------------


def _build(problem: Problem, split: _Split) -> Built:
    """The model of the free part, the held part counted as constants."""
    model = cp_model.CpModel()
    n = len(problem.slots)
    scope = Scope(0, n, frozenset(split.people), fixed_teams=split.meetings)
    v: Vars = create_variables(model, problem, scope)  # sessions of free people only
    avail = problem.available_idx
    held = split.held
    # Free teams: as `create_variables` makes them, over the whole horizon.
    team_extra: dict[str, set[int]] = defaultdict(set)
    entries: tuple[Pin | PreviousEntry, ...] = (*problem.pinned, *problem.previous)
    for e in entries:
        if e.team is not None and e.team in split.teams:
            team_extra[e.team].add(problem.slot_index[e.slot])
    for tid in sorted(split.teams):
        t = problem.team[tid]
        v.teams.append(t)
        allowed = problem.team_allowed[tid]
        slots: set[int] = set(team_extra.get(tid, ()))
        for wlo, whi in problem.team_ranges[tid]:
            slots.update(range(wlo, whi))
        for s in sorted(slots):
            if allowed is not None and s not in allowed:
                continue
            members = [p for p in t.members if s in avail[p]]
            can = [p for p in members if (p, s) not in held]
            if len(can) < t.quorum:
                continue
            m = model.new_bool_var(f"m[{tid},{s}]")
            v.meet[(tid, s)] = m
            for p in members:
                a = model.new_bool_var(f"a[{tid},{p},{s}]")
                v.attend[(tid, p, s)] = a
                if (p, s) in held:
                    model.add(a == 0)  # busy with a held activity: absent, priced
                else:
                    v.activity[(p, s)].append(a)
    # Fixed meetings whose attendees are chosen here.
    one = model.new_constant(1)
    for tid, s in split.open:
        v.meet[(tid, s)] = one
        for p in problem.team[tid].members:
            if s in avail[p] and (p, s) not in held:
                a = model.new_bool_var(f"a[{tid},{p},{s}]")
                v.attend[(tid, p, s)] = a
                v.activity[(p, s)].append(a)
    # Everything held counts against caps and limits (`add_caps`, `add_limits` read it).
    v.fixed = set(held)
    terms: list[PenaltyTerm] = []
    for rule in (
        add_one_activity_per_slot,
        add_team_meetings,
        add_caps,
        add_limits,
        add_pins,
        add_shortfall,
        add_absence,
        add_churn,
        add_avoid,
        add_cost,
    ):
        terms.extend(rule(model, v, problem))
    terms.extend(_open_meeting_terms(model, v, problem, split))
    terms.extend(_fairness(model, v, problem, split))
    constant = minimize_terms(model, terms)
    return Built(model, v, terms, constant)


def _open_meeting_terms(
    model: cp_model.CpModel, v: Vars, problem: Problem, split: _Split
) -> list[PenaltyTerm]:
    """Pins and churn of members' attendance at fixed meetings whose attendees are chosen
    here (`add_pins` and `add_churn` see only free teams)."""
    opened = set(split.open)
    for pin in problem.pinned:
        s = problem.slot_index[pin.slot]
        if pin.team is not None and pin.person is not None and (pin.team, s) in opened:
            a = v.attend.get((pin.team, pin.person, s))
            model.add_bool_or([a] if a is not None else [model.new_constant(0)])
    w = problem.weights_pence["churn"]
    terms = []
    for e in problem.previous:
        s = problem.slot_index[e.slot]
        if e.team is not None and e.person is not None and (e.team, s) in opened:
            a = v.attend.get((e.team, e.person, s))
            terms.append(PenaltyTerm("churn", e.person, w, () if a is None else ((a, -1),), 1))
    return terms


def _fairness(
    model: cp_model.CpModel, v: Vars, problem: Problem, split: _Split
) -> list[PenaltyTerm]:
    """The fairness term with the held people's shortfall as constants."""
    w = problem.weights_pence[FAIRNESS]
    if w == 0 or not problem.has_groups:
        return []
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for (_, s), cid in split.sessions.items():
        for wi, (lo, hi) in enumerate(problem.commitment_ranges[cid]):
            if lo <= s < hi:
                counts[(cid, wi)] += 1
    short_of: dict[str, list[int | cp_model.IntVar]] = defaultdict(list)
    for c in problem.commitments:
        for wi, win in enumerate(c.windows):
            if c.person in split.people:
                short_of[c.person].append(_window_shortfall(v, c.id, wi, win.sessions))
            else:
                short_of[c.person].append(max(0, win.sessions - counts.get((c.id, wi), 0)))
    worst = model.new_int_var(0, 1000, "fairness_worst")
    v.worst = worst
    for g, members in problem.group_members.items():
        entitled = problem.group_entitled[g]
        if entitled > 0:
            shorts = [x for p in members for x in short_of.get(p, ())]
            model.add(1000 * cp_model.LinearExpr.sum(shorts) <= entitled * worst)
    return [PenaltyTerm(FAIRNESS, "", w, ((worst, 1),))]


def _hint(model: cp_model.CpModel, v: Vars, problem: Problem, pub: Published) -> None:
    """The published plan's free part as a (partial) hint."""
    for (c, s), x in v.x.items():
        model.add_hint(x, int(pub.sessions.get((problem.commitment[c].person, s), "") == c))
    free_teams = {t.id for t in v.teams}
    for (t, s), m in v.meet.items():
        if t in free_teams:
            model.add_hint(m, int((t, s) in pub.meetings))


# ---- the run ----------------------------------------------------------------------


@dataclass
class _Local:
    plan: Plan | None
    status: str
    seconds: float
    build_seconds: float
    size: int


def _solve_local(
    problem: Problem, pub: Published, split: _Split, options: SolveOptions, seconds: float
) -> _Local:
    t0 = time.monotonic()
    built = _build(problem, split)
    build_seconds = time.monotonic() - t0
    fixed = Plan(dict(split.sessions), dict(split.meetings))
    if built.vars.size == 0 and not split.open:
        return _Local(fixed, "optimal", time.monotonic() - t0, build_seconds, 0)
    _hint(built.model, built.vars, problem, pub)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    _tune(prm, options)
    prm.max_time_in_seconds = max(0.1, seconds - build_seconds)
    with stoppable(solver, options.stop):
        code = solver.solve(built.model)
    status = status_name(code)
    plan = None
    if status in ("optimal", "feasible"):
        local = plan_from(problem, built, lambda var: int(solver.value(var)))
        # Which commitment each free session counts for: the published one where it can.
        labelled = attribute(problem, Plan(local.sessions))
        plan = Plan({**fixed.sessions, **labelled.sessions}, {**fixed.meetings, **local.meetings})
    log.info(
        "incremental: %d people, %d teams free, %d open meetings, size %d: %s in %.2fs",
        len(split.people),
        len(split.teams),
        len(split.open),
        built.vars.size,
        status,
        time.monotonic() - t0,
    )
    return _Local(plan, status, time.monotonic() - t0, build_seconds, built.vars.size)


def _holds(problem: Problem, plan: Plan) -> list[str]:
    """Every hard-rule breach of a whole plan (empty when it holds)."""
    roster = Roster.of(problem, plan.sessions, plan.meetings)
    return [b.text for b in breaches(roster)]




def resolve(
    problem: Problem,
    previous: Solution | Mapping[str, Any] | Plan | None = None,
    people: Iterable[str] = (),
    teams: Iterable[str] = (),
    options: SolveOptions | None = None,
    departments: bool = True,
) -> Solution:
    """Re-solve `problem` deciding again only the touched `people` and `teams` (and what
    they free, see the module docstring); everything else stays as published. With
    `departments` (default), everyone sharing a capped department with a free person is free
    too (their individual sessions; their teams stay fixed). Returns a whole-problem
    solution; falls back to a wider free set, then to `solve`, rather than return a plan
    that breaks a hard rule. ValueError for an unknown id."""
    options = options or SolveOptions()
    t0 = time.monotonic()
    people, teams = set(people), set(teams)
    unknown = sorted(p for p in people if p not in problem.person) + sorted(
        t for t in teams if t not in problem.team
    )
    if unknown:
        raise ValueError(f"unknown person or team: {', '.join(unknown)}")
    pub = published_plan(problem, previous)
    deadline = t0 + options.time_limit
    info: dict[str, object] = {
        "touched_people": len(people),
        "touched_teams": len(teams),
        "departments": departments,
    }
    widened = None
    for attempt in ("local", "departments"):
        split = _free_set(problem, pub, people, teams, departments)
        left = deadline - time.monotonic()
        local = _solve_local(problem, pub, split, options, max(0.5, 0.8 * left))
        info.update(
            free_people=sorted(split.people),
            free_teams=sorted(split.teams),
            auto_touched_people=sorted(split.touched_people - people),
            auto_touched_teams=sorted(split.touched_teams - teams),
            open_meetings=len(split.open),
            local_status=local.status,
            local_size=local.size,
            local_seconds=round(local.seconds, 3),
            build_seconds=round(local.build_seconds, 3),
            widened=widened,
        )
        if local.plan is not None:
            faults = _holds(problem, local.plan)
            if not faults:
                solution = build_solution(
                    problem,
                    local.plan,
                    "feasible",
                    _trivial_bound(problem) / 100,
                    time.monotonic() - t0,
                    _info(options, "cp-sat", 0, incremental=info),
                )
                return solution
            log.warning("incremental plan breaks %d rule(s), e.g. %s", len(faults), faults[0])
        if attempt == "local":
            if departments or _departments(problem, split.people) <= split.people:
                break
            departments = True
            widened = "departments"
    # The whole problem again, with `previous`, in the time that is left.
    left = max(1.0, deadline - time.monotonic())
    full = solve(
        problem,
        SolveOptions(
            time_limit=left,
            workers=options.workers,
            seed=options.seed,
            progress=options.progress,
            chunk=options.chunk,
        ),
    )
    info["widened"] = "full"
    return replace(
        full,
        wall_seconds=time.monotonic() - t0,
        solver={**full.solver, "incremental": info},
    )

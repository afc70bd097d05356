"""Solve a problem: pins checked first, a greedy (or the repaired previous plan) as a
complete hint, then CP-SAT block by block with a fair share of the time limit."""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ortools
from ortools.sat.python import cp_model

from solver.attribute import attribute
from solver.conflicts import check_pins
from solver.constraints import Built, build, hint_values, plan_from, term_value, values_reader
from solver.decompose import blocks, bundle, groups, scopes
from solver.explain import build_solution
from solver.greedy import greedy, repair
from solver.model import Problem, Solution
from solver.plan import Plan, evaluate
from solver.variables import Scope

__all__ = ["SolveOptions", "Stopped", "solve", "status_name", "stoppable"]

log = logging.getLogger(__name__)

METHODS = ("cp-sat", "greedy")


@dataclass(frozen=True)
class SolveOptions:
    """Explicit solver parameters. `time_limit` is the whole wall budget in seconds
    (model building included). With workers=1 each block gets a deterministic budget, so
    the same seed gives the same plan run after run."""

    time_limit: float = 60.0
    workers: int = 2
    seed: int = 0
    method: str = "cp-sat"
    progress: Callable[[str, float], None] | None = None
    chunk: int = 6000  # target literals per sub-model
    # Set by another thread to stop at once: CP-SAT's search is stopped (within a tenth of a
    # second) and solve() raises Stopped; nothing of the stopped solve is returned.
    stop: threading.Event | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"unknown method {self.method!r}; expected one of {', '.join(METHODS)}"
            )
        if self.time_limit <= 0:
            raise ValueError("time_limit must be positive")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


_STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    cp_model.MODEL_INVALID: "unknown",
    cp_model.UNKNOWN: "unknown",
}


def status_name(code: cp_model.CpSolverStatus) -> str:
    """CP-SAT status to the spec's status."""
    return _STATUS.get(code, "unknown")


class Stopped(Exception):
    """The solve was stopped by its caller (``SolveOptions.stop``)."""


@contextmanager
def stoppable(solver: cp_model.CpSolver, stop: threading.Event | None) -> Iterator[None]:
    """Stop ``solver``'s search as soon as ``stop`` is set, then raise Stopped."""
    if stop is None:
        yield
        return
    if stop.is_set():
        raise Stopped("stopped before solving")
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if stop.is_set():
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, name="cp-sat-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
    if stop.is_set():
        raise Stopped("stopped while solving")


def _report(options: SolveOptions, message: str, fraction: float) -> None:
    if options.stop is not None and options.stop.is_set():
        raise Stopped("stopped")
    log.debug("%s (%.0f%%)", message, 100 * fraction)
    if options.progress is not None:
        options.progress(message, min(1.0, max(0.0, fraction)))


def _info(options: SolveOptions, method: str, n_blocks: int, **extra: object) -> dict[str, object]:
    return {
        "method": method,
        "version": ortools.__version__,
        "seed": options.seed,
        "workers": options.workers,
        "time_limit": options.time_limit,
        "blocks": n_blocks,
        **extra,
    }


def _trivial_bound(problem: Problem, scope: Scope | None = None) -> int:
    """Pence no plan can avoid (in a scope): shortfall where a person has too few
    available slots in a window."""
    whole = scope is None  # then windows without a slot count too
    scope = scope or Scope.whole(problem)
    w = problem.weights_pence["shortfall"]
    avail = problem.available_idx
    total = 0
    for c in problem.commitments:
        if not scope.has_person(c.person):
            continue
        a = sorted(avail[c.person])
        for win, (lo, hi) in zip(c.windows, problem.commitment_ranges[c.id]):
            if (lo == hi and whole) or (lo < hi and scope.lo <= lo < scope.hi):
                n = bisect.bisect_left(a, hi) - bisect.bisect_left(a, lo)
                total += max(0, win.sessions - n) * w
    return total


def _tune(prm: cp_model.SatParameters, options: SolveOptions) -> None:
    """Explicit CP-SAT parameters. These models are assignment-like: the LP relaxation with
    every at-most-one linearised (level 2) proves most blocks optimal at the root, so the
    one full-problem worker we can afford is an LP-heavy one. The hint is a complete
    feasible plan, so it is taken as the first solution as is: following it in search
    (hint_conflict_limit) only delays the LP search, by 20 s on a 600-person block."""
    prm.num_workers = options.workers
    prm.random_seed = options.seed
    prm.hint_conflict_limit = 0
    # CP-SAT's own Ctrl-C handler is installed for each solve and then reset to the system
    # default, so a Ctrl-C after the first solve killed the process outright; the caller
    # (``sel-time plan``, a worker) handles Ctrl-C and stops the search through ``stop``.
    prm.catch_sigint_signal = False
    if options.workers == 1:
        prm.linearization_level = 2
    elif options.workers == 2:
        prm.subsolvers.append("max_lp")


def solve(problem: Problem, options: SolveOptions | None = None) -> Solution:
    """Solve `problem` within `options.time_limit` seconds; never raises for a valid problem."""
    options = options or SolveOptions()
    t0 = time.monotonic()
    deadline = t0 + options.time_limit
    _report(options, "Checking pinned sessions", 0.0)
    pins = check_pins(problem, time_limit=min(10.0, max(1.0, options.time_limit / 4)))
    if pins.plan is None:
        return Solution(
            status="infeasible" if pins.decided else "unknown",
            objective=None,
            bound=None,
            wall_seconds=time.monotonic() - t0,
            conflicts=tuple(pins.conflicts),
            solver=_info(options, options.method, 0),
        )
    _report(options, "Building the hand-made baseline", 0.02)
    hints = [greedy(problem, pins.plan)]
    if problem.previous:
        hints.append(repair(problem.previous, problem, pins.plan))
    # The full objective (churn included); on a tie the repaired previous plan wins.
    scores = [evaluate(problem, h).objective for h in hints]
    best = min(range(len(hints)), key=lambda i: (scores[i], -i))
    if options.method == "greedy":
        plan = attribute(problem, hints[best])
        bound = _trivial_bound(problem) / 100
        _report(options, "Done", 1.0)
        return build_solution(
            problem,
            plan,
            "feasible",
            bound,
            time.monotonic() - t0,
            _info(options, "greedy", 0, hint="previous" if best == 1 else "greedy"),
        )
    # Worst first: the last hint (the better overall) is the one whose team meetings a
    # big part holds while its pieces are solved.
    named = sorted(zip(("greedy", "previous"), hints, scores), key=lambda h: -h[2])
    return _solve_cp_sat(problem, options, [(n, h) for n, h, _ in named], t0, deadline)


@dataclass
class _Part:
    """One sub-model's outcome: its plan, objective and proved bound (pence)."""

    plan: Plan
    value: int
    bound: int
    status: str
    hint: str
    fallback: bool
    build_seconds: float
    kept: bool = False  # the repaired previous plan kept: CP-SAT found nothing better


def _solve_scope(
    problem: Problem,
    scope: Scope,
    hints: list[tuple[str, Plan]],
    options: SolveOptions,
    seconds: float,
    wall_left: float,
    label: str,
) -> _Part | None:
    """Build and solve one scope from the best of `hints`; never worse than that hint.
    None when the scope has no decision to make. `seconds` (and `wall_left`) include
    building the model."""
    t_build = time.monotonic()
    built = build(problem, scope)
    build_seconds = time.monotonic() - t_build
    if built.vars.size == 0:
        return None
    best_values: dict[int, int] = {}
    best_score, best_name = None, ""
    for name, h in hints:
        values = hint_values(problem, built, h)
        score = _score(built, values)
        # On a tie the repaired previous plan wins: it moves nothing that need not move.
        if (
            best_score is None
            or score < best_score
            or (score == best_score and name == "previous")
        ):
            best_values, best_score, best_name = values, score, name
    assert best_score is not None
    model = built.model
    var_by_index = {}
    for d in (built.vars.x, built.vars.meet, built.vars.attend, built.vars.shortfall):
        for var in d.values():
            var_by_index[var.index] = var
    if built.vars.worst is not None:
        var_by_index[built.vars.worst.index] = built.vars.worst
    for idx, val in best_values.items():
        model.add_hint(var_by_index[idx], val)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    _tune(prm, options)
    elapsed = time.monotonic() - t_build
    wall_left -= elapsed
    if options.workers == 1:  # deterministic budget; the wall clock only as a safety net
        prm.max_deterministic_time = max(0.01, seconds)
        prm.max_time_in_seconds = max(0.05, wall_left)
    else:
        prm.max_time_in_seconds = max(0.05, min(seconds - elapsed, wall_left))
    t_solve = time.monotonic()
    with stoppable(solver, options.stop):
        code = solver.solve(model)
    status = status_name(code)
    found = status in ("optimal", "feasible")
    log.info(
        "%s slots %d-%d size %d: %s in %.1fs (budget %.1fs), objective %s, bound %.0f, hint %s %d",
        label,
        scope.lo,
        scope.hi,
        built.vars.size,
        status,
        time.monotonic() - t_solve,
        seconds,
        solver.objective_value if found else None,
        solver.best_objective_bound,
        best_name,
        best_score,
    )
    if code == cp_model.MODEL_INVALID:  # a bug, not a user error: keep the hint, say so
        log.error("%s: invalid model: %s", label, model.validate())
    elif status == "infeasible":
        log.warning("%s reported infeasible; keeping the hint", label)
    plan: Plan | None = None
    value: int | None = None
    if found:
        # Priced exactly from the plan read back (a shortfall variable may sit above its need
        # in a solution that is only feasible).
        plan = plan_from(problem, built, lambda var: int(solver.value(var)))
        value = _score(built, hint_values(problem, built, plan))
    fallback = kept = False
    if value is None or value > best_score:
        fallback = True
    elif best_name == "previous" and value >= best_score:
        kept = True  # not better than the published plan: keep it as it was
    if fallback or kept:
        plan = plan_from(problem, built, values_reader(best_values))
        value = best_score
    assert plan is not None and value is not None
    if status == "optimal" and not fallback:
        bound = value
    else:
        b = solver.best_objective_bound if status != "infeasible" else 0.0
        b = b if math.isfinite(b) else 0.0
        bound = min(max(built.floor, math.ceil(b - 1e-6)), value)
    return _Part(plan, value, bound, status, best_name, fallback, build_seconds, kept)


def _score(built: Built, values: dict[int, int]) -> int:
    """The scope's objective (pence) for a complete assignment of its variables."""
    reader = values_reader(values)
    return sum(term_value(t, reader) for t in built.terms)


def _best_for_scope(
    problem: Problem, scope: Scope, candidates: list[tuple[str, Plan]]
) -> tuple[str, Plan]:
    """The best of whole-problem plans on one part (full objective, churn included), as
    that part's plan; the repaired previous plan wins a tie. Parts are independent, so the
    rest of the objective is the same for every candidate restricted to the part."""
    best: tuple[int, int, str, Plan] | None = None
    for name, h in candidates:
        part = _restrict(problem, h, scope)
        key = (evaluate(problem, part).objective, 0 if name == "previous" else 1)
        if best is None or key < best[:2]:
            best = (*key, name, part)
    assert best is not None
    return best[2], best[3]


def _restrict(problem: Problem, plan: Plan, scope: Scope) -> Plan:
    """The part of a plan inside a scope (its slots, its people, their teams)."""
    people = scope.people
    return Plan(
        {
            (p, s): c
            for (p, s), c in plan.sessions.items()
            if scope.has_slot(s) and (people is None or p in people)
        },
        {
            (t, s): att
            for (t, s), att in plan.meetings.items()
            if scope.has_slot(s) and (people is None or problem.team[t].members[0] in people)
        },
    )


def _refine(
    problem: Problem,
    scope: Scope,
    hints: list[tuple[str, Plan]],
    options: SolveOptions,
    seconds: float,
    deadline: float,
    label: str,
) -> tuple[Plan, float]:
    """A better plan for a big part, fast: hold the team meetings of the last hint (the
    repaired previous plan when there is one, else the greedy), which unties departments
    from each other (caps are per department) and weeks from months (team windows), and
    solve those smaller pieces in turn. Returns the part's plan and the seconds spent
    building models."""
    people = scope.people
    source = hints[-1][1]
    fixed = _restrict(problem, source, scope).meetings
    sub_blocks = [
        (max(lo, scope.lo), min(hi, scope.hi))
        for lo, hi in blocks(problem, teams=False)
        if lo < scope.hi and hi > scope.lo
    ]
    sub_groups = [g for g in groups(problem, teams=False) if people is None or g[0] in people]
    pieces = sorted(bundle(problem, sub_blocks, sub_groups, options.chunk), key=lambda x: x[1])
    total = sum(max(1, size) for _, size in pieces) or 1
    plan = Plan(meetings=dict(fixed))
    t_start = time.monotonic()
    build_seconds = 0.0
    for j, ((lo, hi, members), size) in enumerate(pieces):
        sub = Scope(lo, hi, members, fixed_teams=fixed)
        left = deadline - time.monotonic()
        if options.workers == 1:
            share = seconds * max(1, size) / total
        else:
            spent = time.monotonic() - t_start
            share = max(0.0, seconds - spent) * max(1, size) / max(1, total)
            total -= max(1, size)
        if left < 0.5 or (options.workers > 1 and share < 0.05):
            # Out of time: this piece keeps the held plan's sessions.
            plan.sessions.update(_restrict(problem, source, sub).sessions)
            continue
        done = _solve_scope(problem, sub, hints, options, share, left, f"{label}.{j + 1}")
        if done is not None:
            plan.sessions.update(done.plan.sessions)
            build_seconds += done.build_seconds
    return plan, build_seconds


def _solve_cp_sat(
    problem: Problem,
    options: SolveOptions,
    named: list[tuple[str, Plan]],
    t0: float,
    deadline: float,
) -> Solution:
    # Keep back time to explain and write the plan (a few seconds at 6,000 people).
    deadline -= 0.3 + 0.05 * options.time_limit
    # Smallest parts first: they usually close at once, and what they leave of their share
    # rolls on to the big ones.
    parts = sorted(scopes(problem, options.chunk), key=lambda part: part[1])
    n_blocks = len(blocks(problem))
    total_size = sum(max(1, size) for _, size in parts) or 1
    # With one worker each part's budget is deterministic time, fixed from the options
    # alone so that the same seed gives the same plan; otherwise wall time, and what a
    # part leaves unused rolls on to the next.
    budget0 = options.time_limit * 0.85
    plan = Plan()
    bound = 0
    all_optimal = True
    fallbacks = refined = kept_previous = 0
    build_seconds = 0.0  # the parts' models: the whole problem's model, built once
    piece_build_seconds = 0.0  # the extra, smaller models of big parts' pieces
    used_hint = {"greedy": 0, "previous": 0}
    remaining_size = total_size
    for k, (scope, size) in enumerate(parts):
        size = max(1, size)
        left = max(0.01, deadline - time.monotonic())
        if options.workers == 1:
            share = budget0 * size / total_size
        else:
            share = left * 0.95 * size / max(1, remaining_size)
        remaining_size -= size
        big = size > options.chunk
        label = f"part {k + 1}/{len(parts)}"
        _report(options, f"Solving part {k + 1} of {len(parts)}", 0.05 + 0.95 * k / len(parts))
        t_part = time.monotonic()
        part_hints = named
        if options.workers > 1 and share < size / 50000:
            # Out of time (a slow machine): the part keeps its better hint as it is.
            log.info("%s: %.1fs left, keeping the hint", label, share)
            all_optimal = False
            bound += _trivial_bound(problem, scope)
            name, part_plan = _best_for_scope(problem, scope, named)
            used_hint[name] = used_hint.get(name, 0) + 1
            plan.update(part_plan)
            continue
        if big:
            # First a quick better plan from the part's pieces with team meetings held,
            # then the whole part from it (to close it, or at least to prove a bound).
            # Up to four chunks usually close whole (600 people in 7 s); far bigger ones
            # rarely finish the root LP, so their pieces get most of the time.
            pieces_share = share * (0.3 if size <= 4 * options.chunk else 0.75)
            refined_plan, built_s = _refine(
                problem, scope, named, options, pieces_share, deadline, label
            )
            piece_build_seconds += built_s
            part_hints = [*named, ("refined", refined_plan)]
            refined += 1
            if options.workers == 1:
                share -= pieces_share
            else:
                share = max(0.0, share - (time.monotonic() - t_part))
        left = max(0.01, deadline - time.monotonic())
        if big and share < size / 3000:
            # Too little time left to solve the part whole (a 45,000-literal part needs
            # some 15 s for its root LP): keep the pieces' plan, with a simple bound.
            log.info("%s: %.1fs left, too little to solve it whole", label, share)
            all_optimal = False
            bound += _trivial_bound(problem, scope)
            # The pieces' plan only if it beats the hints on this part.
            name, part_plan = _best_for_scope(problem, scope, part_hints)
            used_hint[name] = used_hint.get(name, 0) + 1
            plan.update(part_plan)
            continue
        part = _solve_scope(problem, scope, part_hints, options, share, left, label)
        if part is None:
            continue
        build_seconds += part.build_seconds
        used_hint[part.hint] = used_hint.get(part.hint, 0) + 1
        fallbacks += part.fallback
        kept_previous += part.kept
        bound += part.bound
        part_plan = part.plan
        if part.status != "optimal" or part.fallback:
            all_optimal = False
        plan.update(part_plan)
    # Windows with no slot in the horizon are short whatever the plan.
    for owners, ranges in (
        (problem.commitments, problem.commitment_ranges),
        (problem.teams, problem.team_ranges),
    ):
        for o in owners:
            for w, (lo, hi) in zip(o.windows, ranges[o.id]):
                if lo == hi:
                    bound += w.sessions * problem.weights_pence["shortfall"]
    objective = evaluate(problem, plan).objective
    status = "optimal" if all_optimal and bound >= objective else "feasible"
    info = _info(
        options,
        "cp-sat",
        n_blocks,
        parts=len(parts),
        build_seconds=round(build_seconds, 3),
        piece_build_seconds=round(piece_build_seconds, 3),
        hint_parts=used_hint,
        fallback_parts=fallbacks,
        refined_parts=refined,
        previous_kept_parts=kept_previous,
    )
    # Which commitment each session counts for: the previous one where it can stay.
    plan = attribute(problem, plan)
    solution = build_solution(
        problem, plan, status, min(bound, objective) / 100, time.monotonic() - t0, info
    )
    _report(options, f"Done ({status})", 1.0)
    return solution

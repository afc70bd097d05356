"""Solve a problem: pins checked first, a greedy (or the repaired previous plan) as a
complete hint, then CP-SAT block by block with a fair share of the time limit."""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import ortools
from ortools.sat.python import cp_model

from solver import pool
from solver.attribute import attribute
from solver.conflicts import check_pins
from solver.constraints import Built, build, hint_values, plan_from, term_value, values_reader
from solver.decompose import blocks, bundle, fairness_couples, groups, scopes
from solver.explain import build_solution
from solver.greedy import greedy, repair
from solver.model import FAIRNESS, Problem, Solution, per_thousand
from solver.plan import Plan, evaluate, fairness_term
from solver.soft_rules import _window_shortfall
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
    # Independent parts solved side by side in this many worker processes (each holding the
    # problem once, each CP-SAT given workers // processes threads); 1 solves them in turn.
    processes: int = 1
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
        if self.processes < 1:
            raise ValueError("processes must be at least 1")


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


def _fairness_floor(problem: Problem) -> int:
    """Pence the fairness term cannot go below in any plan: the worst group's unavoidable
    shortfall (windows with fewer available slots than sessions) per thousand entitled.
    When the parts are solved apart, this is added to the sum of their bounds, which leave
    the term out: the least of a sum is at least the sum of the leasts."""
    forced: dict[str, int] = {}
    avail = problem.available_idx
    for c in problem.commitments:
        a = sorted(avail[c.person])
        for win, (lo, hi) in zip(c.windows, problem.commitment_ranges[c.id]):
            n = bisect.bisect_left(a, hi) - bisect.bisect_left(a, lo)
            if win.sessions > n:
                forced[c.person] = forced.get(c.person, 0) + win.sessions - n
    groups = [
        (g, problem.group_entitled[g], sum(forced.get(p, 0) for p in members))
        for g, members in problem.group_members.items()
    ]
    return fairness_term(problem, groups)


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


@dataclass
class _Outcome:
    """What solving one part gave: its plan and proved bound (pence) and how they came about.
    Picklable: a worker process sends it back."""

    plan: Plan
    bound: int
    optimal: bool
    hint: str
    fallback: bool = False
    kept: bool = False
    refined: bool = False
    build_seconds: float = 0.0
    piece_build_seconds: float = 0.0


def _need(size: int) -> float:
    """Seconds a part of `size` literals usually needs to be proved optimal whole on one core
    (the L parts of 40,000-58,000 literals closed in 5-8 s on a quiet machine): a part is
    given at least this much of what is left, not only its share by size, since the parts
    solved before it mostly finish early."""
    return size / 5000


def _share(left: float, size: int, remaining_size: int, lanes: int) -> float:
    """Wall seconds for a part starting with `left` seconds to go: its share by size of what
    `lanes` processes have left for the parts not yet started (this one included), or what a
    part of its size needs if that is more, but never more than is left."""
    return min(left, max(left * 0.95 * lanes * size / max(1, remaining_size), _need(size)))


def _solve_part(
    problem: Problem,
    scope: Scope,
    size: int,
    named: list[tuple[str, Plan]],
    options: SolveOptions,
    share: float,
    deadline: float,
    label: str,
) -> _Outcome:
    """Solve one independent part within `share` seconds (deterministic time with one
    worker), never past `deadline`; never worse on the part than the best of `named`."""
    size = max(1, size)
    t_part = time.monotonic()
    left = max(0.01, deadline - t_part)
    if options.workers > 1 and share < size / 50000:
        # Out of time (a slow machine): the part keeps its better hint as it is.
        log.info("%s: %.1fs left, keeping the hint", label, share)
        name, part_plan = _best_for_scope(problem, scope, named)
        return _Outcome(part_plan, _trivial_bound(problem, scope), False, name)
    big = size > options.chunk
    part_hints = named
    piece_build = 0.0
    if big:
        # First a quick better plan from the part's pieces with team meetings held,
        # then the whole part from it (to close it, or at least to prove a bound).
        # Up to four chunks usually close whole (600 people in 7 s); far bigger ones
        # rarely finish the root LP, so their pieces get most of the time.
        pieces_share = share * (0.3 if size <= 4 * options.chunk else 0.75)
        refined_plan, piece_build = _refine(
            problem, scope, named, options, pieces_share, deadline, label
        )
        part_hints = [*named, ("refined", refined_plan)]
        if options.workers == 1:
            share -= pieces_share
        else:
            share = max(0.0, share - (time.monotonic() - t_part))
        left = max(0.01, deadline - time.monotonic())
    if big and min(left, share) < size / 20000:
        # Too little time left to solve the part whole: keep the pieces' plan (if it beats
        # the hints on this part), with a simple bound.
        log.info("%s: %.1fs left, too little to solve it whole", label, share)
        name, part_plan = _best_for_scope(problem, scope, part_hints)
        return _Outcome(
            part_plan, _trivial_bound(problem, scope), False, name,
            refined=big, piece_build_seconds=piece_build,
        )
    part = _solve_scope(problem, scope, part_hints, options, share, left, label)
    if part is None:  # no decision to make
        return _Outcome(Plan(), 0, True, "", refined=big, piece_build_seconds=piece_build)
    return _Outcome(
        part.plan,
        part.bound,
        part.status == "optimal" and not part.fallback,
        part.hint,
        part.fallback,
        part.kept,
        big,
        part.build_seconds,
        piece_build,
    )


def _solve_in_turn(
    problem: Problem,
    parts: list[tuple[Scope, int]],
    named: list[tuple[str, Plan]],
    options: SolveOptions,
    deadline: float,
) -> list[_Outcome]:
    """The parts one after another in this process, smallest first: they usually close at
    once, and what they leave of their share rolls on to the big ones."""
    parts = sorted(parts, key=lambda part: part[1])
    total_size = sum(max(1, size) for _, size in parts) or 1
    # With one worker each part's budget is deterministic time, fixed from the options
    # alone so that the same seed gives the same plan; otherwise wall time, and what a
    # part leaves unused rolls on to the next.
    budget0 = options.time_limit * 0.85
    remaining_size = total_size
    out = []
    for k, (scope, size) in enumerate(parts):
        size = max(1, size)
        left = max(0.01, deadline - time.monotonic())
        if options.workers == 1:
            share = budget0 * size / total_size
        else:
            share = _share(left, size, remaining_size, 1)
        remaining_size -= size
        _report(options, f"Solving part {k + 1} of {len(parts)}", 0.05 + 0.95 * k / len(parts))
        out.append(
            _solve_part(
                problem, scope, size, named, options, share, deadline,
                f"part {k + 1}/{len(parts)}",
            )
        )
    return out


def _part_job(
    problem: Problem,
    scope: Scope,
    size: int,
    named: list[tuple[str, Plan]],
    options: SolveOptions,
    lanes: int,
    remaining_size: int,
    wall_deadline: float,
    label: str,
) -> tuple[_Outcome, float]:
    """One part in a worker process (`solver.pool`): its share of what is left is worked out
    when it starts, counting the parts not yet started and the lanes solving them. Returns
    the outcome and the process's peak memory in MB."""
    deadline = time.monotonic() + (wall_deadline - time.time())
    left = max(0.01, deadline - time.monotonic())
    share = _share(left, size, remaining_size, lanes)
    outcome = _solve_part(problem, scope, size, named, options, share, deadline, label)
    return outcome, pool.peak_mb()


def _solve_side_by_side(
    problem: Problem,
    parts: list[tuple[Scope, int]],
    named: list[tuple[str, Plan]],
    options: SolveOptions,
    deadline: float,
    peaks: list[float],
) -> list[_Outcome]:
    """The parts in `options.processes` worker processes, biggest first (so that no big part
    is left to run alone at the end), each process solving with its share of the workers.
    A part whose process failed or did not answer in time keeps its best hint, with a
    simple bound."""
    lanes = min(options.processes, len(parts))
    parts = sorted(parts, key=lambda part: -part[1])
    inner = replace(
        options, workers=max(1, options.workers // lanes), processes=1, progress=None, stop=None
    )
    wall_deadline = time.time() + (deadline - time.monotonic())
    jobs = []
    remaining = sum(max(1, size) for _, size in parts)
    for k, (scope, size) in enumerate(parts):
        hints = [(name, _restrict(problem, h, scope)) for name, h in named]
        label = f"part {k + 1}/{len(parts)}"
        jobs.append((scope, max(1, size), hints, inner, lanes, remaining, wall_deadline, label))
        remaining -= max(1, size)
    done = 0

    def finished(_: int) -> None:
        nonlocal done
        done += 1
        _report(options, f"Solved {done} of {len(parts)} parts", 0.05 + 0.95 * done / len(parts))

    _report(options, f"Solving {len(parts)} parts in {lanes} processes", 0.05)
    results = pool.run(
        problem, _part_job, jobs, lanes, deadline + 5.0 + 0.02 * options.time_limit,
        options.stop, finished,
    )
    if options.stop is not None and options.stop.is_set():
        raise Stopped("stopped while solving")
    out = []
    for k, (scope, _) in enumerate(parts):
        if k in results:
            outcome, peak = results[k]
            peaks.append(peak)
            out.append(outcome)
        else:
            name, part_plan = _best_for_scope(problem, scope, named)
            out.append(_Outcome(part_plan, _trivial_bound(problem, scope), False, name))
    return out


def _even_out(
    problem: Problem,
    plan: Plan,
    parts: list[tuple[Scope, int]],
    floor: int,
    options: SolveOptions,
    deadline: float,
) -> tuple[Plan, int, int]:
    """With fairness on and the parts solved apart, lower the term part by part: the part
    holding most of the worst groups' shortfall is solved again with the term in its model
    and every other part held as planned (`Scope.fairness_held`), so its objective is the
    whole one less a constant, and its answer is kept only if the whole objective falls.
    Ends at the term's floor, when every part holding the worst groups has been tried, or at
    the deadline (`floor`: the term's least in any plan). Returns the plan, how many parts
    were solved again, and the floor, raised where the worst group's own least shortfall
    (`_least_short`) shows more of it to be unavoidable."""
    where: dict[tuple[str, int], int] = {}  # (commitment, window) -> its part
    spans: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for k, (sc, _) in enumerate(parts):
        for p in sc.people if sc.people is not None else problem.person:
            spans[p].append((sc.lo, sc.hi, k))
    for c in problem.commitments:
        for wi, (wlo, whi) in enumerate(problem.commitment_ranges[c.id]):
            for lo, hi, k in spans.get(c.person, ()):
                if wlo < whi and lo <= wlo < hi:
                    where[(c.id, wi)] = k
    tried: set[int] = set()
    current = evaluate(problem, plan)
    while current.terms[FAIRNESS] > floor and deadline - time.monotonic() > 1.0:
        worst = max(per_thousand(short, entitled) for _, entitled, short in current.groups)
        worst_groups = {
            g for g, entitled, short in current.groups if per_thousand(short, entitled) == worst
        }
        in_part: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for wc in current.windows:
            k_part = where.get((wc.owner, wc.window)) if wc.kind == "commitment" else None
            if k_part is not None and wc.short:
                for g in problem.person[problem.commitment[wc.owner].person].groups:
                    in_part[k_part][g] += wc.short
        weight = {
            k: sum(n for g, n in shorts.items() if g in worst_groups)
            for k, shorts in in_part.items()
            if k not in tried
        }
        if not any(weight.values()):
            break
        k = max(weight, key=lambda k: (weight[k], -k))
        tried.add(k)
        sc, size = parts[k]
        held = {g: short - in_part[k].get(g, 0) for g, _, short in current.groups}
        left = deadline - time.monotonic()
        _report(options, "Evening out the shortfall across groups", 0.98)
        mine = _restrict(problem, plan, sc)
        part = _solve_scope(
            problem,
            Scope(sc.lo, sc.hi, sc.people, fairness_held=held),
            [("current", mine)],
            options,
            min(left, max(5.0, 2 * _need(size))),
            left,
            f"fairness {len(tried)}",
        )
        if part is None or part.fallback:
            continue
        changed = Plan(
            {key: c for key, c in plan.sessions.items() if key not in mine.sessions},
            {key: a for key, a in plan.meetings.items() if key not in mine.meetings},
        )
        changed.update(part.plan)
        trial = evaluate(problem, changed)
        if trial.objective < current.objective:
            plan, current = changed, trial
    # A floor closer to the plan: the least the worst group can be short in any plan.
    if current.terms[FAIRNESS] > floor:
        worst = max(per_thousand(short, entitled) for _, entitled, short in current.groups)
        for g, entitled, short in current.groups:
            if per_thousand(short, entitled) == worst and deadline - time.monotonic() > 1.0:
                least = _least_short(problem, g, parts, options, deadline)
                floor = max(floor, fairness_term(problem, [(g, entitled, least)]))
    return plan, len(tried), floor


def _least_short(
    problem: Problem,
    group: str,
    parts: list[tuple[Scope, int]],
    options: SolveOptions,
    deadline: float,
) -> int:
    """Sessions `group` is short in every plan, at least: in each part, CP-SAT's proved least
    of its members' shortfall there under the hard rules (the parts are independent, so these
    add up), plus the windows with no slot in the horizon."""
    members = set(problem.group_members[group])
    total = 0
    for c in problem.commitments:
        if c.person in members:
            total += sum(
                w.sessions for w, (lo, hi) in zip(c.windows, problem.commitment_ranges[c.id])
                if lo == hi
            )
    for sc, _ in parts:
        if sc.people is not None and not members & sc.people:
            continue
        built = build(problem, sc)
        v = built.vars
        shorts = [
            _window_shortfall(v, c.id, wi, c.windows[wi].sessions)
            for c in v.commitments
            if c.person in members
            for wi, (wlo, whi) in enumerate(problem.commitment_ranges[c.id])
            if wlo < whi and wlo < sc.hi and whi > sc.lo
        ]
        fixed = sum(x for x in shorts if isinstance(x, int))
        free = [x for x in shorts if not isinstance(x, int)]
        least = sum(x.proto.domain[0] for x in free)  # each window's own certain shortfall
        left = deadline - time.monotonic()
        if free and left > 0.5:
            built.model.minimize(cp_model.LinearExpr.sum(free))
            solver = cp_model.CpSolver()
            _tune(solver.parameters, options)
            solver.parameters.max_time_in_seconds = min(left, 10.0)
            with stoppable(solver, options.stop):
                code = solver.solve(built.model)
            if status_name(code) in ("optimal", "feasible"):
                least = max(least, math.ceil(solver.best_objective_bound - 1e-6))
        total += fixed + least
    return total


def _solve_cp_sat(
    problem: Problem,
    options: SolveOptions,
    named: list[tuple[str, Plan]],
    t0: float,
    deadline: float,
) -> Solution:
    # Keep back time to explain and write the plan (a few seconds at 6,000 people).
    deadline -= 0.3 + 0.05 * options.time_limit
    parts = list(scopes(problem, options.chunk))
    n_blocks = len(blocks(problem))
    peaks: list[float] = []
    if options.processes > 1 and len(parts) > 1:
        outcomes = _solve_side_by_side(problem, parts, named, options, deadline, peaks)
    else:
        outcomes = _solve_in_turn(problem, parts, named, options, deadline)
    plan = Plan()
    bound = 0
    used_hint = {"greedy": 0, "previous": 0}
    for part in outcomes:
        plan.update(part.plan)
        bound += part.bound
        if part.hint:
            used_hint[part.hint] = used_hint.get(part.hint, 0) + 1
    all_optimal = all(part.optimal for part in outcomes)
    # Windows with no slot in the horizon are short whatever the plan.
    for owners, ranges in (
        (problem.commitments, problem.commitment_ranges),
        (problem.teams, problem.team_ranges),
    ):
        for o in owners:
            for w, (lo, hi) in zip(o.windows, ranges[o.id]):
                if lo == hi:
                    bound += w.sessions * problem.weights_pence["shortfall"]
    evened = 0
    if fairness_couples(problem) and len(parts) > 1:
        plan, evened, floor = _even_out(
            problem, plan, parts, _fairness_floor(problem), options, deadline
        )
        bound += floor
    objective = evaluate(problem, plan).objective
    status = "optimal" if all_optimal and bound >= objective else "feasible"
    info = _info(
        options,
        "cp-sat",
        n_blocks,
        parts=len(parts),
        build_seconds=round(sum(o.build_seconds for o in outcomes), 3),
        piece_build_seconds=round(sum(o.piece_build_seconds for o in outcomes), 3),
        hint_parts=used_hint,
        fallback_parts=sum(o.fallback for o in outcomes),
        refined_parts=sum(o.refined for o in outcomes),
        previous_kept_parts=sum(o.kept for o in outcomes),
    )
    if fairness_couples(problem):
        # Solved whole, or too big for that (decompose.FAIRNESS_WHOLE_LIMIT): then the parts
        # holding the worst groups are solved again with the rest held (`_even_out`), and the
        # term's unavoidable floor is in the bound.
        info["fairness"] = "optimised" if len(parts) == 1 else "evened out by part"
        if len(parts) > 1:
            info["fairness_parts"] = evened
    if options.processes > 1:
        info["processes"] = options.processes
        info["peak_mb"] = {
            "main": round(pool.peak_mb(), 1),
            "process": round(max(peaks, default=0.0), 1),
        }
    # Which commitment each session counts for: the previous one where it can stay.
    plan = attribute(problem, plan)
    solution = build_solution(
        problem, plan, status, min(bound, objective) / 100, time.monotonic() - t0, info
    )
    _report(options, f"Done ({status})", 1.0)
    return solution

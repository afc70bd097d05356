"""CP-SAT against the greedy baseline on one generated instance, in the same run.

    python -m bench.solver_bench --size M --seed 1 --time-limit 60 --workers 2

Each method runs in its own child process (peak memory is that child's ru_maxrss, which counts
OR-Tools' C++ allocations); both solutions are re-verified with `solver.check.check`, whose
recomputed objective must agree with the solver's own. Prints one table and the issue's
targets for the size; `--json` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from bench.generate import SIZES, generate
from bench.measure import Run, run_method

log = logging.getLogger(__name__)

OUT = Path(__file__).resolve().parent / "out"  # ignored by git
DEFAULT_TIME_LIMIT = {"S": 10.0, "M": 60.0, "L": 300.0}
METHODS = ("greedy", "cp-sat")
ONE_WORKER = "cp-sat, 1 worker"  # printed beside a run with --processes
AGREE_GBP = 0.01  # check's objective and the solver's, both rounded to pence


# ---- figures -------------------------------------------------------------------------------


def instance_summary(problem: dict[str, Any]) -> str:
    asked = sum(w["sessions"] for c in problem["commitments"] for w in c["windows"])
    cells = sum(len(p["available"]) for p in problem["people"])
    return (f"{len(problem['people']):,} people, {len(problem['slots'])} slots, "
            f"{len(problem['commitments']):,} commitments ({asked:,} sessions asked), "
            f"{len(problem['teams'])} teams, {len(problem['caps'])} caps, "
            f"{cells:,} person-slots available, {len(problem.get('previous', [])):,} previous")


def gap(solution: dict[str, Any]) -> Optional[float]:
    """Relative gap to the proved bound, CP-SAT's way: (obj - bound) / max(1, |obj|)."""
    obj, bound = solution.get("objective"), solution.get("bound")
    if obj is None or bound is None:
        return None
    return max(0.0, obj - bound) / max(1.0, abs(obj))


def check_solution(problem_obj: Any, solution: dict[str, Any]) -> dict[str, Any]:
    """Run the checker; say whether it holds and agrees with the solver's objective."""
    try:
        from solver.check import check
    except ImportError as exc:  # the checker is written alongside; say so rather than fail
        return {"ok": False, "violations": [f"checker unavailable: {exc}"], "n_violations": 1,
                "objective": None, "agrees": False}
    result = check(problem_obj, solution)
    obj = solution.get("objective")
    agrees = (result.objective is not None and obj is not None
              and abs(result.objective - obj) <= AGREE_GBP)
    return {"ok": bool(result.ok), "violations": list(result.violations)[:20],
            "n_violations": len(result.violations), "objective": result.objective,
            "agrees": agrees}


def figures(run: Run, checked: Optional[dict[str, Any]]) -> dict[str, Any]:
    sol = run.solution or {}
    totals = sol.get("totals", {})
    solver_info = sol.get("solver", {})
    return {
        "method": run.method,
        "status": sol.get("status", f"failed (exit {run.returncode})"),
        "solve_seconds": run.timings.get("solve_call_seconds"),
        "wall_seconds": sol.get("wall_seconds"),
        "build_seconds": solver_info.get("build_seconds"),
        "process_seconds": run.process_seconds,
        "objective": sol.get("objective"),
        "bound": sol.get("bound"),
        "gap": gap(sol) if sol else None,
        "backfill_cost": totals.get("backfill_cost"),
        "shortfall_sessions": totals.get("shortfall_sessions"),
        "absences": totals.get("absences"),
        "churn": totals.get("churn"),
        "avoided": totals.get("avoided"),
        "peak_rss_mb": run.peak_rss_mb,
        "cpu_seconds": run.cpu_seconds,
        "cpu_share": run.cpu_seconds / (run.process_seconds * _cores()) if run.process_seconds
        else None,
        "check": checked,
        "solver": solver_info,
    }


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None:
        return None
    if b == 0:
        return 1.0 if a == 0 else float("inf")
    return a / b


# ---- table ---------------------------------------------------------------------------------


def fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "–"
    if kind == "gbp":
        return f"£{value:,.2f}"
    if kind == "s":
        return f"{value:,.2f}"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "mb":
        return f"{value:,.0f} MB"
    if kind == "x":
        return "∞" if value == float("inf") else f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def check_text(c: Optional[dict[str, Any]]) -> str:
    if c is None:
        return "–"
    held = "holds" if c["ok"] else f"{c['n_violations']} violations"
    return f"{held}, {'agrees' if c['agrees'] else 'DISAGREES ' + fmt(c['objective'], 'gbp')}"


ROWS: tuple[tuple[str, str, str, bool], ...] = (
    # label, key, format, show a cp-sat/greedy ratio
    ("status", "status", "", False),
    ("solve() wall s (incl. build)", "solve_seconds", "s", True),
    ("  solver's wall_seconds", "wall_seconds", "s", False),
    ("  model build s", "build_seconds", "s", False),
    ("process wall s (+ start, parse)", "process_seconds", "s", False),
    ("  process CPU s", "cpu_seconds", "s", False),
    ("  share of the machine's cores", "cpu_share", "pct", False),
    ("objective", "objective", "gbp", True),
    ("proved bound", "bound", "gbp", False),
    ("gap to bound", "gap", "pct", False),
    ("backfill cost", "backfill_cost", "gbp", True),
    ("shortfall sessions", "shortfall_sessions", "", True),
    ("absences", "absences", "", True),
    ("churn (previous dropped)", "churn", "", False),
    ("avoided slots used", "avoided", "", False),
    ("peak memory (child RSS)", "peak_rss_mb", "mb", True),
)


def table(results: dict[str, dict[str, Any]]) -> str:
    """Greedy and CP-SAT side by side, with CP-SAT's ratio to greedy; with a one-worker run
    as well (``--processes``), that run beside them and the ratio of the two CP-SAT runs."""
    g, c = results["greedy"], results["cp-sat"]
    one = results.get(ONE_WORKER)
    w = 21 if one else 18
    head = f"{'':34}{'greedy':>{w}}{c.get('label', 'cp-sat'):>{w}}"
    if one:
        head += f"{one['label']:>{w}}"
    head += f"{'cp-sat/greedy':>16}"
    if one:
        head += f"{'cp-sat/1 worker':>17}"
    lines = [head]
    for label, key, kind, show_ratio in ROWS:
        line = f"{label:34}{fmt(g[key], kind):>{w}}{fmt(c[key], kind):>{w}}"
        if one:
            line += f"{fmt(one[key], kind):>{w}}"
        line += f"{fmt(ratio(c[key], g[key]), 'x') if show_ratio else '':>16}"
        if one:
            line += f"{fmt(ratio(c[key], one[key]), 'x') if show_ratio else '':>17}"
        lines.append(line)
    line = f"{'check (solver.check)':34}{check_text(g['check']):>{w}}{check_text(c['check']):>{w}}"
    if one:
        line += f"{check_text(one['check']):>{w}}"
    lines.append(line)
    for r in (c, one):
        peaks = (r or {}).get("solver", {}).get("peak_mb")
        if peaks:
            lines.append(f"{r['label']}: peak memory of the main process {peaks['main']:,.0f} MB,"
                         f" of the largest worker process {peaks['process']:,.0f} MB")
    return "\n".join(lines)


# ---- targets -------------------------------------------------------------------------------


def targets(size: str, results: dict[str, dict[str, Any]]) -> list[tuple[str, Optional[bool], str]]:
    """(target, met?, measured) for the issue's figures for this size."""
    g, c = results["greedy"], results["cp-sat"]
    valid = bool(c["check"] and c["check"]["ok"] and c["check"]["agrees"])
    not_worse = (c["objective"] is not None and g["objective"] is not None
                 and c["shortfall_sessions"] is not None
                 and g["shortfall_sessions"] is not None
                 and c["objective"] <= g["objective"] + AGREE_GBP
                 and c["shortfall_sessions"] <= g["shortfall_sessions"])
    out: list[tuple[str, Optional[bool], str]] = [
        ("cp-sat plan holds and check agrees", valid, check_text(c["check"])),
        ("greedy plan holds and check agrees",
         bool(g["check"] and g["check"]["ok"] and g["check"]["agrees"]), check_text(g["check"])),
    ]
    secs = c["solve_seconds"]
    if size == "S":
        out.append(("proved optimal in ≤ 10 s", c["status"] == "optimal" and secs is not None
                    and secs <= 10, f"{c['status']} in {fmt(secs, 's')} s"))
    if size in ("M", "L"):
        out.append(("objective and shortfall never worse than greedy", not_worse,
                    f"objective × {fmt(ratio(c['objective'], g['objective']), 'x')}, shortfall "
                    f"{c['shortfall_sessions']} vs {g['shortfall_sessions']}"))
    if size == "M":
        out.append(("≤ 60 s including build", secs is not None and secs <= 60,
                    f"{fmt(secs, 's')} s"))
        out.append(("gap to proved bound ≤ 2 %", c["gap"] is not None and c["gap"] <= 0.02,
                    fmt(c["gap"], "pct")))
        b = c["build_seconds"]
        out.append(("model build ≤ 5 s", None if b is None else b <= 5,
                    f"{fmt(b, 's')} s" if b is not None else "not reported by the solver"))
    if size == "L":
        out.append(("≤ 5 min", secs is not None and secs <= 300, f"{fmt(secs, 's')} s"))
        out.append(("peak memory ≤ 4 GB", c["peak_rss_mb"] <= 4096,
                    fmt(c["peak_rss_mb"], "mb")))
        out.append(("gap to proved bound ≤ 2 %", c["gap"] is not None and c["gap"] <= 0.02,
                    fmt(c["gap"], "pct")))
        # The child's peak as wait4 reports it is the largest of its process tree's peaks.
        out.append(("peak memory per process ≤ 2 GB", c["peak_rss_mb"] <= 2048,
                    fmt(c["peak_rss_mb"], "mb")))
    return out


# ---- run -----------------------------------------------------------------------------------


def run_all(problem: dict[str, Any], problem_path: Path, *, time_limit: float, workers: int,
            seed: int, methods: Sequence[str] = METHODS, processes: int = 1,
            say: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Solve with each method in a child process, check each plan; figures per method. With
    `processes` > 1, CP-SAT solves its parts in that many worker processes, and runs again
    with one worker (one process, one CP-SAT thread) for comparison."""
    from solver.io import parse_problem

    problem_obj = parse_problem(problem)
    runs: list[tuple[str, str, int, int]] = [
        (m, m, workers, processes if m == "cp-sat" else 1) for m in methods
    ]
    if processes > 1 and "cp-sat" in methods:
        runs.append((ONE_WORKER, "cp-sat", 1, 1))
    results = {}
    base = problem_path.name.removesuffix(".problem.json")
    for key, method, n_workers, n_procs in runs:
        label = key if n_procs == 1 else f"{key}, {n_procs} processes"
        say(f"… {label}: solving (time limit {time_limit:g} s, {n_workers} workers"
            f"{f', {n_procs} processes' if n_procs > 1 else ''})")
        out_path = problem_path.with_name(
            f"{base}.{key.replace(', ', '-').replace(' ', '-')}.solution.json")
        run = run_method(problem_path, method, time_limit=time_limit, workers=n_workers,
                         seed=seed, out_path=out_path, processes=n_procs)
        checked = None
        if run.ok:
            checked = check_solution(problem_obj, run.solution)
        else:
            say(f"!! {label} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        results[key] = figures(run, checked)
        results[key]["label"] = label
        results[key]["solution_path"] = str(out_path)
        say(f"   {label}: {results[key]['status']}, objective "
            f"{fmt(results[key]['objective'], 'gbp')}, {fmt(run.process_seconds, 's')} s")
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.solver_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=1, help="instance and solver seed")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per method (default: S 10, M 60, L 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1,
                        help="CP-SAT's parts in this many worker processes (each with workers /"
                             " processes threads), with a one-worker run printed beside it")
    parser.add_argument("--dense", action="store_true",
                        help="the denser variant: most people available in most slots")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    time_limit = args.time_limit or DEFAULT_TIME_LIMIT[args.size]

    OUT.mkdir(exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    problem = generate(args.size, args.seed, dense=args.dense)
    gen_seconds = time.perf_counter() - t0
    variant = f"{args.size}{'-dense' if args.dense else ''}"
    problem_path = OUT / f"{variant}-seed{args.seed}.problem.json"
    problem_path.write_text(json.dumps(problem, separators=(",", ":")))

    print(f"sel-time solver benchmark · size {variant} · seed {args.seed} · time limit "
          f"{time_limit:g} s · {args.workers} workers"
          f"{f' in {args.processes} processes' if args.processes > 1 else ''}"
          f" · {started:%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
          f"; {load_text()}; solver sources {solver_digest()}")
    print(f"instance: {instance_summary(problem)} (generated in {gen_seconds:.1f} s)")
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    results = run_all(problem, problem_path, time_limit=time_limit, workers=args.workers,
                      seed=args.seed, processes=args.processes)
    print()
    print(table(results))
    print(f"\nafter the run: {load_text()}")
    print()
    print("targets:")
    marks = {True: "met   ", False: "MISSED", None: "n/a   "}
    for target, met, measured in targets(args.size, results):
        print(f"  [{marks[met]}] {target}: {measured}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"size": args.size, "dense": args.dense, "processes": args.processes,
             "seed": args.seed, "time_limit": time_limit,
             "solver_digest": solver_digest(),
             "workers": args.workers, "started": started.isoformat(),
             "instance": instance_summary(problem), "results": results,
             "targets": targets(args.size, results)}, indent=2, default=str))
    return 0 if all(r["check"] for r in results.values()) else 1


def solver_digest() -> str:
    """A short hash of solver/*.py, to tell which state of the solver produced the figures."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "solver").glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def load_text() -> str:
    """The 1/5/15-minute load average: other work on the machine skews the timings."""
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    raise SystemExit(main())

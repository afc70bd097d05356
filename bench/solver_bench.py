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
    g, c = results["greedy"], results["cp-sat"]
    lines = [f"{'':34}{'greedy':>18}{'cp-sat':>18}{'cp-sat/greedy':>16}"]
    for label, key, kind, show_ratio in ROWS:
        r = fmt(ratio(c[key], g[key]), "x") if show_ratio else ""
        lines.append(f"{label:34}{fmt(g[key], kind):>18}{fmt(c[key], kind):>18}{r:>16}")
    lines.append(f"{'check (solver.check)':34}{check_text(g['check']):>18}"
                 f"{check_text(c['check']):>18}")
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
    return out


# ---- run -----------------------------------------------------------------------------------


def run_all(problem: dict[str, Any], problem_path: Path, *, time_limit: float, workers: int,
            seed: int, methods: Sequence[str] = METHODS,
            say: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Solve with each method in a child process, check each plan; figures per method."""
    from solver.io import parse_problem

    problem_obj = parse_problem(problem)
    results = {}
    for method in methods:
        say(f"… {method}: solving (time limit {time_limit:g} s, {workers} workers)")
        base = problem_path.name.removesuffix(".problem.json")
        out_path = problem_path.with_name(f"{base}.{method}.solution.json")
        run = run_method(problem_path, method, time_limit=time_limit, workers=workers,
                         seed=seed, out_path=out_path)
        checked = None
        if run.ok:
            checked = check_solution(problem_obj, run.solution)
        else:
            say(f"!! {method} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        results[method] = figures(run, checked)
        results[method]["solution_path"] = str(out_path)
        say(f"   {method}: {results[method]['status']}, objective "
            f"{fmt(results[method]['objective'], 'gbp')}, {fmt(run.process_seconds, 's')} s")
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.solver_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=1, help="instance and solver seed")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per method (default: S 10, M 60, L 300)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    time_limit = args.time_limit or DEFAULT_TIME_LIMIT[args.size]

    OUT.mkdir(exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    problem = generate(args.size, args.seed)
    gen_seconds = time.perf_counter() - t0
    problem_path = OUT / f"{args.size}-seed{args.seed}.problem.json"
    problem_path.write_text(json.dumps(problem, separators=(",", ":")))

    print(f"sel-time solver benchmark · size {args.size} · seed {args.seed} · time limit "
          f"{time_limit:g} s · {args.workers} workers · {started:%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
          f"; {load_text()}; solver sources {solver_digest()}")
    print(f"instance: {instance_summary(problem)} (generated in {gen_seconds:.1f} s)")
    results = run_all(problem, problem_path, time_limit=time_limit, workers=args.workers,
                      seed=args.seed)
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
            {"size": args.size, "seed": args.seed, "time_limit": time_limit,
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

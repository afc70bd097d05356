"""Run one solve in a child process and measure it from outside.

OR-Tools allocates in C++, out of sight of `tracemalloc`, so each method runs in its own
process and the parent reads that child's peak resident set from `os.wait4` (the child's own
`ru_maxrss`, the same figure `getrusage(RUSAGE_CHILDREN)` aggregates). The child writes the
spec's solution JSON plus the bench's own timings under the key `bench`.

    python -m bench.measure METHOD PROBLEM.json SOLUTION.json [--time-limit S] [--workers N]
                            [--seed N] [--people P1,P2] [--teams T1] [--previous SOL.json]
                            [--no-departments]

METHOD `incremental` runs `solver.incremental.resolve` with the touched `--people` and
`--teams`; the published plan is the problem's `previous`, or the solution `--previous`
(read before the clock starts).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """What one child process produced, measured from the parent."""

    method: str
    returncode: int
    process_seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0
    solution: Optional[dict[str, Any]] = None
    stderr: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.solution is not None


def run_method(problem_path: Path, method: str, *, time_limit: float, workers: int, seed: int,
               out_path: Optional[Path] = None, kill_after: Optional[float] = None,
               people: Sequence[str] = (), teams: Sequence[str] = (),
               previous: Optional[Path] = None, departments: bool = True,
               processes: int = 1) -> Run:
    """Solve `problem_path` with `method` in a child process; wait for it with `os.wait4` to
    read its own peak RSS. The child is killed (by its pid) after `kill_after` seconds."""
    if out_path is None:
        out_path = Path(tempfile.mkstemp(prefix=f"sol-{method}-", suffix=".json")[1])
    cmd = [sys.executable, "-m", "bench.measure", method, str(problem_path), str(out_path),
           "--time-limit", str(time_limit), "--workers", str(workers), "--seed", str(seed)]
    if people:
        cmd += ["--people", ",".join(people)]
    if teams:
        cmd += ["--teams", ",".join(teams)]
    if previous is not None:
        cmd += ["--previous", str(previous)]
    if not departments:
        cmd += ["--no-departments"]
    if processes > 1:
        cmd += ["--processes", str(processes)]
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        limit = kill_after if kill_after is not None else 3 * time_limit + 120
        timer = threading.Timer(limit, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    run = Run(method, proc.returncode, elapsed, usage.ru_maxrss / 1024.0,
              cpu_seconds=usage.ru_utime + usage.ru_stime, stderr=stderr)
    if proc.returncode == 0 and out_path.exists():
        data = json.loads(out_path.read_text())
        run.timings = data.pop("bench", {})
        run.solution = data
    return run


def child(argv: Optional[Sequence[str]] = None) -> int:
    """The child side: parse, solve once, write the solution with timings."""
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("method", choices=("cp-sat", "greedy", "incremental"))
    parser.add_argument("problem")
    parser.add_argument("output")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=1, help="cp-sat: worker processes")
    parser.add_argument("--people", default="", help="incremental: touched people, comma-separated")
    parser.add_argument("--teams", default="", help="incremental: touched teams, comma-separated")
    parser.add_argument("--previous", help="incremental: the published plan, a solution file")
    parser.add_argument("--no-departments", dest="departments", action="store_false",
                        help="incremental: leave department-mates of free people fixed")
    args = parser.parse_args(argv)

    from solver.io import load_problem, solution_to_dict
    from solver.solve import SolveOptions, solve

    t0 = time.perf_counter()
    problem = load_problem(args.problem)
    previous = None
    if args.previous:
        from solver.io import parse_solution
        from solver.reader import load_json

        previous = parse_solution(load_json(args.previous))
    t1 = time.perf_counter()
    if args.method == "incremental":
        from solver.incremental import resolve

        options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
        solution = resolve(problem, previous, people=[p for p in args.people.split(",") if p],
                           teams=[t for t in args.teams.split(",") if t], options=options,
                           departments=args.departments)
    else:
        options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed,
                               method=args.method, processes=args.processes)
        solution = solve(problem, options)
    t2 = time.perf_counter()
    data = solution_to_dict(solution)
    data["bench"] = {
        "parse_seconds": t1 - t0,
        "solve_call_seconds": t2 - t1,
        "self_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    Path(args.output).write_text(json.dumps(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(child())

"""How long `alternatives` takes for one session, on a generated instance.

    python -m bench.alternatives_bench --size M --seed 1 --sessions 1000 --teams 200

Generates the instance (`bench.generate`), takes a plan for it (the saved CP-SAT solution of
`bench.solver_bench` when there is one in bench/out/, else the greedy baseline, solved here),
loads the problem and the plan once as the command line does, then asks for the alternatives
of `--sessions` individual and `--teams` team sessions drawn at random (seeded, with
replacement) and prints p50/p90/p99/max per ask. A few allowed moves (`--verify`) are applied and
the whole plan re-checked with `solver.check.check`, to show the deltas are the real ones. Also
times one whole `python -m solver alternatives` process (interpreter start and JSON reading
included). No model is built for an ask: the figure is the rules' and the pricing's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.generate import generate

OUT = Path(__file__).resolve().parent / "out"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _plan(problem_doc: dict, problem, size: str, seed: int, method: str) -> tuple[dict, str]:
    from solver import SolveOptions, solution_to_dict, solve

    saved = OUT / f"{size}-seed{seed}.cp-sat.solution.json"
    if method == "saved" and saved.exists():
        return json.loads(saved.read_text()), f"saved CP-SAT solution {saved.name}"
    chosen = "greedy" if method == "saved" else method
    t = time.perf_counter()
    sol = solve(problem, SolveOptions(time_limit=60, workers=2, method=chosen))
    return solution_to_dict(sol), f"{chosen} solved here in {time.perf_counter() - t:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.alternatives_bench", description=__doc__)
    ap.add_argument("--size", choices=("S", "M", "L"), default="M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sessions", type=int, default=500, help="individual sessions to ask about")
    ap.add_argument("--teams", type=int, default=100, help="team sessions to ask about")
    ap.add_argument("--verify", type=int, default=10, help="allowed moves re-checked in full")
    ap.add_argument("--method", choices=("saved", "greedy", "cp-sat"), default="saved")
    args = ap.parse_args(argv)

    from solver import check, parse_problem, solution_to_dict
    from solver.alternatives import Mover
    from solver.explain import build_solution
    from solver.plan import Plan

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    problem_doc = generate(args.size, seed=args.seed)
    text = json.dumps(problem_doc)
    t = time.perf_counter()
    problem = parse_problem(json.loads(text))
    parse_s = time.perf_counter() - t
    solution, source = _plan(problem_doc, problem, args.size, args.seed, args.method)
    t = time.perf_counter()
    mover = Mover(problem, solution)
    load_s = time.perf_counter() - t
    print(f"{args.size} seed {args.seed}: {len(problem.people):,} people, "
          f"{len(problem.slots)} slots; plan: {source}, {len(solution['sessions']):,} sessions, "
          f"{len(solution['team_sessions'])} team sessions, "
          f"objective £{solution['objective']:,.2f}")
    print(f"once per command: problem parsed in {parse_s * 1000:.0f} ms, plan held as a roster in "
          f"{load_s * 1000:.0f} ms")

    rng = random.Random(args.seed)
    people_pool = [("person", s["person"], s["slot"]) for s in solution["sessions"]]
    team_pool = [("team", t["team"], t["slot"]) for t in solution["team_sessions"]]
    asks = [rng.choice(people_pool) for _ in range(args.sessions)] if people_pool else []
    asks += [rng.choice(team_pool) for _ in range(args.teams)] if team_pool else []
    times: dict[str, list[float]] = {"person": [], "team": []}
    n_alts = allowed = 0
    samples = []
    for kind, who, slot in asks:
        t = time.perf_counter()
        result = mover.for_person(who, slot) if kind == "person" else mover.for_team(who, slot)
        times[kind].append(time.perf_counter() - t)
        n_alts += len(result.alternatives)
        for a in result.alternatives:
            allowed += a.allowed
            if a.allowed and len(samples) < args.verify and rng.random() < 0.2:
                samples.append((kind, who, slot, a))
    every = times["person"] + times["team"]
    print(f"{len(every)} asks ({len(times['person'])} individual, {len(times['team'])} team): "
          f"{n_alts:,} alternatives judged, {allowed:,} allowed")
    for label, values in (("all", every), ("individual", times["person"]), ("team", times["team"])):
        if values:
            print(f"  {label:<10} p50 {_pct(values, 0.5) * 1000:7.3f} ms   p90 "
                  f"{_pct(values, 0.9) * 1000:7.3f} ms   p99 {_pct(values, 0.99) * 1000:7.3f} ms   "
                  f"max {max(values) * 1000:7.3f} ms")

    base = check(problem, solution)
    agree = 0
    idx = problem.slot_index
    for kind, who, slot, a in samples:
        sessions = {(s["person"], idx[s["slot"]]): s["commitment"] for s in solution["sessions"]}
        meetings = {(m["team"], idx[m["slot"]]): tuple(m["attendees"])
                    for m in solution["team_sessions"]}
        if kind == "person":
            sessions[(who, idx[a.slot])] = sessions.pop((who, idx[slot]))
        else:
            meetings.pop((who, idx[slot]))
            meetings[(who, idx[a.slot])] = a.attendees
        moved = solution_to_dict(
            build_solution(problem, Plan(sessions, meetings), "feasible", None, 0.0, {})
        )
        after = check(problem, moved)
        agree += after.ok and abs(after.objective - base.objective - a.objective_delta) <= 0.011
    print(f"re-checked {len(samples)} allowed moves in full: {agree} hold and their delta is "
          f"check's objective difference")

    with tempfile.TemporaryDirectory() as tmp:
        pf, sf = Path(tmp) / "p.json", Path(tmp) / "s.json"
        pf.write_text(text)
        sf.write_text(json.dumps(solution))
        kind, who, slot = asks[0]
        flag = "--person" if kind == "person" else "--team"
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "solver", "alternatives", str(pf), str(sf), flag, who,
             "--slot", slot],
            capture_output=True, text=True, check=False,
        )
        print(f"one whole `python -m solver alternatives` process: "
              f"{time.perf_counter() - t:.2f} s, exit {proc.returncode}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
